//! Errors: [`PoolError`] for getting a buffer, [`BuildError`] for building a pool.

use std::io;

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
}

impl From<PoolError> for io::Error {
    /// Maps `TooLarge` to `InvalidInput` and `AllocFailed` to `OutOfMemory`,
    /// so that `?` works inside `io::Write` implementations.
    fn from(error: PoolError) -> Self {
        let kind = match error {
            PoolError::TooLarge { .. } => io::ErrorKind::InvalidInput,
            PoolError::AllocFailed { .. } => io::ErrorKind::OutOfMemory,
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
