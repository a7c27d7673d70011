//! loom models of the retention permits that keep a bucket's idle bound
//! across its shared queue and every thread cache.
//!
//! Run with (see `docs/design.md`, "How the concurrency is verified"):
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p mempool --release --features bytes,async --test loom_permits`
//!
//! Written against the public API only, so that it holds whatever the thread
//! cache looks like inside. The bound is read back at the end: after every
//! thread has gone and the caller's cache is flushed, the pool keeps exactly
//! `max_idle` of `max_idle + 1` returned buffers. A permit made shows as one
//! buffer too many kept, a permit lost as one too few.
#![cfg(loom)]

use std::sync::Arc;

use loom::thread;
use mempool::BufferPool;

mod loom_support;
use loom_support::Sent;

const SIZE: usize = 64;
const MAX_IDLE: usize = 3;

/// One bucket that keeps at most three idle buffers, and a thread cache of
/// two: three buffers in hand make a cache spill to the shared queue, and an
/// empty cache refills from it.
fn pool() -> Arc<BufferPool> {
    Arc::new(
        BufferPool::builder()
            .bucket_sizes([SIZE])
            .max_idle_per_bucket(MAX_IDLE)
            .thread_cache_bytes(2 * SIZE)
            .build()
            .unwrap(),
    )
}

/// Exactly `MAX_IDLE` permits exist once every other thread has gone:
/// `trim` empties the caller's cache and the shared queue, and then of
/// `MAX_IDLE + 1` buffers returned, `MAX_IDLE` are kept (the next trim frees
/// them) and one is discarded.
///
/// loom's `join` returns before the joined thread's thread-locals are
/// destroyed (std's waits for them), so a thread cache may still hold its
/// permits for a while: until then the count comes up short, and the check
/// yields and looks again. A permit made fails at once; a permit lost never
/// comes back, and loom fails the model for running without end.
fn assert_permits_conserved(pool: &BufferPool) {
    loop {
        pool.trim();
        drop((0..=MAX_IDLE).map(|_| pool.get(SIZE)).collect::<Vec<_>>());
        let kept = pool.trim() as usize / SIZE;
        assert!(kept <= MAX_IDLE, "a permit was made: {:?}", pool.stats());
        if kept == MAX_IDLE {
            break;
        }
        thread::yield_now();
    }
    assert_eq!(pool.stats().in_use, 0);
}

/// Three buffers in hand, returned: the third finds the cache full, spills
/// the oldest to the shared queue and takes a permit for itself (or is
/// discarded); then a get from the cache, whose guard is handed back to the
/// caller, so that the cache is left with a buffer and a spare permit.
fn churn(pool: &Arc<BufferPool>) -> Sent {
    let held: Vec<_> = (0..3).map(|_| pool.get(SIZE)).collect();
    drop(held);
    Sent::new(pool, pool.get(SIZE))
}

/// Two threads get, drop, spill and refill through their caches; one exits
/// with a cached buffer and a spare permit (its cache hands them to the
/// shared queue and the bucket), and both the other and the caller trim
/// meanwhile.
#[test]
fn caches_spill_refill_and_exit_while_trim_runs() {
    loom::model(|| {
        let pool = pool();
        let exiting = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || churn(&pool))
        };
        let staying = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || {
                // An empty cache refills from the shared queue.
                drop(pool.get(SIZE));
                pool.trim();
            })
        };
        pool.trim();
        exiting.join().unwrap().drop_now();
        staying.join().unwrap();
        assert_permits_conserved(&pool);
    });
}

/// A buffer taken on one thread is returned on another, whose cache has no
/// permit for it and must take one from the bucket (or discard it), while a
/// third thread churns and exits with a cached buffer and a spare permit.
#[test]
fn a_buffer_returned_on_another_thread_takes_a_permit() {
    loom::model(|| {
        let pool = pool();
        let sent = Sent::new(&pool, pool.get(SIZE));
        let receiver = thread::spawn(move || sent.drop_now());
        let exiting = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || churn(&pool))
        };
        drop(pool.get(SIZE));
        receiver.join().unwrap();
        exiting.join().unwrap().drop_now();
        assert_permits_conserved(&pool);
    });
}
