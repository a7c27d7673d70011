//! [`Reporter`]: a background thread that publishes a pool's stats on an interval and stops when dropped.

use std::ops::Deref;
use std::time::Duration;

use crate::background::Background;
use crate::collector::MetricsCollector;
use crate::pool::BufferPool;

/// Publishes a pool's stats from a background thread on an interval, and
/// stops when dropped.
///
/// A `Reporter` can be thought of as a loop of
/// [`MetricsCollector::publish_pool`] and a sleep, on its own thread named
/// `mempool-metrics`. It publishes once at start, then every `interval`, and
/// once more when it stops, so that the last values are exact. Dropping it
/// (or calling [`stop`](Self::stop)) wakes the thread at once and joins it: no
/// thread is left behind, and nothing is published after the drop returns.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use mempool::{MetricsCollector, Reporter};
///
/// let pool = mempool::global();
/// let reporter = Reporter::spawn(MetricsCollector::new(pool), pool, Duration::from_secs(5))?;
/// drop(pool.get(100));
/// reporter.stop(); // publishes the final figures and joins the thread
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// A local pool is shared with the reporter through an `Arc`:
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use mempool::{BufferPool, MetricsCollector, Reporter};
///
/// let pool = Arc::new(BufferPool::new());
/// let collector = MetricsCollector::with_prefix(&pool, "storage_log").unwrap();
/// let reporter = Reporter::spawn(collector, Arc::clone(&pool), Duration::from_millis(100))?;
/// drop(reporter);
/// assert_eq!(Arc::strong_count(&pool), 1);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Reporter {
    /// Dropping it wakes the thread, which publishes once more and ends.
    _thread: Background,
}

impl Reporter {
    /// The name of the reporter's thread.
    pub const THREAD_NAME: &'static str = "mempool-metrics";

    /// Starts a thread that publishes `pool`'s stats through `collector` now,
    /// then every `interval`, and once more when the reporter is dropped.
    ///
    /// `pool` is anything that derefs to a [`BufferPool`] and can move to the
    /// thread: `mempool::global()` (a `&'static BufferPool`) or an
    /// `Arc<BufferPool>`.
    ///
    /// # Errors
    ///
    /// Returns the error of [`std::thread::Builder::spawn`] if the thread
    /// cannot be created.
    ///
    /// # Panics
    ///
    /// Panics if `interval` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = mempool::global();
    /// let collector = mempool::MetricsCollector::new(pool);
    /// let reporter = mempool::Reporter::spawn(collector, pool, Duration::from_secs(10))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn<P>(
        collector: MetricsCollector,
        pool: P,
        interval: Duration,
    ) -> std::io::Result<Self>
    where
        P: Deref<Target = BufferPool> + Send + 'static,
    {
        assert!(
            !interval.is_zero(),
            "mempool: the reporter interval must not be zero"
        );
        let thread = Background::spawn(Self::THREAD_NAME, move |stop| {
            collector.publish_pool(&pool);
            while !stop.sleep(interval) {
                collector.publish_pool(&pool);
            }
            collector.publish_pool(&pool);
        })?;
        Ok(Self { _thread: thread })
    }

    /// Stops the thread after a final publish and waits for it; the same as
    /// dropping the reporter.
    pub fn stop(self) {
        drop(self);
    }
}
