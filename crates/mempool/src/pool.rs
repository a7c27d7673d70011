//! `BufferPool`: buckets of reusable, zeroed byte buffers.

use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crossbeam_utils::CachePadded;

use crate::aligned_buf::AlignedBuf;
use crate::bucket::Bucket;
use crate::budget::Budget;
use crate::builder::BufferPoolBuilder;
use crate::error::PoolError;
use crate::leak::LeakTracker;
use crate::local_cache;
use crate::pooled_buf::PooledBuf;
use crate::size_class::{OVERSIZED, SizeClasses};
use crate::stats::{Counters, PoolStats, Totals};
use crate::trim::IdleTrimmer;

/// A pool of reusable byte buffers, sorted into buckets by size.
///
/// A `BufferPool` can be thought of as a set of free lists, one per bucket
/// size, that hand out [`PooledBuf`] guards. A guard derefs to exactly the
/// requested number of bytes, all zero, and gives its buffer back when it is
/// dropped.
///
/// # Architecture
///
/// ```text
///   get(size) ──► class_of(size) ──► thread cache (LIFO stack, no atomics)
///                      │                  │ empty
///                      │                  ▼
///                      │             shared bucket (lock-free ArrayQueue)
///                      │                  │ empty
///                      ▼                  ▼
///              size > largest bucket   allocate (aligned, zeroed)   
///              ─► oversized: allocate, free on drop
///
///   drop(guard) ─► zero the bytes that could have been written
///               ─► thread cache ─(full: spill half)─► shared bucket
///               ─► retention bound reached: free, count `discarded`
/// ```
///
/// The default pool has the nine buckets of Takhin's Go pool
/// ([`DEFAULT_BUCKET_SIZES`](crate::DEFAULT_BUCKET_SIZES)); use
/// [`BufferPool::builder`] for others. `docs/design.md` gives the reasons for
/// each part.
///
/// # Sharing
///
/// `BufferPool` is `Send + Sync`; share it by reference. Guards borrow their
/// pool, so the global pool ([`mempool::global`](crate::global())) hands out
/// `PooledBuf<'static>` guards that can move into spawned threads and tasks,
/// and getting one never touches a reference count.
///
/// # Examples
///
/// ```
/// use mempool::BufferPool;
///
/// let pool = BufferPool::new();
/// let mut buf = pool.get(1500);
/// assert_eq!(buf.len(), 1500);
/// assert_eq!(buf.capacity(), 4096);
/// assert!(buf.iter().all(|&b| b == 0));
/// buf[..5].copy_from_slice(b"hello");
/// drop(buf); // zeroes the 1500 bytes, keeps the buffer for the next get
///
/// let again = pool.get(2000);
/// assert!(again.iter().all(|&b| b == 0));
/// assert_eq!(pool.stats().hits, 1);
/// ```
#[derive(Debug)]
pub struct BufferPool {
    pub(crate) shared: Arc<Shared>,
    /// The background trim thread, stopped and joined on drop (`trim.rs`).
    pub(crate) idle_trim: Option<IdleTrimmer>,
}

/// The state of a pool, shared with the thread caches.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Tells this pool's thread caches apart from other pools'.
    pub(crate) id: u64,
    /// `buckets[i].size`, kept contiguous for routing.
    pub(crate) classes: SizeClasses,
    pub(crate) buckets: Box<[Bucket]>,
    max_buffer_size: usize,
    zero_on_drop: bool,
    /// `Some` when leak tracking is on; off, it costs one branch per get and drop.
    leaks: Option<Box<LeakTracker>>,
    /// Bumped by `trim`; a thread cache that sees a new value frees its
    /// buffers. Relaxed: it only asks for a flush, and the buffers are freed
    /// by the thread that owns them.
    pub(crate) trim_epoch: AtomicU64,
    /// Counters of threads with a live cache for this pool.
    threads: Mutex<Vec<Arc<CachePadded<Counters>>>>,
    /// Counters of exited threads, and of operations that found no thread
    /// cache (during thread teardown).
    /// Padded: oversized gets write it, so it must not share a cache line
    /// with the read-mostly fields that every get reads.
    pub(crate) retired: CachePadded<Counters>,
    /// The memory budget, if one was configured (`budget.rs`).
    pub(crate) budget: Option<Budget>,
    /// Neither a budget nor leak tracking: gets and drops take the plain
    /// path, with this one branch for both features.
    plain: bool,
}

impl BufferPool {
    /// Creates a pool with the nine default buckets (512 B to 16 MiB), 32 MiB
    /// of retention per bucket, a 1 GiB maximum buffer size, zeroing on, and
    /// per-thread caches.
    ///
    /// No buffer is allocated until the first get.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = mempool::BufferPool::new();
    /// assert_eq!(pool.stats().buckets.len(), 9);
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::builder()
            .build()
            .expect("the default configuration is valid")
    }

    /// Returns a builder to configure bucket sizes, retention, the maximum
    /// buffer size, zeroing and the thread caches.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = mempool::BufferPool::builder()
    ///     .bucket_sizes([256, 4096])
    ///     .max_idle_per_bucket(64)
    ///     .build()?;
    /// assert_eq!(pool.get(300).capacity(), 4096);
    /// # Ok::<(), mempool::BuildError>(())
    /// ```
    pub fn builder() -> BufferPoolBuilder {
        BufferPoolBuilder::new()
    }

    pub(crate) fn from_parts(
        buckets: Vec<Bucket>,
        max_buffer_size: usize,
        zero_on_drop: bool,
        track_leaks: bool,
        budget: Option<Budget>,
    ) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let shared = Shared {
            id: NEXT_ID.fetch_add(1, Relaxed),
            classes: SizeClasses::new(buckets.iter().map(|bucket| bucket.size).collect()),
            retired: CachePadded::new(Counters::new(buckets.len())),
            buckets: buckets.into_boxed_slice(),
            max_buffer_size,
            zero_on_drop,
            plain: !track_leaks && budget.is_none(),
            leaks: track_leaks.then(|| Box::new(LeakTracker::new())),
            trim_epoch: AtomicU64::new(0),
            threads: Mutex::new(Vec::new()),
            budget,
        };
        Self {
            shared: Arc::new(shared),
            idle_trim: None,
        }
    }

    /// Takes a buffer of `size` bytes, all zero.
    ///
    /// The buffer comes from the smallest bucket that holds `size` bytes (an
    /// idle one when there is one, else a fresh allocation); above the largest
    /// bucket it is allocated directly. In steady state this makes no heap
    /// allocation and touches no shared cache line.
    ///
    /// With a [memory budget](BufferPoolBuilder::memory_budget), it first waits,
    /// in line, until the buffer's capacity fits in the budget, for as long as
    /// it takes (Kafka's `max.block.ms` set to infinity); see
    /// [`get_timeout`](Self::get_timeout) for a bounded wait.
    ///
    /// # Panics
    ///
    /// Panics if `size` is above the pool's maximum buffer size (1 GiB by
    /// default), and, with a memory budget, if the buffer's capacity is above
    /// the whole budget or the pool is [closed](Self::close) before or while it
    /// waits. If the allocation fails, it calls
    /// [`handle_alloc_error`](std::alloc::handle_alloc_error), which aborts, as
    /// `Vec` does. Use [`try_get`](Self::try_get) or
    /// [`get_timeout`](Self::get_timeout) to get an error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = mempool::BufferPool::new();
    /// let buf = pool.get(100);
    /// assert_eq!((buf.len(), buf.capacity()), (100, 512));
    /// ```
    #[inline]
    #[track_caller]
    pub fn get(&self, size: usize) -> PooledBuf<'_> {
        match self.get_cached(size) {
            Some(buf) => buf,
            None => self.get_slow(size),
        }
    }

    /// `get` past the fast path: misses, oversized requests, budgets, leak
    /// tracking, and threads without a cache.
    #[cold]
    #[track_caller]
    fn get_slow(&self, size: usize) -> PooledBuf<'_> {
        let result = match &self.shared.budget {
            None => self.take(size),
            Some(budget) => self.get_waiting(budget, size, None),
        };
        match result {
            Ok(buf) => buf,
            Err(error) => get_failed(error),
        }
    }

    /// The fast path of `get` and `try_get`: an idle buffer from this
    /// thread's cache or the shared bucket, for a pool with neither a budget
    /// nor leak tracking. `None` sends the caller down the full path. Returning
    /// an `Option` (no error to carry) keeps the guard in registers.
    #[inline]
    fn get_cached(&self, size: usize) -> Option<PooledBuf<'_>> {
        let shared = &*self.shared;
        if !shared.plain {
            return None;
        }
        let class = shared.classes.class_of(size);
        if class == OVERSIZED {
            return None;
        }
        let buf = local_cache::take_cached(&self.shared, usize::from(class), size)?;
        Some(PooledBuf::new(self, buf, size, class))
    }

    /// Takes a buffer of `size` bytes, all zero, or returns an error. It never
    /// panics or aborts, whatever `size` is.
    ///
    /// With a [memory budget](BufferPoolBuilder::memory_budget), it never
    /// waits: it fails if the buffer's capacity does not fit now, or if other
    /// gets are already waiting for the budget (they come first).
    ///
    /// # Errors
    ///
    /// * [`PoolError::TooLarge`] if `size` is above the maximum buffer size;
    /// * [`PoolError::AllocFailed`] if the allocator cannot provide the memory;
    /// * with a memory budget, [`PoolError::Exhausted`] if the capacity does
    ///   not fit now, [`PoolError::ExceedsBudget`] if it is above the whole
    ///   budget, and [`PoolError::Closed`] after [`close`](Self::close).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = mempool::BufferPool::new();
    /// let buf = pool.try_get(64 << 10)?;
    /// assert_eq!(buf.len(), 64 << 10);
    /// # Ok::<(), mempool::PoolError>(())
    /// ```
    ///
    /// A request over the maximum buffer size fails:
    ///
    /// ```
    /// use mempool::PoolError;
    ///
    /// let pool = mempool::BufferPool::new();
    /// let error = pool.try_get(usize::MAX).unwrap_err();
    /// assert!(matches!(error, PoolError::TooLarge { requested: usize::MAX, .. }));
    /// ```
    #[inline]
    #[track_caller]
    pub fn try_get(&self, size: usize) -> Result<PooledBuf<'_>, PoolError> {
        match self.get_cached(size) {
            Some(buf) => Ok(buf),
            None => self.try_get_slow(size),
        }
    }

    /// `try_get` past the fast path; see [`get_slow`](Self::get_slow).
    #[cold]
    #[track_caller]
    fn try_get_slow(&self, size: usize) -> Result<PooledBuf<'_>, PoolError> {
        match &self.shared.budget {
            None => self.take(size),
            Some(budget) => self.try_get_budgeted(budget, size),
        }
    }

    /// Takes a buffer, with no regard to the memory budget.
    #[inline]
    #[track_caller]
    pub(crate) fn take(&self, size: usize) -> Result<PooledBuf<'_>, PoolError> {
        self.take_at(size, Location::caller())
    }

    /// `take`, recording `location` as the guard's call site when leak
    /// tracking is on.
    #[inline]
    pub(crate) fn take_at(
        &self,
        size: usize,
        location: &'static Location<'static>,
    ) -> Result<PooledBuf<'_>, PoolError> {
        let buf = self.take_plain(size)?;
        if let Some(leaks) = &self.shared.leaks {
            leaks.record(buf.aligned(), size, location);
        }
        Ok(buf)
    }

    /// The get itself: route, then take from the thread cache, the shared
    /// bucket or the allocator. No budget, no leak tracking.
    #[inline]
    fn take_plain(&self, size: usize) -> Result<PooledBuf<'_>, PoolError> {
        let shared = &*self.shared;
        let class = shared.classes.class_of(size);
        let buf = if class == OVERSIZED {
            self.get_oversized(size)?
        } else {
            local_cache::get(&self.shared, usize::from(class), size)?
        };
        Ok(PooledBuf::new(self, buf, size, class))
    }

    /// Takes a buffer that can hold at least `capacity` bytes, with length 0,
    /// to be filled by appending: through [`io::Write`](std::io::Write),
    /// `bytes::BufMut` (feature `bytes`) or
    /// [`PooledBuf::try_extend_from_slice`].
    ///
    /// `len()` grows as you write, up to `capacity()` (the bucket size); a
    /// write that does not fit fails and writes nothing, it never reallocates.
    /// On drop only the bytes that were written are zeroed. It is
    /// [`get`](Self::get) followed by [`PooledBuf::clear`], and counts in the
    /// stats as a get of `capacity` bytes.
    ///
    /// # Panics
    ///
    /// As [`get`](Self::get): above the maximum buffer size, or on allocation
    /// failure (abort). [`try_get_empty`](Self::try_get_empty) returns errors.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// let pool = mempool::BufferPool::new();
    /// let mut frame = pool.get_empty(1500);
    /// assert_eq!((frame.len(), frame.capacity()), (0, 4096));
    /// frame.write_all(&5u32.to_be_bytes())?;
    /// frame.write_all(b"hello")?;
    /// assert_eq!(&frame[..], b"\0\0\0\x05hello");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn get_empty(&self, capacity: usize) -> PooledBuf<'_> {
        let mut buf = self.get(capacity);
        buf.clear();
        buf
    }

    /// Takes an empty buffer that can hold at least `capacity` bytes, or
    /// returns an error; see [`get_empty`](Self::get_empty).
    ///
    /// # Errors
    ///
    /// As [`try_get`](Self::try_get): [`PoolError::TooLarge`] or
    /// [`PoolError::AllocFailed`].
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = mempool::BufferPool::new();
    /// assert!(pool.try_get_empty(100)?.is_empty());
    /// assert!(pool.try_get_empty(usize::MAX).is_err());
    /// # Ok::<(), mempool::PoolError>(())
    /// ```
    pub fn try_get_empty(&self, capacity: usize) -> Result<PooledBuf<'_>, PoolError> {
        let mut buf = self.try_get(capacity)?;
        buf.clear();
        Ok(buf)
    }

    #[cold]
    fn get_oversized(&self, size: usize) -> Result<AlignedBuf, PoolError> {
        let shared = &*self.shared;
        if size > shared.max_buffer_size {
            return Err(PoolError::TooLarge {
                requested: size,
                max: shared.max_buffer_size,
            });
        }
        let buf = AlignedBuf::try_zeroed(size).ok_or(PoolError::AllocFailed { size })?;
        // Oversized gets are rare and cost an allocation; a shared counter is fine.
        let counters = &shared.retired;
        counters.oversized_gets.add_shared(1);
        counters.oversized_bytes_out.add_shared(size as u64);
        counters.bytes_requested.add_shared(size as u64);
        Ok(buf)
    }

    /// Takes back the buffer of a dropped guard. `dirty` bytes from the start
    /// may have been written.
    #[inline]
    pub(crate) fn put(&self, buf: AlignedBuf, class: u8, dirty: usize) {
        if self.shared.plain {
            self.put_plain(buf, class, dirty);
        } else {
            self.put_tracked(buf, class, dirty);
        }
    }

    /// `put` for a pool with leak tracking or a budget.
    #[cold]
    #[inline(never)]
    fn put_tracked(&self, buf: AlignedBuf, class: u8, dirty: usize) {
        let shared = &*self.shared;
        if let Some(leaks) = &shared.leaks {
            leaks.forget(&buf);
        }
        // Refunds the capacity once the buffer is back, even when unwinding.
        let _refund = shared
            .budget
            .as_ref()
            .map(|budget| budget.refund_on_drop(buf.capacity() as u64));
        self.put_plain(buf, class, dirty);
    }

    /// The put itself: zero, then hand to the thread cache or free.
    #[inline]
    fn put_plain(&self, mut buf: AlignedBuf, class: u8, dirty: usize) {
        let shared = &*self.shared;
        if class == OVERSIZED {
            let size = buf.capacity() as u64;
            drop(buf);
            shared.retired.oversized_puts.add_shared(1);
            shared.retired.oversized_bytes_back.add_shared(size);
            return;
        }
        // A guard that was only read skips the call into `memset`.
        if shared.zero_on_drop && dirty > 0 {
            buf.as_mut_slice()[..dirty].fill(0);
        }
        local_cache::put(&self.shared, usize::from(class), buf);
    }

    /// Frees the idle buffers in the shared buckets and in the calling
    /// thread's cache, and returns the number of bytes freed.
    ///
    /// Other threads free the buffers in their own caches at their next get
    /// or drop on this pool (each holds at most a few per bucket); those bytes
    /// are not in the returned figure.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = mempool::BufferPool::new();
    /// drop(pool.get(4096));
    /// assert_eq!(pool.stats().bytes_retained, 4096);
    /// assert_eq!(pool.trim(), 4096);
    /// assert_eq!(pool.stats().bytes_retained, 0);
    /// ```
    pub fn trim(&self) -> u64 {
        let shared = &*self.shared;
        let mut freed_bytes =
            local_cache::with_cache(&self.shared, |cache| cache.flush(shared)).unwrap_or(0);
        // Ask the other threads' caches to flush at their next use.
        shared.trim_epoch.fetch_add(1, Relaxed);
        for (index, bucket) in shared.buckets.iter().enumerate() {
            let freed = bucket.drain();
            shared.retired.classes[index]
                .trimmed
                .add_shared(freed as u64);
            freed_bytes += (freed * bucket.size) as u64;
        }
        freed_bytes
    }

    /// Returns a snapshot of this pool's counters.
    ///
    /// This locks the list of threads that use the pool and sums their
    /// counters: it is meant for metrics scrapes and tests, not for every
    /// operation. See [`PoolStats`] for what the counters mean and how they
    /// relate.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = mempool::BufferPool::new();
    /// let buf = pool.get(32 << 20);
    /// let stats = pool.stats();
    /// assert_eq!((stats.oversized, stats.in_use, stats.bytes_in_use), (1, 1, 32 << 20));
    /// ```
    #[must_use]
    pub fn stats(&self) -> PoolStats {
        self.shared.stats()
    }

    /// The bucket sizes, smallest first.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = mempool::BufferPool::new();
    /// assert_eq!(pool.bucket_sizes(), &mempool::DEFAULT_BUCKET_SIZES);
    /// ```
    #[must_use]
    pub fn bucket_sizes(&self) -> &[usize] {
        self.shared.classes.sizes()
    }

    /// The largest buffer this pool hands out; larger requests fail.
    #[must_use]
    pub fn max_buffer_size(&self) -> usize {
        self.shared.max_buffer_size
    }

    /// Whether dropped buffers are zeroed before reuse.
    #[must_use]
    pub fn zeroes_on_drop(&self) -> bool {
        self.shared.zero_on_drop
    }

    pub(crate) fn leak_tracker(&self) -> Option<&LeakTracker> {
        self.shared.leaks.as_deref()
    }

    #[cfg(test)]
    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }
}

/// The failure path of [`BufferPool::get`], kept out of line.
#[cold]
#[inline(never)]
#[track_caller]
fn get_failed(error: PoolError) -> ! {
    if let PoolError::AllocFailed { size } = error {
        let layout = std::alloc::Layout::from_size_align(size, crate::aligned_buf::ALIGN)
            .unwrap_or(std::alloc::Layout::new::<u8>());
        std::alloc::handle_alloc_error(layout)
    }
    panic!("mempool: {error}")
}

impl Default for BufferPool {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for BufferPool {
    /// Frees the idle buffers of the shared buckets and of the calling
    /// thread's cache. Buffers cached by other live threads (at most the
    /// thread cache size per bucket) are freed when those threads exit or next
    /// start using a new pool.
    fn drop(&mut self) {
        // Free this thread's cached buffers now; other threads free theirs when
        // they exit or next use any pool.
        local_cache::remove(self.shared.id);
    }
}

impl Shared {
    fn threads(&self) -> MutexGuard<'_, Vec<Arc<CachePadded<Counters>>>> {
        // The list stays consistent even if a holder panicked: every update is
        // a single push or remove.
        self.threads.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sums the counters of every thread into a snapshot.
    pub(crate) fn stats(&self) -> PoolStats {
        let mut totals = Totals::new(self.buckets.len());
        {
            let threads = self.threads();
            totals.add(&self.retired);
            for counters in threads.iter() {
                totals.add(counters);
            }
        }
        let mut stats = totals.snapshot(
            self.buckets
                .iter()
                .map(|bucket| (bucket.size, bucket.max_idle)),
        );
        stats.budget = self.budget.as_ref().map(Budget::stats);
        stats
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

    /// A fresh, zeroed buffer for bucket `index`.
    pub(crate) fn allocate(&self, index: usize) -> Result<AlignedBuf, PoolError> {
        let size = self.buckets[index].size;
        AlignedBuf::try_zeroed(size).ok_or(PoolError::AllocFailed { size })
    }

    /// A get for a thread without a cache: the shared queue only.
    #[cold]
    pub(crate) fn get_uncached(&self, index: usize, size: usize) -> Result<AlignedBuf, PoolError> {
        let bucket = &self.buckets[index];
        let buf = match bucket.pop_idle() {
            Some(buf) => {
                bucket.release(1);
                buf
            }
            None => {
                let buf = self.allocate(index)?;
                self.retired.classes[index].misses.add_shared(1);
                buf
            }
        };
        self.count_uncached_get(index, size);
        Ok(buf)
    }

    /// Counts a get made without a thread cache.
    pub(crate) fn count_uncached_get(&self, index: usize, size: usize) {
        self.retired.classes[index].gets.add_shared(1);
        self.retired.bytes_requested.add_shared(size as u64);
    }

    /// A put for a thread without a cache: the shared queue only.
    #[cold]
    pub(crate) fn put_uncached(&self, index: usize, buf: AlignedBuf) {
        let bucket = &self.buckets[index];
        let counters = &self.retired.classes[index];
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

    /// Many threads trading buffers: afterwards every permit is back (free or
    /// held by a queued buffer), none was created, and the queue never held
    /// more than the bound.
    #[test]
    fn retention_permits_are_conserved_across_threads() {
        // Buffers cross threads through the channel, so the pool is a
        // `static`; and the threads are spawned, not scoped, because a joined
        // spawned thread has also run its thread-local destructors, which hand
        // its cache back.
        static POOL: std::sync::OnceLock<BufferPool> = std::sync::OnceLock::new();
        let pool = POOL.get_or_init(|| {
            BufferPool::builder()
                .bucket_sizes([64, 4096])
                .max_idle_per_bucket(5)
                .thread_cache_bytes(3 * 64)
                .build()
                .unwrap()
        });
        let (tx, rx) = std::sync::mpsc::sync_channel::<PooledBuf<'static>>(8);
        let mut threads = vec![std::thread::spawn(move || rx.into_iter().for_each(drop))];
        for t in 0..6 {
            let tx = tx.clone();
            threads.push(std::thread::spawn(move || {
                for round in 0..300usize {
                    let held: Vec<_> = (0..(round + t) % 7)
                        .map(|i| pool.get(if i % 2 == 0 { 10 } else { 3000 }))
                        .collect();
                    if round % 5 == 0 {
                        held.into_iter().for_each(|buf| tx.send(buf).unwrap());
                    }
                    if round % 50 == 0 {
                        pool.trim();
                    }
                }
                // Exit holding spare permits: the buffers go to the consumer.
                drop(pool.get(10));
                drop(pool.get(3000));
                for size in [10, 3000] {
                    tx.send(pool.get(size)).unwrap();
                }
            }));
        }
        drop(tx);
        for thread in threads {
            thread.join().unwrap();
        }
        // The workers exited, so their caches are in the queues; drain this
        // thread's too.
        local_cache::remove(pool.shared().id);
        let stats = pool.stats();
        for (bucket, figures) in pool.shared().buckets.iter().zip(&stats.buckets) {
            let queued = bucket.drain();
            assert!(queued <= bucket.max_idle, "{figures:?}");
            assert_eq!(bucket.free_permits(), bucket.max_idle, "{figures:?}");
        }
    }

    /// Permits held by nobody plus idle buffers plus what this thread's cache
    /// holds must always equal the bound; check it after assorted traffic.
    #[test]
    fn retention_permits_are_conserved() {
        let pool = BufferPool::builder()
            .bucket_sizes([64, 1024])
            .max_idle_per_bucket(6)
            .thread_cache_bytes(4 * 64)
            .build()
            .unwrap();
        let mut held = Vec::new();
        for round in 0..50usize {
            for i in 0..(round % 9) {
                held.push(pool.get(if i % 2 == 0 { 10 } else { 1000 }));
            }
            if round % 3 == 0 {
                held.clear();
            }
            if round % 7 == 0 {
                pool.trim();
            }
        }
        held.clear();
        let stats = pool.stats();
        for (bucket, figures) in pool.shared().buckets.iter().zip(&stats.buckets) {
            assert!(figures.idle as usize <= bucket.max_idle);
        }
        // Hand this thread's cache back, so that every permit is in the queue or free.
        local_cache::remove(pool.shared().id);
        for bucket in pool.shared().buckets.iter() {
            bucket.drain();
            assert_eq!(bucket.free_permits(), bucket.max_idle);
        }
    }
}
