//! The memory budget: exact accounting, FIFO waiting, timeouts, close, panics,
//! trimming, and a cross-thread stress run that checks every byte.
//!
//! In the spirit of Kafka's `BufferPoolTest` (blocking, timeouts, fairness,
//! close) and `GarbageCollectedMemoryPoolTest` (exact accounting, a request
//! above the whole pool fails at once). Timing bounds are real but generous:
//! the test machine is a noisy shared box. `MEMPOOL_STRESS_ITERS` scales the
//! stress test down (for valgrind) or up.

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use mempool::{BudgetEvent, BudgetStats, BufferPool, BuildError, PoolError, WaitOutcome};
use mempool_test_support::{fill_pattern, pattern, wait_until};

/// How late a wake-up or a deadline may be on a loaded machine.
const LATE: Duration = Duration::from_millis(200);

fn budget(pool: &BufferPool) -> BudgetStats {
    pool.stats().budget.expect("the pool has a budget")
}

fn waiting(pool: &BufferPool) -> u64 {
    budget(pool).waiting
}

/// Buckets of 10 and 100 bytes, a budget of `limit` bytes.
fn small_pool(limit: u64) -> BufferPool {
    BufferPool::builder()
        .bucket_sizes([10, 100])
        .max_buffer_size(1 << 20)
        .memory_budget(limit)
        .build()
        .unwrap()
}

#[test]
fn accounting_is_exact_across_get_drop_reuse_trim_and_close() {
    let pool = BufferPool::builder()
        .bucket_sizes([512, 4096])
        .max_buffer_size(1 << 20)
        .memory_budget(100_000)
        .build()
        .unwrap();
    let fresh = budget(&pool);
    assert_eq!(
        (fresh.limit, fresh.in_use, fresh.available),
        (100_000, 0, 100_000)
    );

    // Charges are capacities: 512, 4096, and 10,000 for an oversized get.
    let a = pool.get(1);
    let b = pool.try_get(4000).unwrap();
    let c = pool.get_timeout(10_000, Duration::from_secs(1)).unwrap();
    assert!(c.is_oversized());
    let figures = budget(&pool);
    assert_eq!(figures.in_use, 512 + 4096 + 10_000);
    assert_eq!(figures.available, 100_000 - (512 + 4096 + 10_000));
    assert_eq!(figures.peak_in_use, 512 + 4096 + 10_000);

    drop(b);
    assert_eq!(budget(&pool).in_use, 512 + 10_000);
    drop(c);
    assert_eq!(budget(&pool).in_use, 512);

    // Reuse charges again, and the refund is exact once more.
    let again = pool.get(3000);
    assert_eq!(pool.stats().hits, 1);
    assert_eq!(budget(&pool).in_use, 512 + 4096);
    drop(again);

    // Trimming idle buffers does not touch the budget: it counts guards only.
    assert_eq!(pool.trim(), 4096);
    assert_eq!(budget(&pool).in_use, 512);

    pool.close();
    assert_eq!(pool.try_get(1).unwrap_err(), PoolError::Closed);
    drop(a);
    let closed = budget(&pool);
    assert_eq!(
        (closed.in_use, closed.available, closed.waiting),
        (0, 100_000, 0)
    );
    assert!(closed.closed);
    assert_eq!(closed.peak_in_use, 512 + 4096 + 10_000);
    assert_eq!(pool.stats().in_use, 0);
}

#[test]
fn a_tiny_budget_allows_exactly_two_at_a_time() {
    let pool = small_pool(21);
    let first = pool.try_get(10).unwrap();
    let second = pool.try_get(7).unwrap();
    assert_eq!(
        pool.try_get(1).unwrap_err(),
        PoolError::Exhausted {
            requested: 10,
            available: 1,
            budget: 21
        }
    );
    drop(first);
    let third = pool.try_get(10).unwrap();
    drop((second, third));

    // The same bound under contention from six threads.
    let holders = AtomicUsize::new(0);
    let most = AtomicUsize::new(0);
    thread::scope(|scope| {
        for _ in 0..6 {
            scope.spawn(|| {
                for _ in 0..40 {
                    let buf = pool.get(10);
                    let now = holders.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    thread::sleep(Duration::from_micros(500));
                    holders.fetch_sub(1, Ordering::SeqCst);
                    drop(buf);
                }
            });
        }
    });
    assert_eq!(most.load(Ordering::SeqCst), 2);
    let figures = budget(&pool);
    assert_eq!(
        (figures.in_use, figures.peak_in_use, figures.waiting),
        (0, 20, 0)
    );
    assert!(figures.waits_total > 0);
}

#[test]
fn a_request_above_the_whole_budget_fails_at_once() {
    let pool = small_pool(50);
    let expected = PoolError::ExceedsBudget {
        requested: 100,
        budget: 50,
    };
    assert_eq!(pool.try_get(11).unwrap_err(), expected);
    let start = Instant::now();
    assert_eq!(
        pool.get_timeout(11, Duration::from_secs(30)).unwrap_err(),
        expected
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    // Oversized requests charge their size; too large still wins over the budget.
    assert_eq!(
        pool.try_get(101).unwrap_err(),
        PoolError::ExceedsBudget {
            requested: 101,
            budget: 50
        }
    );
    assert!(matches!(
        pool.try_get(2 << 20).unwrap_err(),
        PoolError::TooLarge { .. }
    ));
    let panic = catch_unwind(AssertUnwindSafe(|| drop(pool.get(11)))).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("whole memory budget"), "{message}");
    let figures = budget(&pool);
    assert_eq!(
        (figures.in_use, figures.waits_total, figures.waiting),
        (0, 0, 0)
    );
}

#[test]
fn budgets_above_4_gib_are_counted_in_u64() {
    let limit = (5u64 << 30) + 7;
    let pool = BufferPool::builder()
        .bucket_sizes([1 << 20])
        .memory_budget(limit)
        .build()
        .unwrap();
    assert_eq!(pool.memory_budget(), Some(limit));
    let held: Vec<_> = (0..3).map(|_| pool.get(1)).collect();
    let figures = budget(&pool);
    assert_eq!(figures.limit, limit);
    assert_eq!(figures.available, limit - 3 * (1 << 20));
    drop(held);
    assert_eq!(budget(&pool).available, limit);
    // Up to 2^63 - 1 bytes: the top bit of the count is a flag.
    let largest = u64::MAX >> 1;
    let unbounded = BufferPool::builder()
        .memory_budget(largest)
        .build()
        .unwrap();
    let held = unbounded.get(100);
    assert_eq!(budget(&unbounded).available, largest - 512);
    drop(held);
    assert_eq!(budget(&unbounded).available, largest);
    assert_eq!(
        BufferPool::builder()
            .memory_budget(u64::MAX)
            .build()
            .unwrap_err(),
        BuildError::BudgetTooLarge {
            budget: u64::MAX,
            max: largest
        }
    );
}

#[test]
fn a_waiter_wakes_promptly_when_a_guard_drops() {
    let pool = small_pool(10);
    let held = pool.get(10);
    let (woke_tx, woke_rx) = mpsc::channel();
    thread::scope(|scope| {
        scope.spawn(|| {
            let buf = pool.get_timeout(10, Duration::from_secs(30)).unwrap();
            woke_tx.send(Instant::now()).unwrap();
            drop(buf);
        });
        wait_until("the waiter to queue", || waiting(&pool) == 1);
        let dropped = Instant::now();
        drop(held);
        let woke = woke_rx.recv().unwrap();
        let delay = woke.duration_since(dropped);
        assert!(delay < LATE, "woke {delay:?} after the drop");
    });
    let figures = budget(&pool);
    assert_eq!(
        (figures.in_use, figures.waiting, figures.waits_total),
        (0, 0, 1)
    );
    assert!(figures.wait_time_total > Duration::ZERO);
}

#[test]
fn the_deadline_is_never_early_and_late_by_a_small_bound() {
    let pool = small_pool(10);
    let _held = pool.get(10);
    for timeout in [1, 20, 100, 250].map(Duration::from_millis) {
        let start = Instant::now();
        let error = pool.get_timeout(1, timeout).unwrap_err();
        let took = start.elapsed();
        assert_eq!(
            error,
            PoolError::Timeout {
                requested: 10,
                timeout
            }
        );
        assert!(took >= timeout, "gave up early: {took:?} < {timeout:?}");
        assert!(
            took < timeout + LATE,
            "gave up late: {took:?} for {timeout:?}"
        );
    }
    let figures = budget(&pool);
    assert_eq!(
        (figures.waiting, figures.timeouts_total, figures.waits_total),
        (0, 4, 4)
    );
    assert_eq!(figures.in_use, 10);
    assert!(figures.wait_time_total >= Duration::from_millis(371));
}

#[test]
fn waiters_are_served_in_arrival_order() {
    let pool = small_pool(100);
    let held: Vec<_> = (0..10).map(|_| pool.get(10)).collect();
    let order = Mutex::new(Vec::new());
    thread::scope(|scope| {
        // Queue five waiters, one after another. Each charges the whole
        // budget (bucket 100), so they are served strictly one at a time and
        // the order they record is the order they were granted in.
        for (rank, size) in [100, 11, 60, 99, 100].into_iter().enumerate() {
            let (pool, order) = (&pool, &order);
            scope.spawn(move || {
                let buf = pool.get(size);
                order.lock().unwrap().push(rank);
                drop(buf);
            });
            wait_until("the waiter to queue", || waiting(pool) == rank as u64 + 1);
        }
        drop(held);
    });
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
    assert_eq!(budget(&pool).in_use, 0);
}

#[test]
fn one_drop_wakes_every_waiter_it_makes_room_for() {
    // More waiters than a refund wakes per lock round (four), all freed by one drop.
    let pool = small_pool(100);
    let big = pool.get(100);
    let served = AtomicUsize::new(0);
    thread::scope(|scope| {
        for rank in 0..10u64 {
            let (pool, served) = (&pool, &served);
            scope.spawn(move || {
                let buf = pool.get_timeout(10, Duration::from_secs(30)).unwrap();
                served.fetch_add(1, Ordering::SeqCst);
                // Hold on until all ten are in: only one drop fed them.
                wait_until("all ten to be served", || {
                    served.load(Ordering::SeqCst) == 10
                });
                drop(buf);
            });
            wait_until("the waiter to queue", || waiting(pool) == rank + 1);
        }
        drop(big);
    });
    let figures = budget(&pool);
    assert_eq!(
        (figures.in_use, figures.waiting, figures.peak_in_use),
        (0, 0, 100)
    );
}

#[test]
fn a_large_waiter_at_the_head_is_not_overtaken_by_small_ones() {
    let pool = small_pool(100);
    let mut held: Vec<_> = (0..10).map(|_| pool.get(10)).collect();
    thread::scope(|scope| {
        let large = scope.spawn(|| pool.get_timeout(100, Duration::from_secs(30)).map(drop));
        wait_until("the large waiter to queue", || waiting(&pool) == 1);
        // 30 bytes come free, but they are the large waiter's to collect.
        held.truncate(7);
        assert_eq!(budget(&pool).available, 30);
        let small = pool
            .get_timeout(10, Duration::from_millis(100))
            .unwrap_err();
        assert!(matches!(small, PoolError::Timeout { .. }));
        assert!(matches!(
            pool.try_get(10).unwrap_err(),
            PoolError::Exhausted { available: 30, .. }
        ));
        held.clear();
        large.join().unwrap().unwrap();
    });
    let figures = budget(&pool);
    assert_eq!(
        (figures.in_use, figures.waiting, figures.exhausted_total),
        (0, 0, 3)
    );
}

#[test]
fn a_timed_out_head_unblocks_the_waiters_behind_it() {
    let pool = small_pool(100);
    let held: Vec<_> = (0..5).map(|_| pool.get(10)).collect();
    // 50 bytes free, but the 100-byte head cannot fit until it times out.
    thread::scope(|scope| {
        let head = scope.spawn(|| pool.get_timeout(100, Duration::from_millis(300)));
        wait_until("the head to queue", || waiting(&pool) == 1);
        let behind = scope.spawn(|| {
            let buf = pool.get_timeout(10, Duration::from_secs(30)).unwrap();
            let served = Instant::now();
            drop(buf);
            served
        });
        wait_until("the small waiter to queue behind", || waiting(&pool) == 2);
        let head_result = head.join().unwrap();
        let head_gone = Instant::now();
        assert!(matches!(head_result, Err(PoolError::Timeout { .. })));
        let served = behind.join().unwrap();
        assert!(served.saturating_duration_since(head_gone) < LATE);
    });
    drop(held);
    let figures = budget(&pool);
    assert_eq!(
        (figures.in_use, figures.waiting, figures.timeouts_total),
        (0, 0, 1)
    );
}

#[test]
fn try_get_does_not_barge_past_waiters() {
    let pool = BufferPool::builder()
        .bucket_sizes([10, 20])
        .memory_budget(30)
        .build()
        .unwrap();
    let mut held: Vec<_> = (0..3).map(|_| pool.get(10)).collect();
    thread::scope(|scope| {
        let waiter = scope.spawn(|| pool.get(20).capacity());
        wait_until("the waiter to queue", || waiting(&pool) == 1);
        held.pop();
        // 10 bytes are free, but the 20-byte waiter came first.
        assert_eq!(budget(&pool).available, 10);
        assert!(matches!(
            pool.try_get(10).unwrap_err(),
            PoolError::Exhausted {
                requested: 10,
                available: 10,
                budget: 30
            }
        ));
        held.pop();
        assert_eq!(waiter.join().unwrap(), 20);
    });
    drop(held);
    assert_eq!(budget(&pool).in_use, 0);
}

#[test]
fn close_wakes_every_waiter_and_fails_later_gets() {
    let pool = small_pool(10);
    let held = pool.get(10);
    thread::scope(|scope| {
        let waiters: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| pool.get_timeout(10, Duration::from_secs(30)).map(drop)))
            .collect();
        wait_until("four waiters", || waiting(&pool) == 4);
        let closed_at = Instant::now();
        pool.close();
        for waiter in waiters {
            assert_eq!(waiter.join().unwrap(), Err(PoolError::Closed));
        }
        assert!(closed_at.elapsed() < LATE + LATE);
    });
    assert!(pool.is_closed());
    assert_eq!(pool.try_get(1).unwrap_err(), PoolError::Closed);
    assert_eq!(
        pool.get_timeout(1, Duration::from_secs(1)).unwrap_err(),
        PoolError::Closed
    );
    let panic = catch_unwind(AssertUnwindSafe(|| drop(pool.get(1)))).unwrap_err();
    assert!(panic.downcast_ref::<String>().unwrap().contains("closed"));
    pool.close(); // twice is fine
    drop(held);
    let figures = budget(&pool);
    assert_eq!(
        (figures.in_use, figures.available, figures.waiting),
        (0, 10, 0)
    );
}

#[test]
fn close_without_a_budget_changes_nothing() {
    let pool = BufferPool::new();
    pool.close();
    assert!(!pool.is_closed());
    assert!(pool.try_get(10).is_ok());
    assert_eq!(pool.stats().budget, None);
    assert_eq!(pool.memory_budget(), None);
    // Without a budget, get_timeout never waits.
    assert!(pool.get_timeout(10, Duration::ZERO).is_ok());
}

#[test]
fn a_panic_inside_a_guard_scope_leaks_no_budget() {
    let pool = small_pool(110);
    for _ in 0..10 {
        let result = catch_unwind(AssertUnwindSafe(|| {
            // 100 + 10 bytes: exactly the budget.
            let mut buf = pool.get(50);
            buf[0] = 1;
            let _other = pool.get(5);
            panic!("boom");
        }));
        assert!(result.is_err());
    }
    let figures = budget(&pool);
    assert_eq!((figures.in_use, figures.available), (0, 110));
    assert_eq!(pool.stats().in_use, 0);
    assert!(pool.get(50).iter().all(|&b| b == 0));
}

/// A hook that panics on the events `when` selects, and counts the others.
fn panicking_pool(limit: u64, when: fn(&BudgetEvent) -> bool) -> (BufferPool, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let pool = BufferPool::builder()
        .bucket_sizes([10, 100])
        .memory_budget(limit)
        .on_budget_event(move |event| {
            seen.fetch_add(1, Ordering::SeqCst);
            if when(event) {
                panic!("metrics hook failed on {event:?}");
            }
        })
        .build()
        .unwrap();
    (pool, calls)
}

#[test]
fn a_panic_in_the_exhausted_hook_leaks_no_budget() {
    let (pool, calls) = panicking_pool(10, |event| matches!(event, BudgetEvent::Exhausted { .. }));
    let held = pool.get(10);
    // try_get: the hook panics after the failure was decided.
    assert!(catch_unwind(AssertUnwindSafe(|| pool.try_get(10).map(drop))).is_err());
    // A waiting get: the hook panics after it queued; unwinding leaves the queue.
    let waited = catch_unwind(AssertUnwindSafe(|| {
        pool.get_timeout(10, Duration::from_secs(30)).map(drop)
    }));
    assert!(waited.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(waiting(&pool), 0);
    drop(held);
    let figures = budget(&pool);
    assert_eq!(
        (figures.in_use, figures.available, figures.waiting),
        (0, 10, 0)
    );
    // The pool still works.
    drop(pool.get(10));
}

#[test]
fn a_panic_in_the_wait_hook_refunds_the_granted_bytes() {
    let (pool, calls) = panicking_pool(10, |event| {
        matches!(
            event,
            BudgetEvent::Waited {
                outcome: WaitOutcome::Granted,
                ..
            }
        )
    });
    let held = pool.get(10);
    thread::scope(|scope| {
        let waiter = scope.spawn(|| pool.get_timeout(10, Duration::from_secs(30)).map(drop));
        wait_until("the waiter to queue", || waiting(&pool) == 1);
        drop(held);
        // The bytes were granted, then the hook panicked before a guard existed.
        assert!(waiter.join().is_err());
    });
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let figures = budget(&pool);
    assert_eq!(
        (figures.in_use, figures.available, figures.waiting),
        (0, 10, 0)
    );
}

#[test]
fn hooks_see_exhaustion_and_every_wait_outcome() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&events);
    let pool = BufferPool::builder()
        .bucket_sizes([10])
        .memory_budget(10)
        .on_budget_event(move |event| log.lock().unwrap().push(event.clone()))
        .build()
        .unwrap();
    let held = pool.get(10);
    assert!(pool.get_timeout(10, Duration::from_millis(5)).is_err());
    thread::scope(|scope| {
        let waiter = scope.spawn(|| pool.get(10).len());
        wait_until("the waiter to queue", || waiting(&pool) == 1);
        drop(held);
        assert_eq!(waiter.join().unwrap(), 10);
    });
    let outcomes: Vec<_> = events
        .lock()
        .unwrap()
        .iter()
        .map(|event| match event {
            BudgetEvent::Exhausted { requested, .. } => format!("exhausted {requested}"),
            BudgetEvent::Waited { outcome, .. } => format!("{outcome:?}"),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        outcomes,
        ["exhausted 10", "TimedOut", "exhausted 10", "Granted"]
    );
}

#[test]
fn errors_map_to_io_error_kinds() {
    let cases = [
        (
            PoolError::Exhausted {
                requested: 1,
                available: 0,
                budget: 1,
            },
            io::ErrorKind::WouldBlock,
        ),
        (
            PoolError::Timeout {
                requested: 1,
                timeout: Duration::from_millis(1),
            },
            io::ErrorKind::TimedOut,
        ),
        (PoolError::Closed, io::ErrorKind::BrokenPipe),
        (
            PoolError::ExceedsBudget {
                requested: 2,
                budget: 1,
            },
            io::ErrorKind::InvalidInput,
        ),
    ];
    for (error, kind) in cases {
        let message = error.to_string();
        let io_error = io::Error::from(error);
        assert_eq!(io_error.kind(), kind);
        assert_eq!(io_error.to_string(), message);
    }
}

#[test]
fn the_builder_rejects_zero_budgets_and_intervals() {
    assert_eq!(
        BufferPool::builder().memory_budget(0).build().unwrap_err(),
        BuildError::ZeroBudget
    );
    assert_eq!(
        BufferPool::builder()
            .idle_trim(Duration::ZERO, 0)
            .build()
            .unwrap_err(),
        BuildError::ZeroTrimInterval
    );
}

#[test]
fn trim_to_leaves_exactly_the_floor_in_the_shared_buckets() {
    let pool = BufferPool::builder()
        .bucket_sizes([1024, 8192])
        .thread_cache_bytes(0)
        .build()
        .unwrap();
    let burst: Vec<_> = (0..6)
        .map(|_| pool.get(8000))
        .chain((0..10).map(|_| pool.get(1000)))
        .collect();
    drop(burst);
    assert_eq!(pool.stats().bytes_retained, 6 * 8192 + 10 * 1024);
    assert_eq!(pool.trim_to(u64::MAX), 0);
    // 58,368 retained; to reach 20,000 it frees four 8 KiB buffers (32,768),
    // then the smallest that covers the remaining 5,600: six 1 KiB buffers.
    let freed = pool.trim_to(20_000);
    let retained = pool.stats().bytes_retained;
    assert_eq!(freed + retained, 6 * 8192 + 10 * 1024);
    assert!(retained <= 20_000, "{retained}");
    assert!(20_000 - retained < 1024, "freed too much: {retained}");
    assert_eq!(pool.trim_to(0), retained);
    assert_eq!(pool.stats().bytes_retained, 0);
    assert_eq!(pool.stats().trimmed, 16);
}

#[test]
fn trim_to_reaches_the_floor_through_thread_caches() {
    let pool = BufferPool::builder().bucket_sizes([4096]).build().unwrap();
    // These sit in this thread's cache, not in the shared bucket.
    let burst: Vec<_> = (0..8).map(|_| pool.get(4096)).collect();
    drop(burst);
    assert_eq!(pool.stats().bytes_retained, 8 * 4096);
    assert_eq!(pool.trim_to(4096), 8 * 4096);
    assert_eq!(pool.stats().bytes_retained, 0);
}

#[test]
fn idle_trim_gives_memory_back_after_a_burst() {
    let floor = 64 << 10;
    let pool = BufferPool::builder()
        .bucket_sizes([4096, 64 << 10])
        .idle_trim(Duration::from_millis(20), floor)
        .build()
        .unwrap();
    // A burst on threads that exit: their caches move to the shared buckets.
    thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let held: Vec<_> = (0..16)
                    .map(|i| pool.get(if i % 2 == 0 { 4096 } else { 60_000 }))
                    .collect();
                drop(held);
            });
        }
    });
    wait_until("idle trim to reach the floor", || {
        pool.stats().bytes_retained <= floor
    });
    assert!(pool.stats().trimmed > 0);

    // Without the policy, the same burst stays retained.
    let control = BufferPool::builder()
        .bucket_sizes([4096, 64 << 10])
        .build()
        .unwrap();
    thread::scope(|scope| {
        scope.spawn(|| drop((0..16).map(|_| control.get(60_000)).collect::<Vec<_>>()));
    });
    thread::sleep(Duration::from_millis(100));
    assert_eq!(control.stats().bytes_retained, 16 * (64 << 10));
}

#[test]
fn dropping_a_pool_stops_its_idle_trim_thread_at_once() {
    let pool = BufferPool::builder()
        .idle_trim(Duration::from_secs(3600), 0)
        .build()
        .unwrap();
    drop(pool.get(10));
    let start = Instant::now();
    drop(pool);
    assert!(start.elapsed() < Duration::from_secs(2));
}

/// An interval that `Instant` cannot represent means "never": the trim
/// thread sleeps until the pool drops. (It used to take "now" as its
/// deadline, spin, and trim the pool at every turn.)
#[test]
fn an_unrepresentable_idle_trim_interval_never_trims() {
    let pool = BufferPool::builder()
        .bucket_sizes([4096])
        .thread_cache_bytes(0)
        .idle_trim(Duration::MAX, 0)
        .build()
        .unwrap();
    drop(pool.get(10)); // kept in the shared bucket: above the floor, idle
    thread::sleep(Duration::from_millis(300));
    let stats = pool.stats();
    assert_eq!(
        (stats.trimmed, stats.bytes_retained),
        (0, 4096),
        "{stats:?}"
    );
}

/// A blocking get whose hook panics leaves the queue, and is not counted as
/// a cancelled async wait (`cancelled_total` is async-only).
#[test]
fn a_blocking_get_whose_hook_panics_is_not_a_cancellation() {
    let pool = BufferPool::builder()
        .bucket_sizes([64])
        .memory_budget(64)
        .on_budget_event(|event| {
            if let BudgetEvent::Exhausted { .. } = event {
                panic!("hook");
            }
        })
        .build()
        .unwrap();
    let held = pool.get(64);
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        drop(pool.get_timeout(64, Duration::from_secs(60)));
    }));
    assert!(panicked.is_err());
    let budget = pool.stats().budget.unwrap();
    assert_eq!(
        (budget.cancelled_total, budget.waiting, budget.waits_total),
        (0, 0, 1),
        "{budget:?}"
    );
    drop(held);
    assert_eq!(pool.stats().budget.unwrap().available, 64);
}

/// A buffer with its owner and sequence number, to be checked before drop.
struct Tagged<'p> {
    owner: usize,
    seq: usize,
    buf: mempool::PooledBuf<'p>,
}

impl Tagged<'_> {
    fn check(self) {
        for (index, &byte) in self.buf.iter().enumerate() {
            assert_eq!(
                byte,
                pattern(self.owner, self.seq as u64, index),
                "corrupt buffer"
            );
        }
    }
}

fn stress_iterations() -> usize {
    std::env::var("MEMPOOL_STRESS_ITERS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(3000)
}

#[test]
fn stress_threads_hand_buffers_across_and_nothing_is_lost() {
    const THREADS: usize = 4;
    const LIMIT: u64 = 64 << 10;
    let iterations = stress_iterations();
    let pool = BufferPool::builder()
        .bucket_sizes([64, 256, 1024, 4096])
        .thread_cache_bytes(8 << 10)
        .memory_budget(LIMIT)
        .build()
        .unwrap();
    let failed = AtomicBool::new(false);
    let (senders, receivers): (Vec<_>, Vec<_>) =
        (0..THREADS).map(|_| mpsc::channel::<Tagged<'_>>()).unzip();
    thread::scope(|scope| {
        for (owner, inbox) in receivers.into_iter().enumerate() {
            let peers = senders.clone();
            let (pool, failed) = (&pool, &failed);
            scope.spawn(move || {
                let mut seed = (owner as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let mut random = move || {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as usize
                };
                let mut kept: Vec<Tagged<'_>> = Vec::new();
                for seq in 0..iterations {
                    // Up to 6000 bytes: every bucket, and oversized gets too.
                    let size = 1 + random() % 6000;
                    let mut buf = loop {
                        while let Ok(tagged) = inbox.try_recv() {
                            tagged.check();
                        }
                        let got = if random() % 4 == 0 {
                            pool.try_get(size)
                        } else {
                            pool.get_timeout(size, Duration::from_millis(5))
                        };
                        match got {
                            Ok(buf) => break buf,
                            Err(PoolError::Timeout { .. } | PoolError::Exhausted { .. }) => {}
                            Err(other) => panic!("unexpected {other}"),
                        }
                    };
                    if buf.iter().any(|&b| b != 0) {
                        failed.store(true, Ordering::SeqCst);
                        panic!("a reused buffer was not zeroed");
                    }
                    fill_pattern(&mut buf, owner, seq as u64);
                    let tagged = Tagged { owner, seq, buf };
                    match random() % 3 {
                        0 => {
                            kept.push(tagged);
                            if kept.len() > 2 {
                                kept.remove(0).check();
                            }
                        }
                        1 => tagged.check(),
                        _ => {
                            let peer = (owner + 1 + random() % (THREADS - 1)) % THREADS;
                            peers[peer].send(tagged).unwrap();
                        }
                    }
                }
                kept.into_iter().for_each(Tagged::check);
                drop(peers);
                // Drain until every other thread has finished sending.
                while let Ok(tagged) = inbox.recv() {
                    tagged.check();
                }
            });
        }
        drop(senders);
    });
    assert!(!failed.load(Ordering::SeqCst));
    let stats = pool.stats();
    let figures = stats.budget.clone().unwrap();
    assert_eq!(stats.in_use, 0);
    assert_eq!(stats.gets, (THREADS * iterations) as u64);
    assert_eq!(stats.gets, stats.puts);
    assert_eq!((figures.in_use, figures.available), (0, LIMIT));
    assert_eq!(figures.waiting, 0);
    assert!(figures.peak_in_use <= LIMIT);
    println!(
        "stress: {} gets, peak {} of {LIMIT} bytes, {} waits, {} timeouts, {} exhausted",
        stats.gets,
        figures.peak_in_use,
        figures.waits_total,
        figures.timeouts_total,
        figures.exhausted_total
    );
}
