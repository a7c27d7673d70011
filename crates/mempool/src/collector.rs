//! [`MetricsCollector`]: publishes [`PoolStats`] through the `metrics` facade.
//!
//! The get/drop path never touches the facade. It already counts into
//! per-thread blocks for [`BufferPool::stats`]; a collector reads that
//! snapshot and sets absolute values on handles it registered once, so the
//! cost of metrics is paid per publish (a few microseconds), not per get.

use std::fmt;

use metrics::{Counter, Gauge, Unit};

use crate::budget::BudgetStats;
use crate::error::MetricsError;
use crate::pool::BufferPool;
use crate::stats::{BucketStats, PoolStats};

/// The metric name prefix used by [`MetricsCollector::new`]: the names of
/// Takhin's Go pool, such as `takhin_mempool_buffer_gets_total`.
pub const DEFAULT_METRICS_PREFIX: &str = "takhin_mempool";

/// The label that tells the per-bucket series apart: the bucket size in bytes.
pub const BUCKET_SIZE_LABEL: &str = "size";

/// Pool-wide series: `{prefix}_{suffix}`. Adding one is one line.
#[rustfmt::skip]
const POOL_SERIES: &[Series<PoolStats>] = &[
    Series::counter("buffer_allocations_total", Unit::Count, "Fresh heap allocations: bucket misses plus oversized gets.", |s| s.allocations),
    Series::counter("buffer_gets_total", Unit::Count, "Buffers handed out, pooled or oversized.", |s| s.gets),
    Series::counter("buffer_puts_total", Unit::Count, "Buffer guards dropped (returned, discarded or freed).", |s| s.puts),
    Series::gauge("buffer_in_use", Unit::Count, "Buffer guards alive now; a steady climb is a leak.", |s| s.in_use),
    Series::counter("buffer_oversized_total", Unit::Count, "Gets above the largest bucket, allocated and freed directly.", |s| s.oversized),
    Series::counter("buffer_discarded_total", Unit::Count, "Returned buffers freed because their bucket already kept its maximum.", |s| s.discarded),
    Series::counter("buffer_hits_total", Unit::Count, "Gets served by an idle buffer instead of a fresh allocation.", |s| s.hits),
    Series::counter("buffer_trimmed_total", Unit::Count, "Idle buffers freed by BufferPool::trim.", |s| s.trimmed),
    Series::gauge("buffer_in_use_bytes", Unit::Bytes, "Capacity of the buffers that guards hold now.", |s| s.bytes_in_use),
    Series::gauge("buffer_retained_bytes", Unit::Bytes, "Capacity of the idle buffers kept for reuse.", |s| s.bytes_retained),
    Series::counter("buffer_requested_bytes_total", Unit::Bytes, "Sum of every requested size.", |s| s.bytes_requested),
    Series::counter("buffer_handed_out_bytes_total", Unit::Bytes, "Sum of the capacity of every buffer handed out.", |s| s.bytes_handed_out),
];

/// Per-bucket series: `{prefix}_{suffix}{size="<bytes>"}`. Adding one is one line.
#[rustfmt::skip]
const BUCKET_SERIES: &[Series<BucketStats>] = &[
    Series::counter("buffer_bucket_gets_total", Unit::Count, "Buffers handed out from this bucket.", |b| b.gets),
    Series::counter("buffer_bucket_hits_total", Unit::Count, "Gets of this bucket served by an idle buffer.", |b| b.hits),
    Series::counter("buffer_bucket_misses_total", Unit::Count, "Gets of this bucket that had to allocate.", |b| b.misses),
    Series::counter("buffer_bucket_discarded_total", Unit::Count, "Returns to this bucket freed because it was full.", |b| b.discarded),
    Series::gauge("buffer_bucket_in_use", Unit::Count, "Buffers of this bucket held by guards now.", |b| b.in_use),
    Series::gauge("buffer_bucket_idle", Unit::Count, "Idle buffers of this bucket kept for reuse.", |b| b.idle),
    Series::gauge("buffer_bucket_max_idle", Unit::Count, "The most idle buffers this bucket keeps.", |b| b.max_idle as u64),
];

/// Budget series, published only for pools with a memory budget.
#[rustfmt::skip]
const BUDGET_SERIES: &[Series<BudgetStats>] = &[
    Series::gauge("buffer_budget_limit_bytes", Unit::Bytes, "The memory budget: the most bytes handed out at once.", |b| b.limit),
    Series::gauge("buffer_budget_in_use_bytes", Unit::Bytes, "Bytes of the budget charged to live guards.", |b| b.in_use),
    Series::gauge("buffer_budget_available_bytes", Unit::Bytes, "Bytes of the budget free now.", |b| b.available),
    Series::gauge("buffer_budget_peak_in_use_bytes", Unit::Bytes, "The most bytes of the budget ever in use at once.", |b| b.peak_in_use),
    Series::gauge("buffer_budget_waiting", Unit::Count, "Callers waiting for the budget now.", |b| b.waiting),
    Series::counter("buffer_budget_waits_total", Unit::Count, "Gets that had to wait for the budget.", |b| b.waits_total),
    Series::seconds("buffer_budget_wait_seconds", "Time spent waiting for the budget, summed over waiters (only grows).", |b| b.wait_time_total.as_nanos().min(u128::from(u64::MAX)) as u64),
    Series::counter("buffer_budget_exhausted_total", Unit::Count, "Gets that found the budget spent.", |b| b.exhausted_total),
    Series::counter("buffer_budget_timeouts_total", Unit::Count, "Waits that ended in a timeout.", |b| b.timeouts_total),
    Series::counter("buffer_budget_cancelled_total", Unit::Count, "Async waits cancelled by dropping their future.", |b| b.cancelled_total),
    Series::gauge("buffer_budget_closed", Unit::Count, "1 once the pool was closed, else 0.", |b| u64::from(b.closed)),
];

/// One series: its name after the prefix, its kind, and where its value
/// comes from in a snapshot.
struct Series<S> {
    suffix: &'static str,
    kind: Kind,
    unit: Unit,
    help: &'static str,
    value: fn(&S) -> u64,
}

#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
    /// A gauge in seconds from a value in nanoseconds. A total of time is one,
    /// not a counter, because the `metrics` facade's counters hold integers,
    /// and whole seconds would hide millisecond waits; Prometheus's base unit
    /// is seconds, and its `rate()` treats any series alike.
    Seconds,
}

impl<S> Series<S> {
    const fn counter(
        suffix: &'static str,
        unit: Unit,
        help: &'static str,
        value: fn(&S) -> u64,
    ) -> Self {
        Self {
            suffix,
            kind: Kind::Counter,
            unit,
            help,
            value,
        }
    }

    const fn gauge(
        suffix: &'static str,
        unit: Unit,
        help: &'static str,
        value: fn(&S) -> u64,
    ) -> Self {
        Self {
            suffix,
            kind: Kind::Gauge,
            unit,
            help,
            value,
        }
    }

    /// A [`Kind::Seconds`] series; `value` gives nanoseconds.
    const fn seconds(suffix: &'static str, help: &'static str, value: fn(&S) -> u64) -> Self {
        Self {
            suffix,
            kind: Kind::Seconds,
            unit: Unit::Seconds,
            help,
            value,
        }
    }

    fn describe(&self, name: String) {
        match self.kind {
            Kind::Counter => metrics::describe_counter!(name, self.unit, self.help),
            Kind::Gauge | Kind::Seconds => metrics::describe_gauge!(name, self.unit, self.help),
        }
    }

    fn register(&self, name: String, labels: &[(&'static str, String)]) -> Handle {
        let labels: Vec<metrics::Label> = labels
            .iter()
            .map(|(key, value)| metrics::Label::new(*key, value.clone()))
            .collect();
        match self.kind {
            Kind::Counter => Handle::Counter(metrics::counter!(name, labels)),
            Kind::Gauge => Handle::Gauge(metrics::gauge!(name, labels)),
            Kind::Seconds => Handle::Seconds(metrics::gauge!(name, labels)),
        }
    }
}

/// A registered handle: setting it needs no lookup, allocation or lock.
enum Handle {
    Counter(Counter),
    Gauge(Gauge),
    /// Set in seconds from nanoseconds.
    Seconds(Gauge),
}

impl Handle {
    #[inline]
    fn set(&self, value: u64) {
        match self {
            // Counters in the snapshot only grow, so `absolute` keeps them monotonic.
            Handle::Counter(counter) => counter.absolute(value),
            Handle::Gauge(gauge) => gauge.set(value as f64),
            Handle::Seconds(gauge) => gauge.set(value as f64 / 1e9),
        }
    }
}

/// The handles of one bucket.
struct BucketHandles {
    size: usize,
    handles: Vec<Handle>,
}

/// Publishes a pool's [`PoolStats`] as `metrics` counters and gauges.
///
/// A collector can be thought of as a fixed table from snapshot fields to
/// metric handles. It describes every series (help text and unit) and
/// registers its handles once, when it is created, with the recorder
/// installed at that moment; [`publish`](Self::publish) then sets absolute
/// values. The pool's get/drop path is not involved: create the collector
/// after installing a recorder (for example with
/// [`install_prometheus`](crate::install_prometheus)), and call `publish` on a
/// schedule or let a [`Reporter`](crate::Reporter) do it.
///
/// # Series
///
/// With the default prefix `takhin_mempool` (see `docs/metrics.md` for the
/// full reference and PromQL):
///
/// ```text
/// takhin_mempool_buffer_allocations_total   counter   fresh allocations (misses + oversized)
/// takhin_mempool_buffer_gets_total          counter   buffers handed out
/// takhin_mempool_buffer_puts_total          counter   guards dropped
/// takhin_mempool_buffer_in_use              gauge     guards alive now
/// takhin_mempool_buffer_oversized_total     counter   gets above the largest bucket
/// takhin_mempool_buffer_discarded_total     counter   returns freed because the bucket was full
/// takhin_mempool_buffer_hits_total          counter   gets served by an idle buffer
/// takhin_mempool_buffer_trimmed_total       counter   idle buffers freed by trim()
/// takhin_mempool_buffer_in_use_bytes        gauge     capacity held by guards
/// takhin_mempool_buffer_retained_bytes      gauge     capacity kept idle
/// takhin_mempool_buffer_requested_bytes_total     counter
/// takhin_mempool_buffer_handed_out_bytes_total    counter
/// takhin_mempool_buffer_bucket_{gets,hits,misses,discarded}_total{size="4096"}   counters
/// takhin_mempool_buffer_bucket_{in_use,idle,max_idle}{size="4096"}               gauges
/// ```
///
/// # Examples
///
/// ```
/// use mempool::{BufferPool, MetricsCollector};
///
/// let pool = BufferPool::new();
/// let collector = MetricsCollector::new(&pool);
/// drop(pool.get(1500));
/// collector.publish_pool(&pool); // a no-op recorder unless one is installed
/// assert_eq!(collector.prefix(), "takhin_mempool");
/// ```
pub struct MetricsCollector {
    prefix: String,
    pool: Vec<Handle>,
    buckets: Vec<BucketHandles>,
    /// Empty unless the pool has a memory budget.
    budget: Vec<Handle>,
}

impl MetricsCollector {
    /// Creates a collector for `pool`'s buckets with the prefix
    /// [`DEFAULT_METRICS_PREFIX`] (`takhin_mempool`), describing and
    /// registering every series with the current recorder.
    ///
    /// # Examples
    ///
    /// ```
    /// let collector = mempool::MetricsCollector::new(mempool::global());
    /// assert_eq!(collector.prefix(), mempool::DEFAULT_METRICS_PREFIX);
    /// ```
    #[must_use]
    pub fn new(pool: &BufferPool) -> Self {
        Self::registered(DEFAULT_METRICS_PREFIX.to_owned(), pool)
    }

    /// Creates a collector whose series are named `{prefix}_buffer_…`, for a
    /// second pool in the same process or a service's own naming.
    ///
    /// # Errors
    ///
    /// [`MetricsError::InvalidPrefix`] unless `prefix` is a valid Prometheus
    /// metric name: ASCII letters, digits, `_` and `:`, not starting with a
    /// digit, and not empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use mempool::{BufferPool, MetricsCollector, MetricsError};
    ///
    /// let pool = BufferPool::new();
    /// let collector = MetricsCollector::with_prefix(&pool, "storage_log")?;
    /// assert_eq!(collector.prefix(), "storage_log");
    /// assert!(matches!(
    ///     MetricsCollector::with_prefix(&pool, "9lives"),
    ///     Err(MetricsError::InvalidPrefix { .. })
    /// ));
    /// # Ok::<(), MetricsError>(())
    /// ```
    pub fn with_prefix(pool: &BufferPool, prefix: &str) -> Result<Self, MetricsError> {
        if !is_valid_prefix(prefix) {
            return Err(MetricsError::InvalidPrefix {
                prefix: prefix.to_owned(),
            });
        }
        Ok(Self::registered(prefix.to_owned(), pool))
    }

    fn registered(prefix: String, pool: &BufferPool) -> Self {
        let name = |suffix: &str| format!("{prefix}_{suffix}");
        let budget_series = match pool.memory_budget() {
            Some(_) => BUDGET_SERIES,
            None => &[],
        };
        for series in POOL_SERIES {
            series.describe(name(series.suffix));
        }
        for series in BUCKET_SERIES {
            series.describe(name(series.suffix));
        }
        for series in budget_series {
            series.describe(name(series.suffix));
        }
        let budget = budget_series
            .iter()
            .map(|series| series.register(name(series.suffix), &[]))
            .collect();
        let pool_handles = POOL_SERIES
            .iter()
            .map(|series| series.register(name(series.suffix), &[]))
            .collect();
        let buckets = pool
            .bucket_sizes()
            .iter()
            .map(|&size| {
                let labels = [(BUCKET_SIZE_LABEL, size.to_string())];
                let handles = BUCKET_SERIES
                    .iter()
                    .map(|series| series.register(name(series.suffix), &labels))
                    .collect();
                BucketHandles { size, handles }
            })
            .collect();
        Self {
            prefix,
            pool: pool_handles,
            buckets,
            budget,
        }
    }

    /// The prefix of every series name.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Sets every series to its value in `stats`.
    ///
    /// Buckets are matched by size; a bucket the collector was not created
    /// for (a snapshot of another pool) is skipped. This makes no allocation
    /// and takes no lock in the collector; the recorder's handles cost one
    /// atomic store each with the Prometheus exporter.
    ///
    /// # Examples
    ///
    /// ```
    /// use mempool::{BufferPool, MetricsCollector};
    ///
    /// let pool = BufferPool::new();
    /// let collector = MetricsCollector::new(&pool);
    /// let stats = pool.stats();
    /// collector.publish(&stats);
    /// ```
    pub fn publish(&self, stats: &PoolStats) {
        for (series, handle) in POOL_SERIES.iter().zip(&self.pool) {
            handle.set((series.value)(stats));
        }
        if let Some(budget) = &stats.budget {
            for (series, handle) in BUDGET_SERIES.iter().zip(&self.budget) {
                handle.set((series.value)(budget));
            }
        }
        for (index, bucket) in stats.buckets.iter().enumerate() {
            // Same pool: same position. Otherwise look the size up.
            let handles = match self.buckets.get(index) {
                Some(handles) if handles.size == bucket.size => handles,
                _ => match self.buckets.iter().find(|h| h.size == bucket.size) {
                    Some(handles) => handles,
                    None => continue,
                },
            };
            for (series, handle) in BUCKET_SERIES.iter().zip(&handles.handles) {
                handle.set((series.value)(bucket));
            }
        }
    }

    /// Takes a snapshot of `pool` with [`BufferPool::stats`] and publishes it.
    ///
    /// # Examples
    ///
    /// ```
    /// let collector = mempool::MetricsCollector::new(mempool::global());
    /// collector.publish_pool(mempool::global());
    /// ```
    pub fn publish_pool(&self, pool: &BufferPool) {
        self.publish(&pool.stats());
    }
}

impl fmt::Debug for MetricsCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsCollector")
            .field("prefix", &self.prefix)
            .field("series", &POOL_SERIES.len())
            .field(
                "bucket_sizes",
                &self.buckets.iter().map(|b| b.size).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Whether `prefix` is a valid Prometheus metric name.
fn is_valid_prefix(prefix: &str) -> bool {
    let mut chars = prefix.chars();
    let valid = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    match chars.next() {
        Some(first) => valid(first) && !first.is_ascii_digit() && chars.all(valid),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_follow_prometheus_names() {
        for valid in ["takhin_mempool", "a", "_x", "ns:pool", "A9_"] {
            assert!(is_valid_prefix(valid), "{valid}");
        }
        for invalid in ["", "9a", "a-b", "a b", "é", "a.b"] {
            assert!(!is_valid_prefix(invalid), "{invalid}");
        }
    }

    #[test]
    fn series_names_are_unique_and_counters_end_in_total() {
        let mut names: Vec<&str> = POOL_SERIES.iter().map(|s| s.suffix).collect();
        names.extend(BUCKET_SERIES.iter().map(|s| s.suffix));
        names.extend(BUDGET_SERIES.iter().map(|s| s.suffix));
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
        let kinds = POOL_SERIES
            .iter()
            .map(|s| (s.suffix, s.kind))
            .chain(BUCKET_SERIES.iter().map(|s| (s.suffix, s.kind)))
            .chain(BUDGET_SERIES.iter().map(|s| (s.suffix, s.kind)));
        for (suffix, kind) in kinds {
            assert_eq!(
                suffix.ends_with("_total"),
                matches!(kind, Kind::Counter),
                "{suffix}"
            );
        }
    }
}
