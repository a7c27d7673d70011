//! `BufferPool`: the facade that holds every public method of a pool, routes each get once, and adds the optional mechanisms.
//!
//! A get goes down the layers once and comes back: this file routes the size,
//! charges the budget (`budget/`), takes the buffer from the thread cache
//! (`local_cache.rs`), which falls back to the core (`shared.rs`), and records
//! the guard for leak tracking (`leak.rs`). Nothing below calls back up here.

use std::panic::Location;
use std::time::Duration;

use crate::aligned_buf::AlignedBuf;
use crate::background::Background;
use crate::budget::{Budget, Charge};
use crate::builder::BufferPoolBuilder;
use crate::error::PoolError;
#[cfg(feature = "async")]
use crate::get_async::GetAsync;
use crate::leak::{LeakReport, LeakTracker};
use crate::local_cache;
use crate::pooled_buf::PooledBuf;
use crate::shared::Shared;
use crate::size_class::{FastRoute, MAX_BUCKETS, OVERSIZED};
use crate::stats::PoolStats;
use crate::sync::Arc;
use crate::trim;

/// The flag `BufferPool::put_flag` sets: above every bucket index.
const SLOW_PUT: u8 = 0x80;

// Below, not at: a flagged bucket 127 would read as `OVERSIZED` (0xFF).
const _: () = assert!(MAX_BUCKETS < SLOW_PUT as usize);

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
    /// The core, shared with the thread caches and the idle-trim thread.
    shared: Arc<Shared>,
    /// Set in the class of every guard this pool hands out: 0 for a pool
    /// with neither a budget nor leak tracking, [`SLOW_PUT`] otherwise. A
    /// flagged class (like `OVERSIZED`) fails the put fast path's bounds
    /// check on the thread cache's stacks, so that one compare tests for
    /// both features and for an oversized buffer (the get side does the same
    /// in `fast`).
    put_flag: u8,
    /// The get fast path's routing; it also refuses oversized requests and
    /// pools with a budget or leak tracking, in the same compare. Boxed: it is 1 KiB,
    /// and a `BufferPool` is moved by value (`init_global`).
    fast: Box<FastRoute>,
    /// The memory budget, if one was configured (`budget/`). Boxed: it is
    /// large (a padded word and a mutex), and most pools have none.
    pub(crate) budget: Option<Box<Budget>>,
    /// `Some` when leak tracking is on; off, it costs one branch per get and drop.
    leaks: Option<Box<LeakTracker>>,
    /// The idle-trim thread, stopped and joined on drop (`trim.rs`).
    _idle_trim: Option<Background>,
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

    /// Assembles a pool from its checked parts (for the builder).
    pub(crate) fn from_parts(
        shared: Arc<Shared>,
        budget: Option<Budget>,
        track_leaks: bool,
        idle_trim: Option<Background>,
    ) -> Self {
        let plain = !track_leaks && budget.is_none();
        Self {
            fast: Box::new(FastRoute::new(&shared.classes, plain)),
            put_flag: if plain { 0 } else { SLOW_PUT },
            shared,
            budget: budget.map(Box::new),
            leaks: track_leaks.then(|| Box::new(LeakTracker::new())),
            _idle_trim: idle_trim,
        }
    }

    // --- getting a buffer ---------------------------------------------------

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
        let (buf, class) = match self.take_fast(size) {
            Some(taken) => taken,
            None => self.get_slow(size),
        };
        PooledBuf::new(self, buf, size, class)
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
        let (buf, class) = match self.take_fast(size) {
            Some(taken) => taken,
            None => self.try_get_slow(size)?,
        };
        Ok(PooledBuf::new(self, buf, size, class))
    }

    /// Takes a buffer of `size` bytes, all zero, waiting up to `timeout` for
    /// the [memory budget](crate::BufferPoolBuilder::memory_budget) to have
    /// room for it.
    ///
    /// Waiting gets are served first come, first served: bytes given back go
    /// to the oldest waiter first, and a later, smaller get does not overtake
    /// it. A dropped guard wakes the waiter it makes room for at once. The
    /// timeout is never cut short; it may run late by the time the thread
    /// takes to be scheduled again.
    ///
    /// Without a budget it never waits, and behaves as
    /// [`try_get`](Self::try_get).
    ///
    /// # Errors
    ///
    /// * [`PoolError::Timeout`] if the budget had no room for the buffer's
    ///   capacity before `timeout` passed;
    /// * [`PoolError::Closed`] if the pool is [closed](Self::close) before or
    ///   while it waits;
    /// * [`PoolError::ExceedsBudget`] at once if the capacity is above the
    ///   whole budget;
    /// * [`PoolError::TooLarge`] and [`PoolError::AllocFailed`] as for
    ///   [`try_get`](Self::try_get).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use mempool::{BufferPool, PoolError};
    ///
    /// let pool = BufferPool::builder().bucket_sizes([1024]).memory_budget(2048).build()?;
    /// let a = pool.get_timeout(1000, Duration::from_secs(1))?;
    /// let b = pool.get_timeout(1000, Duration::from_secs(1))?;
    /// // The budget is spent: a third get waits 10 ms, then gives up.
    /// let error = pool.get_timeout(1000, Duration::from_millis(10)).unwrap_err();
    /// assert!(matches!(error, PoolError::Timeout { requested: 1024, .. }));
    /// drop(a);
    /// assert!(pool.get_timeout(1000, Duration::from_millis(10)).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn get_timeout(&self, size: usize, timeout: Duration) -> Result<PooledBuf<'_>, PoolError> {
        let class = self.route(size);
        match &self.budget {
            None => self.hand_out(size, class, Location::caller()),
            Some(budget) => {
                let charge =
                    budget.charge_blocking(self.charge_for(size, class)?, Some(timeout))?;
                self.hand_out_charged(charge, size, class, Location::caller())
            }
        }
    }

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
    #[cfg(feature = "async")]
    pub fn get_async(&self, size: usize) -> GetAsync<'_> {
        GetAsync::new(self, size, Location::caller())
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
    /// With a [memory budget](BufferPoolBuilder::memory_budget), it waits as
    /// [`get`](Self::get) does: in line, for as long as it takes.
    ///
    /// # Panics
    ///
    /// As [`get`](Self::get): if `capacity` is above the maximum buffer size;
    /// with a memory budget, if the buffer's capacity is above the whole
    /// budget or the pool is [closed](Self::close) before or while it waits;
    /// and on allocation failure (abort).
    /// [`try_get_empty`](Self::try_get_empty) returns errors instead.
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
    /// returns an error; see [`get_empty`](Self::get_empty). It never waits.
    ///
    /// # Errors
    ///
    /// As [`try_get`](Self::try_get): [`PoolError::TooLarge`],
    /// [`PoolError::AllocFailed`], and with a memory budget
    /// [`PoolError::Exhausted`], [`PoolError::ExceedsBudget`] and
    /// [`PoolError::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = mempool::BufferPool::new();
    /// assert!(pool.try_get_empty(100)?.is_empty());
    /// assert!(pool.try_get_empty(usize::MAX).is_err());
    /// # Ok::<(), mempool::PoolError>(())
    /// ```
    #[track_caller]
    pub fn try_get_empty(&self, capacity: usize) -> Result<PooledBuf<'_>, PoolError> {
        let mut buf = self.try_get(capacity)?;
        buf.clear();
        Ok(buf)
    }

    // --- the memory budget --------------------------------------------------

    /// Closes the pool's memory budget: every waiting get fails at once with
    /// [`PoolError::Closed`], and so does every later get. Guards still out
    /// may be dropped as usual, and their bytes are refunded. Calling it again
    /// does nothing.
    ///
    /// A pool without a memory budget has no waiters and no state to close:
    /// there, `close` does nothing and gets keep working, so that an
    /// unbudgeted get pays no check for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use mempool::{BufferPool, PoolError};
    ///
    /// let pool = BufferPool::builder().memory_budget(1 << 20).build()?;
    /// let held = pool.get(100);
    /// pool.close();
    /// assert!(pool.is_closed());
    /// assert_eq!(pool.try_get(100).unwrap_err(), PoolError::Closed);
    /// drop(held); // still fine
    /// assert_eq!(pool.stats().budget.unwrap().in_use, 0);
    /// # Ok::<(), mempool::BuildError>(())
    /// ```
    pub fn close(&self) {
        if let Some(budget) = &self.budget {
            budget.close();
        }
    }

    /// Whether [`close`](Self::close) was called on a pool with a memory
    /// budget. Always `false` for a pool without one.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = mempool::BufferPool::new();
    /// pool.close();
    /// assert!(!pool.is_closed()); // no budget: nothing to close
    /// ```
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.budget.as_deref().is_some_and(Budget::is_closed)
    }

    /// The memory budget, in bytes, if the pool has one.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = mempool::BufferPool::builder().memory_budget(5 << 30).build()?;
    /// assert_eq!(pool.memory_budget(), Some(5 << 30));
    /// assert_eq!(mempool::BufferPool::new().memory_budget(), None);
    /// # Ok::<(), mempool::BuildError>(())
    /// ```
    #[must_use]
    pub fn memory_budget(&self) -> Option<u64> {
        self.budget.as_deref().map(Budget::limit)
    }

    // --- giving memory back -------------------------------------------------

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
        trim::trim(&self.shared)
    }

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
        trim::trim_to(&self.shared, floor)
    }

    // --- looking in ---------------------------------------------------------

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
        let mut stats = self.shared.stats();
        stats.budget = self.budget.as_deref().map(Budget::stats);
        stats
    }

    /// Lists the guards alive for at least `older_than`, oldest first, with
    /// the call site that took each one.
    ///
    /// Only a pool built with
    /// [`track_leaks(true)`](crate::BufferPoolBuilder::track_leaks) records
    /// guards; for any other pool this returns an empty list. A guard that was
    /// `mem::forget`-ten stays listed for the life of the pool. This locks each
    /// of the pool's 16 leak shards in turn: it is meant for a periodic check
    /// or a debug endpoint, not for every operation.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = mempool::BufferPool::builder().track_leaks(true).build()?;
    /// std::mem::forget(pool.get(100)); // a leak
    /// let held = pool.get(100);        // alive, but young
    ///
    /// std::thread::sleep(Duration::from_millis(20));
    /// drop(held);
    /// let leaks = pool.leaks(Duration::from_millis(10));
    /// assert_eq!(leaks.len(), 1);
    /// assert_eq!(leaks[0].location.line(), line!() - 7);
    /// # Ok::<(), mempool::BuildError>(())
    /// ```
    #[must_use]
    pub fn leaks(&self, older_than: Duration) -> Vec<LeakReport> {
        match &self.leaks {
            Some(tracker) => tracker.older_than(older_than),
            None => Vec::new(),
        }
    }

    /// Whether this pool records where its guards were taken; see
    /// [`BufferPoolBuilder::track_leaks`](crate::BufferPoolBuilder::track_leaks).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!mempool::BufferPool::new().tracks_leaks());
    /// ```
    #[must_use]
    pub fn tracks_leaks(&self) -> bool {
        self.leaks.is_some()
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

    // --- the layers below ---------------------------------------------------

    /// The fast path of `get` and `try_get`: the newest idle buffer of this
    /// thread's stack, for a pool with neither a budget nor leak tracking
    /// (one table load and one compare route the size and check both).
    /// `None` sends the caller down the full path, which routes again.
    ///
    /// The fast and the full path return the buffer and the guard's class,
    /// and the caller builds the guard where they meet: the fast path's
    /// values then stay in registers (a guard returned by the full path would
    /// make both meet in memory).
    #[inline(always)]
    fn take_fast(&self, size: usize) -> Option<(AlignedBuf, u8)> {
        let class = self.fast.class_of(size)?;
        // SAFETY: the fast route, built from this pool's bucket sizes,
        // answers only with their indices.
        let buf = unsafe { local_cache::take(&self.shared, usize::from(class), size) }?;
        // The fast route is off for the pools that flag their guards
        // (`put_flag`), so the class needs no flag here.
        Some((buf, class))
    }

    /// `get` past the fast path: misses, oversized requests, budgets, leak
    /// tracking, and threads without a cache.
    #[cold]
    #[track_caller]
    fn get_slow(&self, size: usize) -> (AlignedBuf, u8) {
        let class = self.route(size);
        let location = Location::caller();
        let result = match &self.budget {
            None => self.take_for_guard(size, class, location),
            Some(budget) => self.charge_for(size, class).and_then(|bytes| {
                let charge = budget.charge_blocking(bytes, None)?;
                self.take_charged(charge, size, class, location)
            }),
        };
        match result {
            Ok(buf) => buf,
            Err(error) => get_failed(error),
        }
    }

    /// `try_get` past the fast path; see [`get_slow`](Self::get_slow).
    #[cold]
    #[track_caller]
    fn try_get_slow(&self, size: usize) -> Result<(AlignedBuf, u8), PoolError> {
        let class = self.route(size);
        let location = Location::caller();
        match &self.budget {
            None => self.take_for_guard(size, class, location),
            Some(budget) => {
                let charge = budget.try_charge(self.charge_for(size, class)?)?;
                self.take_charged(charge, size, class, location)
            }
        }
    }

    /// The bytes a get of `size` (routed to `class`) charges: the capacity
    /// of the buffer it would hand out. Fails for sizes above the maximum
    /// buffer size, before any budget is touched.
    pub(crate) fn charge_for(&self, size: usize, class: u8) -> Result<u64, PoolError> {
        if class != OVERSIZED {
            return Ok(self.shared.buckets[usize::from(class)].size as u64);
        }
        if size > self.shared.max_buffer_size {
            return Err(PoolError::TooLarge {
                requested: size,
                max: self.shared.max_buffer_size,
            });
        }
        Ok(size as u64)
    }

    /// Hands out a guard for `size` bytes of bucket `class`, with no regard
    /// to the budget: takes or allocates the buffer, and records `location`
    /// when leak tracking is on.
    pub(crate) fn hand_out(
        &self,
        size: usize,
        class: u8,
        location: &'static Location<'static>,
    ) -> Result<PooledBuf<'_>, PoolError> {
        let (buf, class) = self.take_for_guard(size, class, location)?;
        Ok(PooledBuf::new(self, buf, size, class))
    }

    /// [`hand_out`](Self::hand_out) without building the guard: the buffer,
    /// and the guard's class, flagged with `put_flag`.
    fn take_for_guard(
        &self,
        size: usize,
        class: u8,
        location: &'static Location<'static>,
    ) -> Result<(AlignedBuf, u8), PoolError> {
        let buf = if class == OVERSIZED {
            self.shared.allocate_oversized(size)?
        } else {
            local_cache::take_or_allocate(&self.shared, usize::from(class), size)?
        };
        if let Some(leaks) = &self.leaks {
            leaks.record(&buf, size, location);
        }
        Ok((buf, class | self.put_flag))
    }

    /// [`hand_out`](Self::hand_out) for a get that holds a budget charge: the
    /// guard's drop will refund it. If the buffer cannot be had, the charge
    /// drops and refunds itself.
    pub(crate) fn hand_out_charged(
        &self,
        charge: Charge<'_>,
        size: usize,
        class: u8,
        location: &'static Location<'static>,
    ) -> Result<PooledBuf<'_>, PoolError> {
        let (buf, class) = self.take_charged(charge, size, class, location)?;
        Ok(PooledBuf::new(self, buf, size, class))
    }

    /// [`hand_out_charged`](Self::hand_out_charged) without building the
    /// guard, as [`take_for_guard`](Self::take_for_guard) is to `hand_out`.
    fn take_charged(
        &self,
        charge: Charge<'_>,
        size: usize,
        class: u8,
        location: &'static Location<'static>,
    ) -> Result<(AlignedBuf, u8), PoolError> {
        let taken = self.take_for_guard(size, class, location)?;
        charge.commit();
        Ok(taken)
    }

    /// Takes back the buffer of a dropped guard (its `Drop`). `dirty` bytes
    /// from the start may have been written.
    ///
    /// The fast path pushes the buffer onto this thread's stack and zeroes it
    /// there; everything else (oversized buffers, budgets, leak tracking, no
    /// spare permit, another pool in front) goes to one out-of-line call.
    #[inline(always)]
    pub(crate) fn put(&self, buf: AlignedBuf, class: u8, dirty: usize) {
        if let Err(buf) = local_cache::keep_fast(&self.shared, usize::from(class), buf, dirty) {
            self.put_slow(buf, class, dirty);
        }
    }

    /// `put` past the fast path: an oversized buffer, a pool with leak
    /// tracking or a budget, or a buffer the fast path could not keep.
    #[cold]
    #[inline(never)]
    fn put_slow(&self, buf: AlignedBuf, class: u8, dirty: usize) {
        let class = if class == OVERSIZED {
            class
        } else {
            class & !SLOW_PUT
        };
        if let Some(leaks) = &self.leaks {
            leaks.forget(&buf);
        }
        // Refunds the capacity once the buffer is back, even when unwinding.
        let _refund = self
            .budget
            .as_ref()
            .map(|budget| budget.refund_on_drop(buf.capacity() as u64));
        self.put_untracked(buf, class, dirty);
    }

    /// The put itself: scrub, then keep (or discard) it, or free it if oversized.
    fn put_untracked(&self, mut buf: AlignedBuf, class: u8, dirty: usize) {
        let shared = &*self.shared;
        if class == OVERSIZED {
            shared.free_oversized(buf);
            return;
        }
        shared.scrub(&mut buf, dirty);
        local_cache::keep(&self.shared, usize::from(class), buf);
    }

    /// Routes `size` to its bucket index, or `OVERSIZED`: once per get.
    #[inline]
    pub(crate) fn route(&self, size: usize) -> u8 {
        self.shared.classes.class_of(size)
    }

    /// The core, for the unit tests.
    #[cfg(test)]
    pub(crate) fn shared(&self) -> &Arc<Shared> {
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
