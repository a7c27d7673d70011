//! `BufferPoolBuilder`: every pool setting, validated in one place.

use std::time::Duration;

use crate::aligned_buf::ALIGN;
use crate::bucket::Bucket;
use crate::budget::{Budget, BudgetEvent, Hook, MAX_BUDGET};
use crate::error::BuildError;
use crate::pool::BufferPool;
use crate::shared::Shared;
use crate::size_class::{DEFAULT_BUCKET_SIZES, MAX_BUCKETS};
use crate::sync::Arc;
use crate::trim;

/// Default idle bytes a bucket may keep: 32 MiB, so the 16 MiB bucket keeps two
/// buffers and the nine default buckets together keep at most about 180 MiB.
pub const DEFAULT_RETAINED_BYTES_PER_BUCKET: usize = 32 << 20;

/// Default cap on idle buffers per bucket, whatever their size: it bounds the
/// small buckets (32 MiB of 512 B buffers would be 65,536 of them).
pub const DEFAULT_MAX_IDLE_PER_BUCKET: usize = 4096;

/// The most idle buffers one bucket may keep: 65,536, which is 32 MiB of the
/// smallest default bucket (512 B). A larger bound is a
/// [`BuildError::TooManyIdle`]: its queue would take 24 bytes per slot (at
/// most 1.5 MiB here, allocated when the bucket first keeps a buffer), and
/// `usize::MAX` slots cannot be allocated at all.
pub const MAX_IDLE_PER_BUCKET: usize = 1 << 16;

/// Default largest buffer a pool hands out: 1 GiB.
pub const DEFAULT_MAX_BUFFER_SIZE: usize = 1 << 30;

/// Default bytes of each bucket one thread may cache: 1 MiB, at most 16
/// buffers and at least 1.
pub const DEFAULT_THREAD_CACHE_BYTES: usize = 1 << 20;

/// The most buffers of one bucket that a thread cache holds.
const MAX_THREAD_CACHE_BUFFERS: usize = 16;

/// Configures a [`BufferPool`].
///
/// Setters take and return the builder; [`build`](Self::build) checks the
/// whole configuration at once.
///
/// # Examples
///
/// ```
/// use mempool::BufferPool;
///
/// let pool = BufferPool::builder()
///     .bucket_sizes([1024, 64 << 10])
///     .retained_bytes_per_bucket(8 << 20)
///     .max_buffer_size(256 << 20)
///     .build()?;
/// let stats = pool.stats();
/// assert_eq!(stats.buckets[0].max_idle, 4096); // capped by max_idle_per_bucket
/// assert_eq!(stats.buckets[1].max_idle, 128);  // 8 MiB / 64 KiB
/// # Ok::<(), mempool::BuildError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct BufferPoolBuilder {
    bucket_sizes: Vec<usize>,
    retained_bytes_per_bucket: usize,
    max_idle_per_bucket: usize,
    max_buffer_size: usize,
    zero_on_drop: bool,
    thread_cache_bytes: usize,
    track_leaks: bool,
    memory_budget: Option<u64>,
    budget_hook: Option<Hook>,
    idle_trim: Option<(Duration, u64)>,
}

impl BufferPoolBuilder {
    /// A builder with the default settings, which [`BufferPool::new`] uses.
    pub fn new() -> Self {
        Self {
            bucket_sizes: DEFAULT_BUCKET_SIZES.to_vec(),
            retained_bytes_per_bucket: DEFAULT_RETAINED_BYTES_PER_BUCKET,
            max_idle_per_bucket: DEFAULT_MAX_IDLE_PER_BUCKET,
            max_buffer_size: DEFAULT_MAX_BUFFER_SIZE,
            zero_on_drop: true,
            thread_cache_bytes: DEFAULT_THREAD_CACHE_BYTES,
            track_leaks: false,
            memory_budget: None,
            budget_hook: None,
            idle_trim: None,
        }
    }

    /// Sets the bucket sizes, which must be non-zero and strictly ascending.
    /// Requests above the last size are allocated directly (oversized).
    ///
    /// Defaults to [`DEFAULT_BUCKET_SIZES`].
    pub fn bucket_sizes(mut self, sizes: impl IntoIterator<Item = usize>) -> Self {
        self.bucket_sizes = sizes.into_iter().collect();
        self
    }

    /// Sets the idle bytes each bucket may keep: a bucket of size `s` keeps at
    /// most `bytes / s` idle buffers (and at most
    /// [`max_idle_per_bucket`](Self::max_idle_per_bucket)). A bucket larger
    /// than `bytes` keeps none.
    ///
    /// Defaults to 32 MiB ([`DEFAULT_RETAINED_BYTES_PER_BUCKET`]).
    pub fn retained_bytes_per_bucket(mut self, bytes: usize) -> Self {
        self.retained_bytes_per_bucket = bytes;
        self
    }

    /// Sets the most idle buffers any bucket keeps, whatever its size. With
    /// `retained_bytes_per_bucket(usize::MAX)` this sets the same count for
    /// every bucket; 0 disables retention. `usize::MAX` leaves the count to
    /// `retained_bytes_per_bucket`.
    ///
    /// [`build`](Self::build) fails with [`BuildError::TooManyIdle`] if a
    /// bucket would keep more than [`MAX_IDLE_PER_BUCKET`] buffers.
    ///
    /// Defaults to 4096 ([`DEFAULT_MAX_IDLE_PER_BUCKET`]).
    pub fn max_idle_per_bucket(mut self, count: usize) -> Self {
        self.max_idle_per_bucket = count;
        self
    }

    /// Sets the largest buffer the pool hands out. Larger requests fail with
    /// [`PoolError::TooLarge`](crate::PoolError::TooLarge) (or panic in
    /// [`BufferPool::get`]).
    ///
    /// Defaults to 1 GiB ([`DEFAULT_MAX_BUFFER_SIZE`]).
    pub fn max_buffer_size(mut self, bytes: usize) -> Self {
        self.max_buffer_size = bytes;
        self
    }

    /// Sets whether a returned buffer is zeroed (the bytes that could have
    /// been written) before it is handed out again.
    ///
    /// Turning it off saves one pass over the used bytes, but a new guard may
    /// then show bytes written by an earlier user of the buffer: another
    /// connection's data, or a secret. Do that only when every caller
    /// overwrites what it reads, and never for buffers that hold credentials.
    /// It is still memory-safe: stale bytes are initialised bytes.
    ///
    /// Defaults to `true`.
    pub fn zero_on_drop(mut self, zero: bool) -> Self {
        self.zero_on_drop = zero;
        self
    }

    /// Sets how many bytes of each bucket one thread may keep in its own cache
    /// (at least one buffer, at most 16); 0 turns the thread caches off, so
    /// every get and drop goes to the shared queues.
    ///
    /// Cached buffers count against the bucket's retention bound.
    ///
    /// Defaults to 1 MiB ([`DEFAULT_THREAD_CACHE_BYTES`]).
    pub fn thread_cache_bytes(mut self, bytes: usize) -> Self {
        self.thread_cache_bytes = bytes;
        self
    }

    /// Sets whether the pool records, for every live guard, the call site that
    /// took it (through `#[track_caller]`), when and on which thread, so that
    /// [`BufferPool::leaks`] can list the guards held too long or never
    /// dropped.
    ///
    /// On, each get and drop also locks one of 16 shards of a map (and a get
    /// reads the clock): turn it on in tests, staging, or while hunting a
    /// leak. Off, it costs one predictable branch per get and drop.
    ///
    /// Defaults to `false`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = mempool::BufferPool::builder().track_leaks(true).build()?;
    /// let buf = pool.get(10);
    /// assert_eq!(pool.leaks(Duration::ZERO)[0].location.line(), line!() - 1);
    /// drop(buf);
    /// assert!(pool.leaks(Duration::ZERO).is_empty());
    /// # Ok::<(), mempool::BuildError>(())
    /// ```
    pub fn track_leaks(mut self, track: bool) -> Self {
        self.track_leaks = track;
        self
    }

    /// Caps the bytes the pool hands out at once: the sum of the capacities of
    /// live guards, pooled and oversized together, never exceeds `bytes`.
    ///
    /// A get charges its buffer's capacity (the bucket size, or the requested
    /// size above the largest bucket), which is the memory it really holds,
    /// and the guard's drop refunds it. When the budget is spent,
    /// [`BufferPool::try_get`] fails with
    /// [`Exhausted`](crate::PoolError::Exhausted),
    /// [`BufferPool::get_timeout`] waits up to its timeout, and
    /// [`BufferPool::get`] waits for as long as it takes; waiters are served
    /// first come, first served. Idle buffers the pool retains are not
    /// charged: they are bounded by the retention settings, so the pool holds
    /// at most the budget plus its retention bound. `docs/budget.md` has the
    /// full semantics.
    ///
    /// With a budget, a get and a drop that need not wait each make one
    /// compare-and-swap on a shared counter; waiting, granting and closing
    /// take a mutex. Without a budget (the default), they pay a single branch.
    /// The budget may be at most 2^63 - 1 bytes.
    ///
    /// A guard that is leaked (`mem::forget`) never refunds its charge.
    ///
    /// Defaults to no budget.
    ///
    /// # Examples
    ///
    /// ```
    /// use mempool::{BufferPool, PoolError};
    ///
    /// let pool = BufferPool::builder().bucket_sizes([10, 100]).memory_budget(21).build()?;
    /// let a = pool.try_get(10)?;
    /// let b = pool.try_get(10)?;
    /// let error = pool.try_get(10).unwrap_err();
    /// assert_eq!(error, PoolError::Exhausted { requested: 10, available: 1, budget: 21 });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn memory_budget(mut self, bytes: u64) -> Self {
        self.memory_budget = Some(bytes);
        self
    }

    /// Calls `hook` on every [`BudgetEvent`] of the memory budget: when a get
    /// finds the budget spent, and when a wait ends. A metrics collector can
    /// count them; the same figures are also in
    /// [`PoolStats::budget`](crate::PoolStats::budget).
    ///
    /// The hook runs on the thread of the get, outside every lock, so it may
    /// use the pool. If it panics, the panic propagates out of that get, and
    /// the budget is left exact: bytes charged for the get are refunded while
    /// the panic unwinds, and a queued get leaves the queue.
    ///
    /// Defaults to no hook. Has no effect without a memory budget.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use mempool::{BudgetEvent, BufferPool};
    ///
    /// let events = Arc::new(Mutex::new(Vec::new()));
    /// let log = Arc::clone(&events);
    /// let pool = BufferPool::builder()
    ///     .bucket_sizes([64])
    ///     .memory_budget(64)
    ///     .on_budget_event(move |event| log.lock().unwrap().push(event.clone()))
    ///     .build()?;
    /// let held = pool.get(64);
    /// assert!(pool.try_get(64).is_err());
    /// let events = events.lock().unwrap();
    /// assert_eq!(events[0], BudgetEvent::Exhausted { requested: 64, available: 0 });
    /// # Ok::<(), mempool::BuildError>(())
    /// ```
    pub fn on_budget_event(mut self, hook: impl Fn(&BudgetEvent) + Send + Sync + 'static) -> Self {
        self.budget_hook = Some(Hook(Arc::new(hook)));
        self
    }

    /// Starts a background thread that gives memory back after a burst: every
    /// `interval`, if no buffer was handed out since its previous look, it
    /// frees idle buffers until the pool retains at most `floor` bytes, as
    /// [`BufferPool::trim_to`] does (buffers in other threads' caches go at
    /// those threads' next use of the pool, or when they exit). The thread
    /// stops, and is joined, when the pool drops.
    ///
    /// Defaults to off: nothing runs in the background unless asked.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = mempool::BufferPool::builder()
    ///     .idle_trim(Duration::from_secs(30), 64 << 20)
    ///     .build()?;
    /// drop(pool); // stops and joins the thread at once
    /// # Ok::<(), mempool::BuildError>(())
    /// ```
    pub fn idle_trim(mut self, interval: Duration, floor: u64) -> Self {
        self.idle_trim = Some((interval, floor));
        self
    }

    /// Checks the configuration and creates the pool. No buffer is allocated
    /// until the first get.
    ///
    /// # Errors
    ///
    /// Returns a [`BuildError`] if the bucket sizes are empty, more than 64,
    /// zero, not strictly ascending, above the maximum buffer size, or too
    /// large to allocate; if a bucket would keep more than
    /// [`MAX_IDLE_PER_BUCKET`] idle buffers; if the memory budget is zero or
    /// above 2^63 - 1; if the idle-trim interval is zero; or if the idle-trim
    /// thread cannot be started.
    ///
    /// # Examples
    ///
    /// ```
    /// use mempool::{BufferPool, BuildError};
    ///
    /// let error = BufferPool::builder().bucket_sizes([]).build().unwrap_err();
    /// assert_eq!(error, BuildError::NoBuckets);
    /// ```
    pub fn build(&self) -> Result<BufferPool, BuildError> {
        let sizes = &self.bucket_sizes;
        if sizes.is_empty() {
            return Err(BuildError::NoBuckets);
        }
        if sizes.len() > MAX_BUCKETS {
            return Err(BuildError::TooManyBuckets {
                count: sizes.len(),
                max: MAX_BUCKETS,
            });
        }
        if sizes.contains(&0) {
            return Err(BuildError::ZeroBucket);
        }
        if let Some(pair) = sizes.windows(2).find(|pair| pair[0] >= pair[1]) {
            return Err(BuildError::BucketsNotAscending {
                smaller: pair[1],
                larger: pair[0],
            });
        }
        let max = self.max_buffer_size;
        if max > isize::MAX as usize - ALIGN {
            return Err(BuildError::SizeOverflow { size: max });
        }
        let largest = sizes[sizes.len() - 1];
        if largest > max {
            return Err(BuildError::BucketAboveMax {
                bucket: largest,
                max,
            });
        }
        match self.memory_budget {
            Some(0) => return Err(BuildError::ZeroBudget),
            Some(budget) if budget > MAX_BUDGET => {
                return Err(BuildError::BudgetTooLarge {
                    budget,
                    max: MAX_BUDGET,
                });
            }
            _ => {}
        }
        if self
            .idle_trim
            .is_some_and(|(interval, _)| interval.is_zero())
        {
            return Err(BuildError::ZeroTrimInterval);
        }
        let max_idle =
            |size: usize| (self.retained_bytes_per_bucket / size).min(self.max_idle_per_bucket);
        // The smallest bucket keeps the most.
        if max_idle(sizes[0]) > MAX_IDLE_PER_BUCKET {
            return Err(BuildError::TooManyIdle {
                bucket: sizes[0],
                count: max_idle(sizes[0]),
                max: MAX_IDLE_PER_BUCKET,
            });
        }
        let buckets = sizes
            .iter()
            .map(|&size| {
                let local_cap = match self.thread_cache_bytes {
                    0 => 0,
                    bytes => (bytes / size).clamp(1, MAX_THREAD_CACHE_BUFFERS),
                };
                Bucket::new(size, max_idle(size), local_cap)
            })
            .collect();
        let budget = self
            .memory_budget
            .map(|limit| Budget::new(limit, self.budget_hook.clone()));
        let shared = Arc::new(Shared::new(buckets, max, self.zero_on_drop));
        let idle_trim = match self.idle_trim {
            None => None,
            Some((interval, floor)) => Some(
                trim::spawn_idle_trimmer(Arc::clone(&shared), interval, floor)
                    .map_err(|error| BuildError::TrimThread { kind: error.kind() })?,
            ),
        };
        Ok(BufferPool::from_parts(
            shared,
            budget,
            self.track_leaks,
            idle_trim,
        ))
    }
}

impl Default for BufferPoolBuilder {
    fn default() -> Self {
        Self::new()
    }
}
