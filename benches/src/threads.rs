//! Running one workload on several threads at once, timed per thread.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;

/// Operations each thread runs before the timed part, so that thread caches
/// and pools are warm.
pub const WARMUP_OPS: u64 = 2048;

/// Runs `work(thread, start, ops)` on `threads` threads at once and returns
/// the mean time a thread took for `ops` operations: criterion divides it by
/// `ops`, giving the per-thread time per operation.
///
/// Each thread first runs [`WARMUP_OPS`] untimed operations, then all wait
/// on one barrier, so only the overlapping, timed parts are measured.
pub fn per_thread_time<F>(threads: usize, ops: u64, work: F) -> Duration
where
    F: Fn(usize, u64, u64) + Sync,
{
    let barrier = Barrier::new(threads);
    let total: Duration = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|thread| {
                let (barrier, work) = (&barrier, &work);
                scope.spawn(move || {
                    work(thread, 0, WARMUP_OPS);
                    barrier.wait();
                    let start = Instant::now();
                    work(thread, WARMUP_OPS, ops);
                    start.elapsed()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("bench thread panicked"))
            .sum()
    });
    total / u32::try_from(threads).expect("few threads")
}

/// Moves `ops` items from a producer thread to a consumer thread through a
/// bounded queue: the producer calls `produce(i)`, the consumer `consume(item)`
/// (which drops it, on the other thread). Returns the time from the start
/// barrier until the consumer has taken the last item, after [`WARMUP_OPS`]
/// untimed items.
pub fn producer_consumer<T, P, C>(ops: u64, produce: P, consume: C) -> Duration
where
    T: Send,
    P: Fn(u64) -> T + Sync,
    C: Fn(T) + Sync,
{
    let queue = ArrayQueue::new(64);
    let barrier = Barrier::new(2);
    std::thread::scope(|scope| {
        let producer = scope.spawn(|| {
            let run = |from: u64, count: u64| {
                for i in from..from + count {
                    let mut item = produce(i);
                    let mut spins = 0u32;
                    while let Err(back) = queue.push(item) {
                        item = back;
                        backoff(&mut spins);
                    }
                }
            };
            run(0, WARMUP_OPS);
            barrier.wait();
            run(WARMUP_OPS, ops);
        });
        let run = |count: u64| {
            for _ in 0..count {
                let mut spins = 0u32;
                let item = loop {
                    match queue.pop() {
                        Some(item) => break item,
                        None => backoff(&mut spins),
                    }
                };
                consume(item);
            }
        };
        run(WARMUP_OPS);
        barrier.wait();
        let start = Instant::now();
        run(ops);
        let elapsed = start.elapsed();
        producer.join().expect("producer panicked");
        elapsed
    })
}

/// Spins briefly, then yields: two cores, and the other side may be descheduled.
fn backoff(spins: &mut u32) {
    *spins += 1;
    if *spins < 64 {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

    #[test]
    fn every_thread_runs_warmup_and_timed_ops() {
        let done = AtomicU64::new(0);
        per_thread_time(3, 100, |_, _, ops| {
            done.fetch_add(ops, Relaxed);
        });
        assert_eq!(done.load(Relaxed), 3 * (WARMUP_OPS + 100));
    }

    #[test]
    fn producer_consumer_delivers_every_item_in_order() {
        let next = AtomicU64::new(0);
        producer_consumer(1000, |i| i, |i| assert_eq!(i, next.fetch_add(1, Relaxed)));
        assert_eq!(next.load(Relaxed), WARMUP_OPS + 1000);
    }
}
