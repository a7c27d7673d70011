//! Errors: [`PoolError`] for getting a buffer, [`BuildError`] for building a pool.

use std::io;
use std::time::Duration;

/// Why a buffer could not be handed out.
///
/// # Examples
///
/// ```
/// use mempool::PoolError;
///
/// let error = mempool::try_get_buffer(usize::MAX).unwrap_err();
/// assert_eq!(error, PoolError::TooLarge { requested: usize::MAX, max: 1 << 30 });
/// assert!(error.to_string().contains("max_buffer_size"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// The request is larger than the pool's maximum buffer size.
    #[error(
        "requested {requested} bytes, above the pool's maximum buffer size of {max} bytes \
         (raise it with BufferPoolBuilder::max_buffer_size)"
    )]
    TooLarge {
        /// The size that was asked for.
        requested: usize,
        /// The pool's maximum buffer size.
        max: usize,
    },
    /// The allocator could not provide the memory.
    #[error("allocating a buffer of {size} bytes failed")]
    AllocFailed {
        /// The number of bytes the pool tried to allocate.
        size: usize,
    },
    /// The pool's memory budget is spent, or other gets are already waiting
    /// for it (they are served first), so a get that may not wait failed.
    #[error(
        "memory budget exhausted: {requested} bytes requested, {available} of {budget} available \
         (or earlier gets are waiting)"
    )]
    Exhausted {
        /// The bytes the get would charge: its buffer's capacity.
        requested: u64,
        /// The bytes free when it failed.
        available: u64,
        /// The pool's budget.
        budget: u64,
    },
    /// A get waited for the memory budget until its timeout.
    #[error("timed out after {timeout:?} waiting for {requested} bytes of memory budget")]
    Timeout {
        /// The bytes the get would charge: its buffer's capacity.
        requested: u64,
        /// How long it was allowed to wait.
        timeout: Duration,
    },
    /// The pool was closed with [`BufferPool::close`](crate::BufferPool::close).
    #[error("the pool is closed")]
    Closed,
    /// The get would charge more than the whole memory budget, so it can never
    /// succeed.
    #[error(
        "requested {requested} bytes, above the whole memory budget of {budget} bytes \
         (raise it with BufferPoolBuilder::memory_budget)"
    )]
    ExceedsBudget {
        /// The bytes the get would charge: its buffer's capacity.
        requested: u64,
        /// The pool's budget.
        budget: u64,
    },
}

impl From<PoolError> for io::Error {
    /// Maps `TooLarge` and `ExceedsBudget` to `InvalidInput`, `AllocFailed`
    /// to `OutOfMemory`, `Exhausted` to `WouldBlock`, `Timeout` to `TimedOut`
    /// and `Closed` to `BrokenPipe`, so that `?` works inside `io::Write`
    /// implementations.
    fn from(error: PoolError) -> Self {
        let kind = match error {
            PoolError::TooLarge { .. } | PoolError::ExceedsBudget { .. } => {
                io::ErrorKind::InvalidInput
            }
            PoolError::AllocFailed { .. } => io::ErrorKind::OutOfMemory,
            PoolError::Exhausted { .. } => io::ErrorKind::WouldBlock,
            PoolError::Timeout { .. } => io::ErrorKind::TimedOut,
            PoolError::Closed => io::ErrorKind::BrokenPipe,
        };
        io::Error::new(kind, error)
    }
}

/// Why a [`BufferPoolBuilder`](crate::BufferPoolBuilder) configuration was
/// rejected.
///
/// # Examples
///
/// ```
/// use mempool::{BufferPool, BuildError};
///
/// let error = BufferPool::builder().bucket_sizes([4096, 1024]).build().unwrap_err();
/// assert_eq!(error, BuildError::BucketsNotAscending { smaller: 1024, larger: 4096 });
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No bucket sizes were given.
    #[error("a pool needs at least one bucket size")]
    NoBuckets,
    /// More bucket sizes than a pool supports.
    #[error("{count} bucket sizes given, at most {max} are supported")]
    TooManyBuckets {
        /// The number given.
        count: usize,
        /// The most allowed.
        max: usize,
    },
    /// A bucket size of zero.
    #[error("bucket sizes must be at least 1 byte")]
    ZeroBucket,
    /// Bucket sizes must be strictly ascending.
    #[error("bucket sizes must be strictly ascending, but {larger} comes before {smaller}")]
    BucketsNotAscending {
        /// The size that comes second.
        smaller: usize,
        /// The size that comes first.
        larger: usize,
    },
    /// A bucket is larger than the maximum buffer size.
    #[error("bucket size {bucket} is above the maximum buffer size {max}")]
    BucketAboveMax {
        /// The offending bucket size.
        bucket: usize,
        /// The configured maximum buffer size.
        max: usize,
    },
    /// A size that no allocation can have (above `isize::MAX` once aligned).
    #[error("size {size} is too large for any allocation")]
    SizeOverflow {
        /// The offending size.
        size: usize,
    },
    /// A bucket would keep more idle buffers than
    /// [`MAX_IDLE_PER_BUCKET`](crate::MAX_IDLE_PER_BUCKET).
    #[error(
        "bucket size {bucket} would keep {count} idle buffers, above the most supported, {max} \
         (lower max_idle_per_bucket or retained_bytes_per_bucket)"
    )]
    TooManyIdle {
        /// The bucket size that keeps the most (the smallest).
        bucket: usize,
        /// The idle buffers it would keep: `retained_bytes_per_bucket / bucket`,
        /// at most `max_idle_per_bucket`.
        count: usize,
        /// The most supported.
        max: usize,
    },
    /// A memory budget of zero bytes, which no get could ever fit.
    #[error("a memory budget must be at least 1 byte")]
    ZeroBudget,
    /// A memory budget above the largest supported, 2^63 - 1 bytes (the top
    /// bit of the count is a flag).
    #[error("a memory budget of {budget} bytes is above the largest supported, {max}")]
    BudgetTooLarge {
        /// The budget asked for.
        budget: u64,
        /// The largest supported budget.
        max: u64,
    },
    /// An idle-trim interval of zero.
    #[error("the idle-trim interval must be above zero")]
    ZeroTrimInterval,
    /// The idle-trim thread could not be started.
    #[error("starting the idle-trim thread failed: {kind}")]
    TrimThread {
        /// Why the operating system refused the thread.
        kind: io::ErrorKind,
    },
}

/// A write would go past the end of a [`PooledBuf`](crate::PooledBuf)'s
/// capacity; nothing was written.
///
/// A `PooledBuf` never reallocates: its capacity is the bucket it came from.
/// Take a larger buffer when this happens.
///
/// # Examples
///
/// ```
/// use mempool::CapacityError;
///
/// let mut buf = mempool::get_empty_buffer(512);
/// buf.try_extend_from_slice(&[1; 500])?;
/// let error = buf.try_extend_from_slice(&[2; 20]).unwrap_err();
/// assert_eq!((error.len, error.capacity, error.additional), (500, 512, 20));
/// assert_eq!(buf.len(), 500); // unchanged
/// # Ok::<(), CapacityError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error(
    "cannot append {additional} bytes to a pooled buffer holding {len} of its {capacity} bytes \
     (take a larger buffer)"
)]
pub struct CapacityError {
    /// The buffer's length before the write.
    pub len: usize,
    /// The buffer's capacity.
    pub capacity: usize,
    /// The number of bytes the write asked to append.
    pub additional: usize,
}

impl From<CapacityError> for io::Error {
    /// Maps to [`io::ErrorKind::WriteZero`], the kind `std` uses when a
    /// fixed-size writer such as `&mut [u8]` is full.
    fn from(error: CapacityError) -> Self {
        io::Error::new(io::ErrorKind::WriteZero, error)
    }
}

/// Why a [`MetricsCollector`](crate::MetricsCollector) could not be created.
///
/// # Examples
///
/// ```
/// use mempool::{BufferPool, MetricsCollector, MetricsError};
///
/// let error = MetricsCollector::with_prefix(&BufferPool::new(), "my-pool").unwrap_err();
/// assert_eq!(error, MetricsError::InvalidPrefix { prefix: "my-pool".into() });
/// ```
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// The prefix is not a valid Prometheus metric name.
    #[error(
        "metric prefix {prefix:?} is not a valid Prometheus name: use ASCII letters, digits, \
         '_' and ':', not starting with a digit"
    )]
    InvalidPrefix {
        /// The rejected prefix.
        prefix: String,
    },
}

/// Why [`install_prometheus`](crate::install_prometheus) failed.
///
/// # Examples
///
/// ```no_run
/// use mempool::PrometheusError;
///
/// match mempool::install_prometheus() {
///     Ok(exporter) => println!("serving http://{}/metrics", exporter.local_addr()),
///     Err(PrometheusError::Bind { addr, source }) if source.kind() == std::io::ErrorKind::AddrInUse => {
///         eprintln!("{addr} is taken; pass another address to install_prometheus_on")
///     }
///     Err(error) => eprintln!("no metrics endpoint: {error}"),
/// }
/// ```
#[cfg(feature = "prometheus")]
#[cfg_attr(docsrs, doc(cfg(feature = "prometheus")))]
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrometheusError {
    /// The listen address could not be bound: the port is taken
    /// (`source.kind()` is `AddrInUse`), or the address is not local or not
    /// allowed.
    #[error(
        "cannot listen for Prometheus scrapes on {addr} (choose another address with install_prometheus_on)"
    )]
    Bind {
        /// The address that was asked for.
        addr: std::net::SocketAddr,
        /// The error of the bind.
        #[source]
        source: io::Error,
    },
    /// A global `metrics` recorder is already installed; there can be one per
    /// process.
    #[error("a global metrics recorder is already installed")]
    RecorderAlreadyInstalled(
        #[source] metrics::SetRecorderError<metrics_exporter_prometheus::PrometheusRecorder>,
    ),
    /// The exporter's runtime or listener thread could not be started.
    #[error("starting the Prometheus exporter thread failed")]
    Spawn(#[source] io::Error),
    /// The exporter itself failed to build, for example because another
    /// process took the port between the check and the exporter's own bind.
    #[error("building the Prometheus exporter failed")]
    Exporter(#[source] metrics_exporter_prometheus::BuildError),
}
