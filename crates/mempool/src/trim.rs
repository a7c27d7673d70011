//! Giving memory back after a burst: `BufferPool::trim_to` and the optional
//! idle-trim thread.
//!
//! Idle buffers live in two places: the shared bucket queues, which any
//! thread can drain, and each thread's private cache, which only its owner
//! touches. A trim drains the shared queues now, flushes the calling thread's
//! cache, and bumps the pool's trim epoch so that every other thread flushes
//! its cache at its next get or drop on the pool (or when it exits, when its
//! cache moves to the shared queues). The floor is therefore reached at once
//! for what the shared queues and the caller hold, and lazily for the rest.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::local_cache;
use crate::pool::{BufferPool, Shared};

impl BufferPool {
    /// Frees idle buffers until the bytes the pool retains fall to `floor` or
    /// below, and returns the bytes freed. Guards in use are not touched.
    ///
    /// It frees from the shared buckets first, the largest buffers that fit in
    /// the excess first, so that few frees give back much memory. If those do
    /// not reach the floor, the rest is in thread caches: it flushes the
    /// calling thread's cache now and asks every other thread to flush its own
    /// at its next use of the pool (each holds at most
    /// [`thread_cache_bytes`](crate::BufferPoolBuilder::thread_cache_bytes) per
    /// bucket). Those later frees are not in the returned figure.
    ///
    /// `trim_to(0)` is [`trim`](Self::trim) when the shared buckets hold
    /// everything.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = mempool::BufferPool::builder()
    ///     .bucket_sizes([1024])
    ///     .thread_cache_bytes(0)
    ///     .build()?;
    /// let burst: Vec<_> = (0..8).map(|_| pool.get(1000)).collect();
    /// drop(burst);
    /// assert_eq!(pool.stats().bytes_retained, 8 * 1024);
    /// assert_eq!(pool.trim_to(3 * 1024), 5 * 1024);
    /// assert_eq!(pool.stats().bytes_retained, 3 * 1024);
    /// # Ok::<(), mempool::BuildError>(())
    /// ```
    pub fn trim_to(&self, floor: u64) -> u64 {
        let shared = &*self.shared;
        let retained = shared.stats().bytes_retained;
        if retained <= floor {
            return 0;
        }
        let excess = retained - floor;
        let mut freed = shared.drain_down(excess);
        if freed < excess {
            freed +=
                local_cache::with_cache(&self.shared, |cache| cache.flush(shared)).unwrap_or(0);
            shared.trim_epoch.fetch_add(1, Relaxed);
        }
        freed
    }
}

impl Shared {
    /// Frees idle buffers from the shared buckets until `excess` bytes are
    /// freed or the buckets are empty; returns the bytes freed.
    fn drain_down(&self, excess: u64) -> u64 {
        let mut freed = 0;
        // Largest first, but only buffers that fit in what is left to free...
        for (index, bucket) in self.buckets.iter().enumerate().rev() {
            while excess - freed >= bucket.size as u64 && self.free_one(index) {
                freed += bucket.size as u64;
            }
        }
        // ...then the smallest that covers the remainder.
        for (index, bucket) in self.buckets.iter().enumerate() {
            if freed >= excess {
                break;
            }
            if self.free_one(index) {
                freed += bucket.size as u64;
            }
        }
        freed
    }

    /// Frees one idle buffer of bucket `index` from the shared queue.
    fn free_one(&self, index: usize) -> bool {
        let bucket = &self.buckets[index];
        let Some(buf) = bucket.pop_idle() else {
            return false;
        };
        drop(buf);
        bucket.release(1);
        self.retired.classes[index].trimmed.add_shared(1);
        true
    }

    /// What the idle-trim thread does: the shared part of `trim_to`, with the
    /// thread caches asked to flush if that is not enough.
    fn trim_shared_to(&self, floor: u64, retained: u64) {
        let excess = retained.saturating_sub(floor);
        if excess > 0 && self.drain_down(excess) < excess {
            self.trim_epoch.fetch_add(1, Relaxed);
        }
    }
}

/// The background thread of [`BufferPoolBuilder::idle_trim`](crate::BufferPoolBuilder::idle_trim).
#[derive(Debug)]
pub(crate) struct IdleTrimmer {
    stop: Arc<Stop>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Stop {
    /// Sleeps until `deadline`; returns `true` if asked to stop first.
    fn sleep_until(&self, deadline: Instant) -> bool {
        let mut stopped = self.stopped.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if *stopped {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            stopped = self
                .wake
                .wait_timeout(stopped, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

impl IdleTrimmer {
    /// Starts a thread that, every `interval`, trims the pool to `floor` if
    /// no buffer was handed out since its previous look.
    pub(crate) fn spawn(
        shared: Arc<Shared>,
        interval: Duration,
        floor: u64,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(Stop::default());
        let stop_seen = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("mempool-idle-trim".into())
            .spawn(move || {
                let mut last_gets = None;
                loop {
                    let now = Instant::now();
                    let next = now.checked_add(interval).unwrap_or(now);
                    if stop_seen.sleep_until(next) {
                        return;
                    }
                    let stats = shared.stats();
                    // Idle for a whole interval: the burst is over.
                    if last_gets == Some(stats.gets) && stats.bytes_retained > floor {
                        shared.trim_shared_to(floor, stats.bytes_retained);
                    }
                    last_gets = Some(stats.gets);
                }
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for IdleTrimmer {
    /// Stops the thread and waits for it, so that it never outlives its pool.
    fn drop(&mut self) {
        *self
            .stop
            .stopped
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
        self.stop.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            // The thread runs no user code, so it cannot have panicked in a way
            // worth re-raising while the pool drops.
            let _ = thread.join();
        }
    }
}
