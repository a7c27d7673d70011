//! [`RequestPool`]: the pooled, budgeted buffers request frames are read
//! into, and reading one frame.
//!
//! Each frame takes one buffer sized by its length prefix. The buffers come
//! from a pool with a memory budget (`--max-request-memory`, like Kafka's
//! `queued.max.request.bytes`): a connection waits for the budget before it
//! reads a frame's body, so when the budget is spent the broker stops
//! reading sockets and TCP pushes back on the clients; nothing fails and
//! nothing is buffered beyond the budget.
//!
//! The budget is charged by buffer capacity, so the buckets are 4 per
//! doubling ([`request_bucket_sizes`]): a frame wastes at most 20 % of its
//! charge (25 % below 4 KiB), against up to 75 % with the pool's default
//! buckets, 4x apart.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use mempool::{BufferPool, PoolError};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::BrokerError;
use crate::metrics::Metrics;

/// The smallest frame: api key, api version and correlation id.
pub const MIN_FRAME_SIZE: usize = 8;
/// How long the rest of a frame may take to arrive once its length prefix
/// did, so that a client that stops mid-frame cannot hold budget forever.
pub const FRAME_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Bucket sizes for request frames up to `max_frame`: 512 B, 1 KiB and
/// 2 KiB, then four per doubling (x1, x1.25, x1.5, x1.75) from 4 KiB to the
/// first size that holds `max_frame`, at most 64 buckets in all (the pool's
/// limit; frames above the last bucket are allocated directly, still within
/// the budget).
///
/// # Examples
///
/// ```
/// let sizes = takhin_broker::request_bucket_sizes(1 << 20);
/// assert_eq!(&sizes[..5], &[512, 1024, 2048, 4096, 5120]);
/// assert_eq!(*sizes.last().unwrap(), 1 << 20);
/// // A 1.1 MiB frame would take a 1.25 MiB buffer with 4 MiB of headroom.
/// let sizes = takhin_broker::request_bucket_sizes(4 << 20);
/// assert!(sizes.contains(&(1280 << 10)));
/// ```
pub fn request_bucket_sizes(max_frame: usize) -> Vec<usize> {
    let mut sizes = vec![512, 1 << 10, 2 << 10];
    let mut base = 4usize << 10;
    'doublings: loop {
        for quarter in 4..8 {
            let size = base / 4 * quarter;
            sizes.push(size);
            if size >= max_frame || sizes.len() == 64 {
                break 'doublings;
            }
        }
        base *= 2;
    }
    sizes
}

/// The buffers request frames are read into: a pool with
/// [`request_bucket_sizes`] and a memory budget, plus the figures of the
/// budget's efficiency (bytes requested over bytes charged).
#[derive(Debug)]
pub struct RequestPool {
    pool: &'static BufferPool,
    max_frame: usize,
    requested: AtomicU64,
    charged: AtomicU64,
    /// Read frames into fresh `Vec`s instead (the benchmark's baseline).
    vec_buffers: bool,
}

/// Why a frame could not be read; the connection closes after each.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FrameError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("frame of {size} bytes is above the limit of {limit}")]
    TooLarge { size: i64, limit: usize },
    #[error("frame of {size} bytes is below the {MIN_FRAME_SIZE}-byte header")]
    TooSmall { size: i64 },
    #[error("the rest of a {size}-byte frame did not arrive within {FRAME_BODY_TIMEOUT:?}")]
    Stalled { size: usize },
    #[error("request pool: {0}")]
    Pool(#[from] PoolError),
}

impl RequestPool {
    /// A pool for frames up to `max_frame` bytes, holding at most `budget`
    /// bytes of them at once. The pool lives for the rest of the process
    /// (frames are frozen into `Bytes`, which need a `'static` pool).
    ///
    /// # Errors
    ///
    /// [`BrokerError::Config`] if `max_frame` exceeds `budget` (such a frame
    /// could never be read) or is below [`MIN_FRAME_SIZE`];
    /// [`BrokerError::Pool`] if the pool cannot be built.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = takhin_broker::RequestPool::new(1 << 20, 16 << 20)?;
    /// assert_eq!(pool.efficiency(), None); // nothing read yet
    /// assert!(takhin_broker::RequestPool::new(32 << 20, 16 << 20).is_err());
    /// # Ok::<(), takhin_broker::BrokerError>(())
    /// ```
    pub fn new(max_frame: usize, budget: u64) -> Result<Self, BrokerError> {
        if max_frame < MIN_FRAME_SIZE || max_frame as u64 > budget {
            return Err(BrokerError::Config(format!(
                "the max request size ({max_frame}) must be between {MIN_FRAME_SIZE} and the request memory ({budget})"
            )));
        }
        let sizes = request_bucket_sizes(max_frame);
        // A frame above the last bucket would be charged its exact size; a
        // bucket never exceeds the budget, or a frame could never be read.
        let sizes: Vec<usize> = sizes.into_iter().filter(|&s| s as u64 <= budget).collect();
        let largest = sizes.last().copied().unwrap_or(max_frame).max(max_frame);
        let pool = BufferPool::builder()
            .bucket_sizes(sizes)
            .memory_budget(budget)
            // Idle buffers are outside the budget: keep few per bucket.
            .retained_bytes_per_bucket(usize::try_from(budget / 8).unwrap_or(usize::MAX))
            .max_buffer_size(largest)
            .build()?;
        Ok(RequestPool {
            pool: Box::leak(Box::new(pool)),
            max_frame,
            requested: AtomicU64::new(0),
            charged: AtomicU64::new(0),
            vec_buffers: false,
        })
    }

    /// Reads every frame into a fresh `Vec` instead of a pooled buffer, with
    /// no budget: the baseline the benchmark compares the pool with.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = takhin_broker::RequestPool::new(1 << 20, 16 << 20)?.with_vec_buffers();
    /// # Ok::<(), takhin_broker::BrokerError>(())
    /// ```
    #[must_use]
    pub fn with_vec_buffers(mut self) -> Self {
        self.vec_buffers = true;
        self
    }

    /// The pool behind the request buffers, for its stats and metrics.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = takhin_broker::RequestPool::new(1 << 20, 16 << 20)?;
    /// assert_eq!(pool.pool().memory_budget(), Some(16 << 20));
    /// # Ok::<(), takhin_broker::BrokerError>(())
    /// ```
    pub fn pool(&self) -> &'static BufferPool {
        self.pool
    }

    /// Frame bytes read over buffer bytes charged for them, since start;
    /// `None` before the first frame.
    ///
    /// # Examples
    ///
    /// See [`RequestPool::new`].
    pub fn efficiency(&self) -> Option<f64> {
        let charged = self.charged.load(Ordering::Relaxed);
        (charged > 0).then(|| self.requested.load(Ordering::Relaxed) as f64 / charged as f64)
    }

    /// Reads one frame: its length prefix, then, once the budget grants a
    /// buffer for it, its body. `Ok(None)` when the peer closed between
    /// frames.
    pub(crate) async fn read_frame<R: AsyncRead + Unpin>(
        &self,
        reader: &mut R,
        metrics: &Metrics,
    ) -> Result<Option<Bytes>, FrameError> {
        let mut prefix = [0u8; 4];
        match reader.read_exact(&mut prefix).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        let size = i32::from_be_bytes(prefix);
        let Ok(size) = usize::try_from(size) else {
            return Err(FrameError::TooSmall { size: size.into() });
        };
        if size < MIN_FRAME_SIZE {
            return Err(FrameError::TooSmall { size: size as i64 });
        }
        if size > self.max_frame {
            return Err(FrameError::TooLarge {
                size: size as i64,
                limit: self.max_frame,
            });
        }
        if self.vec_buffers {
            let mut buf = vec![0; size];
            match tokio::time::timeout(FRAME_BODY_TIMEOUT, reader.read_exact(&mut buf)).await {
                Ok(read) => read?,
                Err(_) => return Err(FrameError::Stalled { size }),
            };
            metrics.frame_read(size, None);
            return Ok(Some(Bytes::from(buf)));
        }
        let mut buf = match self.pool.try_get(size) {
            Ok(buf) => buf,
            Err(PoolError::Exhausted { .. }) => {
                // Backpressure: this socket is not read until frames held by
                // others are done.
                metrics.budget_wait();
                self.pool.get_async(size).await?
            }
            Err(other) => return Err(other.into()),
        };
        self.requested.fetch_add(size as u64, Ordering::Relaxed);
        self.charged
            .fetch_add(buf.capacity() as u64, Ordering::Relaxed);
        match tokio::time::timeout(FRAME_BODY_TIMEOUT, reader.read_exact(&mut buf)).await {
            Ok(read) => read?,
            Err(_) => return Err(FrameError::Stalled { size }),
        };
        metrics.frame_read(size, self.efficiency());
        Ok(Some(buf.freeze()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_waste_at_most_a_fifth_above_4_kib() {
        let sizes = request_bucket_sizes(100 << 20);
        assert!(sizes.len() <= 64);
        assert!(sizes.windows(2).all(|w| w[0] < w[1]));
        assert!(*sizes.last().unwrap() >= 100 << 20);
        for pair in sizes.windows(2).filter(|w| w[0] >= 4096) {
            // The worst frame is one byte above the smaller bucket.
            let waste = (pair[1] - pair[0] - 1) as f64 / pair[1] as f64;
            assert!(waste <= 0.2, "{pair:?}");
        }
    }

    #[tokio::test]
    async fn frames_are_budgeted_and_rejected_by_size() {
        let pool = RequestPool::new(64 << 10, 100 << 10).unwrap();
        let metrics = Metrics;
        let mut input: &[u8] = &[0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        let frame = pool
            .read_frame(&mut input, &metrics)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&frame[..], &[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(pool.efficiency(), Some(9.0 / 512.0));
        assert_eq!(pool.pool().stats().budget.unwrap().in_use, 512);
        drop(frame);
        assert!(
            pool.read_frame(&mut input, &metrics)
                .await
                .unwrap()
                .is_none()
        );
        for prefix in [[0, 0, 0, 7], [0xff, 0xff, 0xff, 0xff], [0, 1, 0, 1]] {
            let mut input: &[u8] = &prefix;
            assert!(
                pool.read_frame(&mut input, &metrics).await.is_err(),
                "{prefix:?}"
            );
        }
        let mut truncated: &[u8] = &[0, 0, 0, 20, 1, 2, 3];
        assert!(matches!(
            pool.read_frame(&mut truncated, &metrics).await,
            Err(FrameError::Io(_))
        ));
        assert_eq!(pool.pool().stats().budget.unwrap().in_use, 0);
    }
}
