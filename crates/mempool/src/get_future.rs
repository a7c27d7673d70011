//! `GetBuffer`: the future of `BufferPool::get_async`, which waits for the
//! memory budget without blocking a thread.
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

impl BufferPool {
    /// Takes a buffer of `size` bytes, all zero, waiting without blocking the
    /// thread for the [memory budget](crate::BufferPoolBuilder::memory_budget)
    /// to have room for it.
    ///
    /// The wait is first come, first served together with the blocking gets.
    /// It is cancellation-safe: dropping the future before it completes
    /// removes it from the queue and refunds any bytes granted to it, so the
    /// budget stays exact under `select!` or a runtime's timeout. Without a
    /// budget the future is ready at its first poll.
    ///
    /// Works with any executor; it uses only `std::task::Waker`.
    ///
    /// # Errors
    ///
    /// The future resolves to the errors of
    /// [`get_timeout`](Self::get_timeout), except `Timeout`: wrap it in your
    /// runtime's timeout for that.
    ///
    /// # Examples
    ///
    /// ```
    /// # async fn demo() -> Result<(), mempool::PoolError> {
    /// let pool = mempool::BufferPool::builder().memory_budget(1 << 20).build().unwrap();
    /// let buf = pool.get_async(4000).await?;
    /// assert_eq!(buf.len(), 4000);
    /// # Ok(())
    /// # }
    /// # let waker = std::task::Waker::noop();
    /// # let mut cx = std::task::Context::from_waker(&waker);
    /// # let mut future = std::pin::pin!(demo());
    /// # assert!(matches!(future.as_mut().poll(&mut cx), std::task::Poll::Ready(Ok(()))));
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    #[track_caller]
    pub fn get_async(&self, size: usize) -> GetBuffer<'_> {
        GetBuffer {
            pool: self,
            size,
            location: Location::caller(),
            state: State::Start,
        }
    }
}

/// The future returned by [`BufferPool::get_async`].
///
/// It is `Unpin` and cancellation-safe: dropping it before completion leaves
/// the budget as if it had never been created.
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct GetBuffer<'p> {
    pool: &'p BufferPool,
    size: usize,
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

impl<'p> Future for GetBuffer<'p> {
    type Output = Result<PooledBuf<'p>, PoolError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let pool = this.pool;
        let charge = match std::mem::replace(&mut this.state, State::Done) {
            State::Start => {
                let Some(budget) = &pool.shared.budget else {
                    return Poll::Ready(pool.take_at(this.size, this.location));
                };
                let bytes = match pool.charge_for(this.size) {
                    Ok(bytes) => bytes,
                    Err(error) => return Poll::Ready(Err(error)),
                };
                match budget.admit_or_queue(bytes, || Wake::Task(cx.waker().clone())) {
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
            State::Done => panic!("mempool: GetBuffer polled after it completed"),
        };
        Poll::Ready(pool.hand_out(charge, this.size, this.location))
    }
}
