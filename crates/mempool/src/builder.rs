//! `BufferPoolBuilder`: every pool setting, validated in one place.

use crate::aligned_buf::ALIGN;
use crate::bucket::Bucket;
use crate::error::BuildError;
use crate::pool::BufferPool;
use crate::size_class::{DEFAULT_BUCKET_SIZES, MAX_BUCKETS};

/// Default idle bytes a bucket may keep: 32 MiB, so the 16 MiB bucket keeps two
/// buffers and the nine default buckets together keep at most about 180 MiB.
pub const DEFAULT_RETAINED_BYTES_PER_BUCKET: usize = 32 << 20;

/// Default cap on idle buffers per bucket, whatever their size: it bounds the
/// small buckets (32 MiB of 512 B buffers would be 65,536 of them).
pub const DEFAULT_MAX_IDLE_PER_BUCKET: usize = 4096;

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
    /// every bucket; 0 disables retention.
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

    /// Checks the configuration and creates the pool. No buffer is allocated
    /// until the first get.
    ///
    /// # Errors
    ///
    /// Returns a [`BuildError`] if the bucket sizes are empty, more than 64,
    /// zero, not strictly ascending, above the maximum buffer size, or too
    /// large to allocate.
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
        let buckets = sizes
            .iter()
            .map(|&size| {
                let max_idle =
                    (self.retained_bytes_per_bucket / size).min(self.max_idle_per_bucket);
                let local_cap = match self.thread_cache_bytes {
                    0 => 0,
                    bytes => (bytes / size).clamp(1, MAX_THREAD_CACHE_BUFFERS),
                };
                Bucket::new(size, max_idle, local_cap)
            })
            .collect();
        Ok(BufferPool::from_parts(
            buckets,
            max,
            self.zero_on_drop,
            self.track_leaks,
        ))
    }
}

impl Default for BufferPoolBuilder {
    fn default() -> Self {
        Self::new()
    }
}
