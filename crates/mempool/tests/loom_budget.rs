//! loom models of the memory budget: the one-word fast path, the locked slow
//! path and its FIFO queue of waiters.
//!
//! Run with (see `docs/design.md`, "How the concurrency is verified"):
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test -p mempool --release --features bytes,async --test loom_budget`
//!
//! Every model ends with the budget exact: nothing in use, everything free,
//! nobody waiting.
#![cfg(loom)]

use std::sync::Arc;
use std::time::Duration;

use loom::sync::Mutex;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;
use mempool::{BudgetEvent, BufferPool, PoolError};

mod loom_support;
use loom_support::Sent;

/// A pool of one 64-byte bucket (a get of 128 bytes is oversized, charged
/// 128) with a budget of `limit` bytes. No retention and no thread cache:
/// the budget is all these models look at.
fn pool(limit: u64) -> Arc<BufferPool> {
    builder(limit).build().unwrap().into()
}

fn builder(limit: u64) -> mempool::BufferPoolBuilder {
    BufferPool::builder()
        .bucket_sizes([64])
        .max_idle_per_bucket(0)
        .thread_cache_bytes(0)
        .memory_budget(limit)
}

/// The budget is back to where it started.
fn assert_exact(pool: &BufferPool) {
    let budget = pool.stats().budget.unwrap();
    assert_eq!(budget.in_use, 0, "{budget:?}");
    assert_eq!(budget.available, budget.limit, "{budget:?}");
    assert_eq!(budget.waiting, 0, "{budget:?}");
}

/// Gets and drops on the fast word race lock holders on two other threads
/// (`is_closed()`, and whichever get does not fit, which takes the lock to
/// fail). The fast path must fail while a holder owns the count, and each
/// holder must publish the count before the next one reads it: the mutex's
/// happens-before between `Locked::drop`'s store and the next holder's
/// `fetch_or`.
#[test]
fn fast_word_races_the_locked_slow_path() {
    loom::model(|| {
        let pool = pool(128);
        let fast = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || drop(pool.try_get(64)))
        };
        let locked = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || drop(pool.try_get(128)))
        };
        assert!(!pool.is_closed());
        fast.join().unwrap();
        locked.join().unwrap();
        assert_exact(&pool);
    });
}

/// A blocking get that finds the budget spent is woken by a drop on another
/// thread, whichever side of its queueing the drop lands on (no lost
/// wake-up: loom reports a deadlock if the waiter parks for ever).
#[test]
fn a_drop_wakes_the_waiter_it_makes_room_for() {
    loom::model(|| {
        let pool = pool(64);
        let held = Sent::new(&pool, pool.get(64));
        let waiter = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || drop(pool.get(64)))
        };
        let dropper = thread::spawn(move || held.drop_now());
        dropper.join().unwrap();
        waiter.join().unwrap();
        assert_exact(&pool);
    });
}

/// `close()` races a waiting get and the drop that would grant it: the get
/// either got its bytes before the close, or fails with `Closed`; nothing is
/// lost either way, and no get succeeds after `close` returned.
#[test]
fn close_races_a_waiter_and_a_drop() {
    loom::model(|| {
        let pool = pool(64);
        let held = Sent::new(&pool, pool.get(64));
        let waiter = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || match pool.get_timeout(64, Duration::MAX) {
                Ok(buf) => drop(buf),
                Err(error) => assert_eq!(error, PoolError::Closed),
            })
        };
        let dropper = thread::spawn(move || held.drop_now());
        pool.close();
        assert_eq!(pool.try_get(64).unwrap_err(), PoolError::Closed);
        dropper.join().unwrap();
        waiter.join().unwrap();
        assert_exact(&pool);
    });
}

/// An async get is polled once, queues, and is dropped (cancelled) while a
/// drop on another thread grants it its bytes: whichever wins, the bytes
/// are refunded exactly once, and a cancellation is counted only if it
/// queued.
#[test]
fn a_cancelled_async_get_races_its_grant() {
    loom::model(|| {
        let pool = pool(64);
        let held = Sent::new(&pool, pool.get(64));
        let cancelled = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || {
                let mut future = std::pin::pin!(pool.get_async(64));
                let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
                // Ready when the drop came first; dropped either way.
                future.as_mut().poll(&mut cx).is_pending()
            })
        };
        let dropper = thread::spawn(move || held.drop_now());
        dropper.join().unwrap();
        let queued = cancelled.join().unwrap();
        assert_exact(&pool);
        let budget = pool.stats().budget.unwrap();
        assert_eq!(budget.cancelled_total, u64::from(queued), "{budget:?}");
        // The budget still works: the whole of it can be taken again.
        drop(pool.try_get(64).unwrap());
    });
}

/// First come, first served: a large get queued first is not overtaken by a
/// smaller one queued after it, even when bytes for the small one come back
/// first, nor by a `try_get` (no barging); the bytes go to the head of the
/// line.
#[test]
fn queued_gets_are_served_in_order() {
    loom::model(|| {
        // The hook counts the gets that queued (a blocking get reports
        // `Exhausted` once it is in the queue), so that the second waiter
        // starts after the first has queued.
        let queued = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&queued);
        let pool: Arc<BufferPool> = builder(128)
            .on_budget_event(move |event| {
                if let BudgetEvent::Exhausted { .. } = event {
                    count.fetch_add(1, SeqCst);
                }
            })
            .build()
            .unwrap()
            .into();
        let a = pool.get(64);
        let b = pool.get(64);
        let order = Arc::new(Mutex::new(Vec::new()));
        let waiter = |size: usize| {
            let (shared, order) = (Arc::clone(&pool), Arc::clone(&order));
            let before = queued.load(SeqCst);
            let thread = thread::spawn(move || {
                let buf = shared.get(size);
                order.lock().unwrap().push(size);
                drop(buf);
            });
            while queued.load(SeqCst) == before {
                thread::yield_now();
            }
            thread
        };
        let large = waiter(128);
        let small = waiter(64);
        drop(a);
        // 64 bytes are free, but the large get is at the head of the line.
        assert!(matches!(pool.try_get(64), Err(PoolError::Exhausted { .. })));
        drop(b);
        large.join().unwrap();
        small.join().unwrap();
        assert_eq!(*order.lock().unwrap(), [128, 64]);
        assert_exact(&pool);
    });
}
