//! The core of a pool: its buckets, routing table, thread registry and counters, and the uncached get and put.
//!
//! `Shared` is what every thread cache and background thread holds (through an
//! `Arc`); the facade `BufferPool` adds the optional mechanisms (budget, leak
//! tracking) on top. Nothing here knows about them, or about the facade.
//!
//! # Vocabulary
//!
//! Each internal verb on the get and put paths means one thing, in every file:
//!
//! * **route**: map a requested size to its bucket index, its *class*
//!   ([`SizeClasses::class_of`]); done once per get, by the facade.
//! * **take**: remove an idle buffer from a thread's stack or a shared queue.
//!   It never allocates; `None` means there was none. It counts the get.
//! * **allocate**: make a fresh, zeroed heap buffer, on a miss or for an
//!   oversized request. It counts the get and the miss.
//! * **scrub**: zero the prefix of a returned buffer that may have been written.
//! * **keep**: hold a returned buffer in a thread's stack or a shared queue,
//!   under a retention permit; without one, **discard** it (free, counted).
//! * **spill**: move the older half of a full stack to the shared queue.
//! * **acquire** / **release**: take or give back retention permits (`bucket.rs`).
//! * **flush**: free everything a thread cache holds; **drain**: free everything
//!   a shared queue holds; **free**: free idle buffers one at a time (trim).
//! * **charge** / **refund**: take or give back bytes of the memory budget;
//!   **grant**: hand refunded bytes to the waiting gets, oldest first.
//! * **record** / **forget**: add or remove a live guard in the leak tracker.
//! * **count**: bump a counter; nothing else.
//!
//! * **hand out**: turn a buffer into a guard (the facade only).
//! * **push** / **pop**: the raw queue operations of one bucket, under the
//!   permit rules of `bucket.rs`.
//!
//! The public verbs (`get`, `put` by a guard's drop, `trim`) belong to the
//! facade, `pool.rs`, and the guard, `pooled_buf.rs`.

use crossbeam_utils::CachePadded;

use crate::aligned_buf::AlignedBuf;
use crate::bucket::Bucket;
use crate::counters::{Counters, Totals};
use crate::error::PoolError;
use crate::size_class::SizeClasses;
use crate::stats::PoolStats;
use crate::sync::{Arc, AtomicU64, Mutex, MutexGuard, PoisonError, Relaxed, StdAtomicU64};

/// Pool ids, never reused.
static NEXT_ID: StdAtomicU64 = StdAtomicU64::new(0);
/// Values of [`Shared::cache_key`], never reused (64 bits do not wrap), and
/// never [`NO_KEY`].
static NEXT_KEY: StdAtomicU64 = StdAtomicU64::new(NO_KEY + 1);

/// A key no pool ever has: the thread caches' "no cache here".
pub(crate) const NO_KEY: u64 = 0;

/// The state of a pool, shared with the thread caches.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Tells this pool's thread caches apart from other pools'.
    pub(crate) id: u64,
    /// `buckets[i].size`, kept contiguous for routing.
    pub(crate) classes: SizeClasses,
    pub(crate) buckets: Box<[Bucket]>,
    pub(crate) max_buffer_size: usize,
    pub(crate) zero_on_drop: bool,
    /// This pool and its trim generation in one word, for the thread caches'
    /// one-compare check: a value no other pool and no other trim ever had
    /// (taken from one process-wide counter). A trim sets a new one, and a
    /// thread cache that last saw another value flushes itself at its next
    /// operation. Relaxed: it only asks for a flush, and the buffers are freed
    /// by the thread that owns them.
    pub(crate) cache_key: AtomicU64,
    /// Counters of threads with a live cache for this pool.
    threads: Mutex<Vec<Arc<CachePadded<Counters>>>>,
    /// Counters of exited threads, and of operations that found no thread
    /// cache (during thread teardown).
    /// Padded: oversized gets write it, so it must not share a cache line
    /// with the read-mostly fields that every get reads.
    pub(crate) retired: CachePadded<Counters>,
}

impl Shared {
    /// A pool's core over `buckets` (ascending sizes, checked by the builder).
    pub(crate) fn new(buckets: Vec<Bucket>, max_buffer_size: usize, zero_on_drop: bool) -> Self {
        Self {
            id: NEXT_ID.fetch_add(1, Relaxed),
            classes: SizeClasses::new(buckets.iter().map(|bucket| bucket.size).collect()),
            retired: CachePadded::new(Counters::new()),
            buckets: buckets.into_boxed_slice(),
            max_buffer_size,
            zero_on_drop,
            cache_key: AtomicU64::new(NEXT_KEY.fetch_add(1, Relaxed)),
            threads: Mutex::new(Vec::new()),
        }
    }

    /// Asks every thread cache of this pool to flush at its next operation on
    /// it (a trim).
    pub(crate) fn ask_caches_to_flush(&self) {
        self.cache_key
            .store(NEXT_KEY.fetch_add(1, Relaxed), Relaxed);
    }

    fn threads(&self) -> MutexGuard<'_, Vec<Arc<CachePadded<Counters>>>> {
        // The list stays consistent even if a holder panicked: every update is
        // a single push or remove.
        self.threads.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sums the counters of every thread into a snapshot (without the
    /// budget's figures, which the facade adds).
    pub(crate) fn stats(&self) -> PoolStats {
        let mut totals = Totals::new(self.buckets.len());
        {
            let threads = self.threads();
            totals.add(&self.retired);
            for counters in threads.iter() {
                totals.add(counters);
            }
        }
        totals.snapshot(
            self.buckets
                .iter()
                .map(|bucket| (bucket.size, bucket.max_idle)),
        )
    }

    /// Makes `counters` visible to `stats()`.
    pub(crate) fn register(&self, counters: Arc<CachePadded<Counters>>) {
        self.threads().push(counters);
    }

    /// Folds a departing thread's counters into `retired`. Both happen under
    /// the lock, so a concurrent `stats()` counts them exactly once.
    pub(crate) fn retire(&self, counters: &Arc<CachePadded<Counters>>) {
        let mut threads = self.threads();
        self.retired.absorb(counters);
        threads.retain(|other| !Arc::ptr_eq(other, counters));
    }

    /// A fresh, zeroed buffer for bucket `class`. Counts nothing: the caller
    /// counts the get and the miss in its own block.
    pub(crate) fn allocate(&self, class: usize) -> Result<AlignedBuf, PoolError> {
        let size = self.buckets[class].size;
        AlignedBuf::try_zeroed(size).ok_or(PoolError::AllocFailed { size })
    }

    /// A fresh buffer of exactly `size` bytes, above the largest bucket, and
    /// counts the get.
    #[cold]
    pub(crate) fn allocate_oversized(&self, size: usize) -> Result<AlignedBuf, PoolError> {
        if size > self.max_buffer_size {
            return Err(PoolError::TooLarge {
                requested: size,
                max: self.max_buffer_size,
            });
        }
        let buf = AlignedBuf::try_zeroed(size).ok_or(PoolError::AllocFailed { size })?;
        // Oversized gets are rare and cost an allocation; a shared counter is fine.
        let counters = &self.retired;
        counters.oversized_gets.add_shared(1);
        counters.oversized_bytes_out.add_shared(size as u64);
        counters.bytes_requested.add_shared(size as u64);
        Ok(buf)
    }

    /// Frees a returned oversized buffer and counts the put.
    pub(crate) fn free_oversized(&self, buf: AlignedBuf) {
        let size = buf.capacity() as u64;
        drop(buf);
        self.retired.oversized_puts.add_shared(1);
        self.retired.oversized_bytes_back.add_shared(size);
    }

    /// Zeroes the first `dirty` bytes of a returned buffer, unless zeroing is
    /// off. A guard that was only read (`dirty == 0`) skips the call into
    /// `memset`.
    #[inline]
    pub(crate) fn scrub(&self, buf: &mut AlignedBuf, dirty: usize) {
        if dirty > 0 && self.zero_on_drop {
            let bytes = buf.as_mut_slice();
            // `dirty <= capacity` (the guard's invariant); `min` spares the
            // hot path a panic branch.
            let end = dirty.min(bytes.len());
            bytes[..end].fill(0);
        }
    }

    /// A get for a thread without a cache: take from the shared queue, or
    /// allocate; counts in the shared block.
    #[cold]
    pub(crate) fn take_or_allocate_uncached(
        &self,
        class: usize,
        size: usize,
    ) -> Result<AlignedBuf, PoolError> {
        let bucket = &self.buckets[class];
        let (buf, hit) = match bucket.pop_idle() {
            Some(buf) => {
                bucket.release(1);
                (buf, true)
            }
            None => (self.allocate(class)?, false),
        };
        self.retired.count_get_shared(class, size, hit);
        Ok(buf)
    }

    /// A put for a thread without a cache: keep the scrubbed buffer in the
    /// shared queue, or discard it.
    /// Takes the `Arc` that the thread cache holds, so that the caller's hot
    /// path needs no register for `&Shared` (worth 3 instructions a put).
    #[cold]
    pub(crate) fn keep_uncached(self: &Arc<Self>, class: usize, buf: AlignedBuf) {
        let bucket = &self.buckets[class];
        let counters = self.retired.class(class);
        counters.puts.add_shared(1);
        if bucket.acquire(1) == 1 {
            bucket.push_idle(buf);
        } else {
            counters.discarded.add_shared(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_clears_exactly_the_dirty_prefix() {
        let shared = Shared::new(vec![Bucket::new(64, 1, 1)], 1 << 20, true);
        let mut buf = AlignedBuf::try_zeroed(64).unwrap();
        buf.as_mut_slice().fill(0xFF);
        shared.scrub(&mut buf, 0); // a guard only read: nothing is cleared
        assert!(buf.as_slice().iter().all(|&b| b == 0xFF));
        shared.scrub(&mut buf, 10);
        assert!(buf.as_slice()[..10].iter().all(|&b| b == 0));
        assert!(buf.as_slice()[10..].iter().all(|&b| b == 0xFF));

        let off = Shared::new(vec![Bucket::new(64, 1, 1)], 1 << 20, false);
        off.scrub(&mut buf, 64);
        assert!(buf.as_slice()[10..].iter().all(|&b| b == 0xFF));
    }
}
