//! Where a segment takes its temporary buffers from: a [`BufferPool`] (the
//! default, the global pool) or plain `Vec`s, so that benchmarks can run the
//! same code path both ways.

use std::fmt;
use std::ops::DerefMut;

use mempool::{BufferPool, PooledBuf};

use crate::LogError;

/// A source of temporary byte buffers.
///
/// Every buffer a [`Segment`](crate::Segment) or [`Log`](crate::Log) uses for
/// encoding a batch, writing an index entry or reading batches back comes from
/// its `BufferSource`. Two sources exist: `&BufferPool` (the default is
/// `&'static BufferPool`, see [`mempool::global`]) and [`VecBuffers`], which
/// allocates a fresh `Vec<u8>` each time and exists for comparison.
///
/// # Examples
///
/// ```
/// use takhin_log::{BufferSource, VecBuffers};
///
/// let pooled = mempool::global().take(100)?;
/// let plain = VecBuffers.take(100)?;
/// assert_eq!(&pooled[..], &plain[..]);
/// assert!(pooled.iter().all(|&b| b == 0));
/// # Ok::<(), takhin_log::LogError>(())
/// ```
pub trait BufferSource: Copy + fmt::Debug {
    /// The buffer handed out; it derefs to exactly the requested length.
    type Buf: DerefMut<Target = [u8]>;

    /// Returns a buffer of exactly `len` bytes. Its contents are not
    /// promised: a pool built with `zero_on_drop(false)` hands out what an
    /// earlier user left, so the log writes every byte it uses.
    ///
    /// # Errors
    ///
    /// Returns [`LogError::Buffer`] or [`LogError::Alloc`] when the memory
    /// cannot be had. Callers cap `len` against the bytes actually present
    /// before asking, so a hostile length prefix never gets here.
    fn take(self, len: usize) -> Result<Self::Buf, LogError>;
}

impl<'p> BufferSource for &'p BufferPool {
    type Buf = PooledBuf<'p>;

    fn take(self, len: usize) -> Result<PooledBuf<'p>, LogError> {
        Ok(self.try_get(len)?)
    }
}

/// A [`BufferSource`] that allocates a fresh `Vec<u8>` for every buffer and
/// frees it on drop: the baseline the benchmarks compare the pool against.
///
/// # Examples
///
/// ```
/// use takhin_log::{LogConfig, Segment, VecBuffers};
///
/// let dir = tempfile::tempdir()?;
/// let segment = Segment::create_with(dir.path(), 0, LogConfig::default(), VecBuffers)?;
/// assert_eq!(segment.next_offset(), 0);
/// # Ok::<(), takhin_log::LogError>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct VecBuffers;

impl BufferSource for VecBuffers {
    type Buf = Vec<u8>;

    fn take(self, len: usize) -> Result<Vec<u8>, LogError> {
        let mut buf = Vec::new();
        buf.try_reserve_exact(len)
            .map_err(|_| LogError::Alloc { requested: len })?;
        buf.resize(len, 0);
        Ok(buf)
    }
}
