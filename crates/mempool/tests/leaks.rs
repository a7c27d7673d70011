//! Leak tracking: `BufferPoolBuilder::track_leaks` and `BufferPool::leaks`.
//!
//! A "forgotten" guard here is wrapped in `ManuallyDrop`, which is all that
//! `mem::forget` does; unlike `forget`, it lets each test give the buffer back
//! at the end, so that the suite stays clean under valgrind's leak check.

use std::mem::ManuallyDrop;

use std::sync::Barrier;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use mempool::BufferPool;

fn tracking_pool() -> BufferPool {
    BufferPool::builder().track_leaks(true).build().unwrap()
}

#[test]
fn smoke() {
    let pool = tracking_pool();
    assert!(pool.tracks_leaks());
    let buf = pool.get(1500);
    let line = line!() - 1;
    let leaks = pool.leaks(Duration::ZERO);
    assert_eq!(leaks.len(), 1);
    assert_eq!(
        (leaks[0].location.file(), leaks[0].location.line()),
        (file!(), line)
    );
    assert_eq!((leaks[0].len, leaks[0].capacity), (1500, 4096));
    drop(buf);
    assert!(pool.leaks(Duration::ZERO).is_empty());
}

#[test]
fn off_by_default_and_reports_nothing() {
    let pool = BufferPool::new();
    assert!(!pool.tracks_leaks());
    let forgotten = ManuallyDrop::new(pool.get(100));
    assert!(pool.leaks(Duration::ZERO).is_empty());
    assert!(!BufferPool::builder().build().unwrap().tracks_leaks());
    drop(ManuallyDrop::into_inner(forgotten));
}

#[test]
fn a_forgotten_guard_is_reported_with_its_call_site() {
    let pool = tracking_pool();
    let forgotten = ManuallyDrop::new(pool.get(700));
    let line = line!() - 1;
    let held = pool.try_get(64 << 20).unwrap(); // oversized: tracked too
    let oversized_line = line!() - 1;
    drop(held);
    for _ in 0..100 {
        drop(pool.get(700)); // reuses nothing of the forgotten buffer
    }
    let leaks = pool.leaks(Duration::ZERO);
    assert_eq!(leaks.len(), 1, "{leaks:?}");
    let leak = &leaks[0];
    assert_eq!(leak.location.line(), line);
    assert_eq!((leak.len, leak.capacity), (700, 1024));
    assert_eq!(leak.thread_id, Some(std::thread::current().id()));
    let text = leak.to_string();
    assert!(
        text.starts_with("1024-byte buffer (700 bytes requested) held for "),
        "{text}"
    );
    assert!(
        text.contains(&format!("taken at {}:{line}:", file!())),
        "{text}"
    );
    assert_ne!(oversized_line, line);
    // A drop, however late, clears it.
    drop(ManuallyDrop::into_inner(forgotten));
    assert!(pool.leaks(Duration::ZERO).is_empty());
}

#[test]
fn a_guard_held_too_long_is_reported_and_a_young_one_is_not() {
    let pool = tracking_pool();
    let old = pool.get(100);
    let old_line = line!() - 1;
    let wait = Duration::from_millis(30);
    let start = Instant::now();
    std::thread::sleep(wait);
    let young = pool.get(100);
    // Everything the old guard has lived through beyond `wait` is slack.
    let leaks = pool.leaks(wait);
    assert_eq!(leaks.len(), 1, "{leaks:?}");
    assert_eq!(leaks[0].location.line(), old_line);
    assert!(leaks[0].age >= wait && leaks[0].age <= start.elapsed() + wait);
    // With a lower bound of zero both are listed, oldest first.
    let all = pool.leaks(Duration::ZERO);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].location.line(), old_line);
    assert!(all[0].age >= all[1].age);
    drop((old, young));
    assert!(pool.leaks(Duration::ZERO).is_empty());
}

#[test]
fn reports_name_the_thread_that_took_the_guard() {
    let pool = tracking_pool();
    let forgotten = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("conn-7".into())
            .spawn_scoped(scope, || ManuallyDrop::new(pool.get(10)))
            .unwrap()
            .join()
            .unwrap()
    });
    let leaks = pool.leaks(Duration::ZERO);
    assert_eq!(leaks.len(), 1);
    assert_eq!(leaks[0].thread_name.as_deref(), Some("conn-7"));
    assert!(leaks[0].to_string().ends_with(" on thread 'conn-7'"));
    drop(ManuallyDrop::into_inner(forgotten));
}

#[test]
fn the_global_pool_reports_the_callers_line() {
    let pool = BufferPool::builder().track_leaks(true).build().unwrap();
    mempool::init_global(pool).expect("no other test in this binary uses the global pool");
    let buf = mempool::get_buffer(10);
    let line = line!() - 1;
    let fallible = mempool::try_get_buffer(10).unwrap();
    let empty = mempool::get_empty_buffer(10);
    let fallible_empty = mempool::try_get_empty_buffer(10).unwrap();
    let leaks = mempool::global().leaks(Duration::ZERO);
    let mut lines: Vec<u32> = leaks.iter().map(|leak| leak.location.line()).collect();
    lines.sort_unstable();
    assert_eq!(lines, [line, line + 2, line + 3, line + 4]);
    assert!(leaks.iter().all(|leak| leak.location.file() == file!()));
    drop((buf, fallible, empty, fallible_empty));
    assert!(mempool::global().leaks(Duration::ZERO).is_empty());
}

/// Takes a guard, and gives the line of the `get`.
fn churn_get(pool: &BufferPool, size: usize) -> (mempool::PooledBuf<'_>, u32) {
    (pool.get(size), line!())
}

/// Threads churning guards, some moving them to another thread to drop,
/// while a checker lists the live ones: every report must come from the
/// churn call site, and once the churn ends only the one forgotten guard is
/// left.
#[test]
fn churning_threads_give_no_false_report() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 5_000;
    // Small buckets, so that the oversized gets stay cheap.
    let pool = BufferPool::builder()
        .bucket_sizes([64, 1024, 4096])
        .track_leaks(true)
        .build()
        .unwrap();
    let churn_line = churn_get(&pool, 1).1;
    let sizes = [10, 600, 3000, 9000];
    let start = Barrier::new(THREADS + 1);
    let (send, receive) = mpsc::channel();
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (pool, start, send) = (&pool, &start, send.clone());
            scope.spawn(move || {
                start.wait();
                for round in 0..ROUNDS {
                    let (buf, _) = churn_get(pool, sizes[(round + thread) % sizes.len()]);
                    if round % 7 == 0 {
                        // Dropped by the checker thread.
                        send.send(buf).unwrap();
                    }
                }
            });
        }
        drop(send);
        start.wait();
        let mut checks = 0;
        loop {
            let received = receive.recv_timeout(Duration::from_millis(1));
            for leak in pool.leaks(Duration::ZERO) {
                assert_eq!(leak.location.line(), churn_line, "{leak}");
                assert!(sizes.contains(&leak.len), "{leak}");
            }
            checks += 1;
            match received {
                Ok(buf) => {
                    drop(buf);
                    receive.try_iter().for_each(drop);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        assert!(checks > 0);
    });
    assert!(pool.leaks(Duration::ZERO).is_empty());
    let forgotten = ManuallyDrop::new(pool.get(600));
    let forgotten_line = line!() - 1;
    let leaks = pool.leaks(Duration::ZERO);
    assert_eq!(leaks.len(), 1);
    assert_eq!(leaks[0].location.line(), forgotten_line);
    let stats = pool.stats();
    assert_eq!(stats.gets, (THREADS * ROUNDS + 2) as u64);
    assert_eq!(stats.in_use, 1);
    drop(ManuallyDrop::into_inner(forgotten));
}

/// Every public get of a pool is `#[track_caller]`: its leak report names
/// the line of the call, in this file, not a line of the crate.
#[test]
fn every_public_get_reports_its_callers_line() {
    let pool = tracking_pool();
    let mut held = Vec::new();
    let mut take = |buf, line: u32| held.push((buf, line));
    let second = Duration::from_secs(1);
    take(pool.get(10), line!());
    take(pool.try_get(10).unwrap(), line!());
    take(pool.get_timeout(10, second).unwrap(), line!());
    take(pool.get_empty(10), line!());
    take(pool.try_get_empty(10).unwrap(), line!());
    #[cfg(feature = "async")]
    {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut future = std::pin::pin!(pool.get_async(10));
        let line = line!() - 1;
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(buf) => take(buf.unwrap(), line),
            std::task::Poll::Pending => panic!("no budget: ready at once"),
        }
    }
    let mut lines: Vec<u32> = pool
        .leaks(Duration::ZERO)
        .iter()
        .inspect(|report| assert_eq!(report.location.file(), file!(), "{report}"))
        .map(|report| report.location.line())
        .collect();
    lines.sort_unstable();
    let mut expected: Vec<u32> = held.iter().map(|(_, line)| *line).collect();
    expected.sort_unstable();
    assert_eq!(lines, expected);
    drop(held);
    assert!(pool.leaks(Duration::ZERO).is_empty());
}

#[test]
fn budgeted_gets_report_the_callers_line_too() {
    let pool = BufferPool::builder()
        .track_leaks(true)
        .memory_budget(1 << 20)
        .build()
        .unwrap();
    let a = pool.get(100);
    let a_line = line!() - 1;
    let b = pool.try_get(100).unwrap();
    let b_line = line!() - 1;
    let c = pool.get_timeout(100, Duration::from_secs(1)).unwrap();
    let c_line = line!() - 1;
    let mut lines: Vec<u32> = pool
        .leaks(Duration::ZERO)
        .iter()
        .inspect(|report| assert_eq!(report.location.file(), file!()))
        .map(|report| report.location.line())
        .collect();
    lines.sort_unstable();
    assert_eq!(lines, [a_line, b_line, c_line]);
    drop((a, b, c));
    assert!(pool.leaks(Duration::ZERO).is_empty());
}
