//! Randomised schedules (shuttle) for budget scenarios too large for loom's
//! exhaustive search: eight async gets at once, polled, cancelled, granted
//! and closed in random order.
//!
//! Run with (see `docs/design.md`, "How the concurrency is verified"):
//! `RUSTFLAGS="--cfg shuttle" cargo test -p mempool --release --features async --test shuttle_budget`
//! (`SHUTTLE_ITERATIONS`, default 20,000, sets the number of schedules).
//!
//! The crate is built with std's primitives here, so shuttle switches tasks
//! only at their awaits and yields: it explores the order of polls, wake-ups,
//! cancellations and drops (the logic of the waiter queue), not the memory
//! orderings inside the budget, which `tests/loom_budget.rs` checks.
#![cfg(all(shuttle, feature = "async"))]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::task::Poll;

use mempool::{BufferPool, PoolError};
use shuttle::future::{block_on, spawn, yield_now};
use shuttle::rand::{Rng, thread_rng};

const TASKS: usize = 8;
const LIMIT: u64 = 256;

fn iterations() -> usize {
    std::env::var("SHUTTLE_ITERATIONS").map_or(20_000, |n| n.parse().unwrap())
}

/// Polls `future` once, with the calling task's waker.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

/// Eight tasks each make three async gets of 64 or 128 bytes against a
/// 256-byte budget. A get that must wait is cancelled (dropped) at random,
/// before or after a few yields; one that completes holds its buffer for a
/// few yields. Sometimes a ninth task closes the pool midway. Checked: the
/// budget is never exceeded, every get ends `Ok` or `Closed`, every
/// cancellation of a queued get is counted once, and at the end nothing is
/// in use or waiting and everything is free.
#[test]
fn async_gets_cancelled_granted_and_closed_at_random() {
    shuttle::check_random(
        || {
            block_on(async {
                let pool = Arc::new(
                    BufferPool::builder()
                        .bucket_sizes([64])
                        .thread_cache_bytes(0)
                        .memory_budget(LIMIT)
                        .build()
                        .unwrap(),
                );
                let held = Arc::new(AtomicU64::new(0));
                let cancelled = Arc::new(AtomicU64::new(0));
                let close = thread_rng().gen_bool(0.25);
                let mut tasks = Vec::new();
                for _ in 0..TASKS {
                    let (pool, held, cancelled) =
                        (Arc::clone(&pool), Arc::clone(&held), Arc::clone(&cancelled));
                    tasks.push(spawn(async move {
                        for _ in 0..3 {
                            let size = if thread_rng().gen_bool(0.5) { 64 } else { 128 };
                            let mut future = pool.get_async(size);
                            let result = match poll_once(&mut future).await {
                                Poll::Ready(result) => result,
                                Poll::Pending if thread_rng().gen_bool(0.4) => {
                                    for _ in 0..thread_rng().gen_range(0..3) {
                                        yield_now().await;
                                    }
                                    // Cancelled, possibly after its grant.
                                    drop(future);
                                    cancelled.fetch_add(1, SeqCst);
                                    continue;
                                }
                                Poll::Pending => future.await,
                            };
                            match result {
                                Ok(buf) => {
                                    let now = held.fetch_add(buf.capacity() as u64, SeqCst)
                                        + buf.capacity() as u64;
                                    assert!(now <= LIMIT, "{now} bytes out of {LIMIT}");
                                    for _ in 0..thread_rng().gen_range(0..3) {
                                        yield_now().await;
                                    }
                                    held.fetch_sub(buf.capacity() as u64, SeqCst);
                                    drop(buf);
                                }
                                Err(error) => assert_eq!(error, PoolError::Closed),
                            }
                        }
                    }));
                }
                if close {
                    let pool = Arc::clone(&pool);
                    tasks.push(spawn(async move {
                        for _ in 0..thread_rng().gen_range(0..10) {
                            yield_now().await;
                        }
                        pool.close();
                    }));
                }
                for task in tasks {
                    task.await.unwrap();
                }
                let budget = pool.stats().budget.unwrap();
                assert_eq!((budget.in_use, budget.available), (0, LIMIT), "{budget:?}");
                assert_eq!(budget.waiting, 0, "{budget:?}");
                assert_eq!(budget.cancelled_total, cancelled.load(SeqCst), "{budget:?}");
                assert_eq!(budget.closed, close);
            });
        },
        iterations(),
    );
}
