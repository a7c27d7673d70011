//! `GetAsync`: the future of `BufferPool::get_async`, which waits for the memory budget without blocking a thread.
//!
//! It needs no runtime: it queues a `Waker` in the budget's FIFO queue, and a
//! guard drop that frees enough bytes wakes it. Dropping the future at any
//! point leaves the queue and refunds bytes granted to it but not yet turned
//! into a guard, so it can sit in a `select!` or under a timeout.

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::budget::{Admission, Waiter, Wake};
use crate::error::PoolError;
use crate::pool::BufferPool;
use crate::pooled_buf::PooledBuf;

/// The future returned by [`BufferPool::get_async`].
///
/// It is `Unpin` and cancellation-safe: dropping it before completion leaves
/// the budget as if it had never been created.
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct GetAsync<'p> {
    pool: &'p BufferPool,
    size: usize,
    /// The bucket of `size`, routed once.
    class: u8,
    /// Where `get_async` was called, for leak tracking.
    location: &'static Location<'static>,
    state: State<'p>,
}

#[derive(Debug)]
enum State<'p> {
    /// Not polled yet.
    Start,
    /// In the budget's queue; dropping the waiter cancels.
    Queued(Waiter<'p>),
    /// Resolved, or panicked while polled.
    Done,
}

impl<'p> GetAsync<'p> {
    pub(crate) fn new(
        pool: &'p BufferPool,
        size: usize,
        location: &'static Location<'static>,
    ) -> Self {
        Self {
            pool,
            size,
            class: pool.route(size),
            location,
            state: State::Start,
        }
    }
}

impl<'p> Future for GetAsync<'p> {
    type Output = Result<PooledBuf<'p>, PoolError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let pool = this.pool;
        let charge = match std::mem::replace(&mut this.state, State::Done) {
            State::Start => {
                let class = this.class;
                let Some(budget) = &pool.budget else {
                    return Poll::Ready(pool.hand_out(this.size, class, this.location));
                };
                let bytes = match pool.charge_for(this.size, class) {
                    Ok(bytes) => bytes,
                    Err(error) => return Poll::Ready(Err(error)),
                };
                match budget.charge_or_queue(bytes, || Wake::Task(cx.waker().clone())) {
                    Err(error) => return Poll::Ready(Err(error)),
                    Ok(Admission::Ready(charge)) => charge,
                    Ok(Admission::Queued(waiter)) => {
                        this.state = State::Queued(waiter);
                        return Poll::Pending;
                    }
                }
            }
            State::Queued(mut waiter) => match waiter.check(Some(cx.waker())) {
                None => {
                    this.state = State::Queued(waiter);
                    return Poll::Pending;
                }
                Some(Err(error)) => return Poll::Ready(Err(error)),
                Some(Ok(charge)) => charge,
            },
            State::Done => panic!("mempool: GetAsync polled after it completed"),
        };
        Poll::Ready(pool.hand_out_charged(charge, this.size, this.class, this.location))
    }
}
