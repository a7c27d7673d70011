//! `MetricsCollector` and `Reporter` against `metrics_util`'s `DebuggingRecorder`,
//! installed per test with `metrics::with_local_recorder` (the global recorder
//! belongs to `prometheus_scrape.rs`).
//!
//! This binary also counts heap allocations per thread, to show that a warm
//! get/drop allocates nothing with the `metrics` feature on and a reporter
//! publishing in the background.
#![cfg(feature = "metrics")]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use mempool::{BufferPool, MetricsCollector, MetricsError, Reporter};
use metrics::{Key, Unit};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

use mempool_test_support::{CountingAlloc, allocations_on_this_thread, wait_until};

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

/// `metrics_util::DebuggingRecorder`, read by series, `name{labels}`.
///
/// Reading takes a snapshot, and a snapshot drains the recorder: every value
/// reads 0 until the next publish. So a test reads once per publish, and a
/// 0 after a pause means nothing was published in between.
struct TestRecorder {
    recorder: DebuggingRecorder,
    snapshotter: Snapshotter,
}

impl Default for TestRecorder {
    fn default() -> Self {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        Self {
            recorder,
            snapshotter,
        }
    }
}

fn render_key(key: &Key) -> String {
    let labels: Vec<String> = key
        .labels()
        .map(|label| format!("{}=\"{}\"", label.key(), label.value()))
        .collect();
    if labels.is_empty() {
        key.name().to_owned()
    } else {
        format!("{}{{{}}}", key.name(), labels.join(","))
    }
}

/// One series as the recorder saw it.
struct Seen {
    value: u64,
    /// The value before truncation (gauges in seconds need it).
    exact: f64,
    unit: Option<Unit>,
    help: Option<String>,
}

impl TestRecorder {
    /// The recorder to install with `metrics::with_local_recorder`.
    fn recorder(&self) -> &DebuggingRecorder {
        &self.recorder
    }

    /// Every registered series and what was published to it since the
    /// previous look (counters as they are, gauges truncated to `u64`).
    fn look(&self) -> BTreeMap<String, Seen> {
        let mut seen = BTreeMap::new();
        for (key, unit, help, value) in self.snapshotter.snapshot().into_vec() {
            let (value, exact) = match value {
                DebugValue::Counter(value) => (value, value as f64),
                DebugValue::Gauge(value) => (value.into_inner() as u64, value.into_inner()),
                DebugValue::Histogram(_) => panic!("the collector has no histogram"),
            };
            let series = render_key(key.key());
            let help = help.map(|help| help.into_owned());
            let old = seen.insert(
                series.clone(),
                Seen {
                    value,
                    exact,
                    unit,
                    help,
                },
            );
            assert!(old.is_none(), "{series} registered as two kinds");
        }
        seen
    }

    /// [`look`](Self::look), values only.
    fn published(&self) -> BTreeMap<String, u64> {
        self.look()
            .into_iter()
            .map(|(series, seen)| (series, seen.value))
            .collect()
    }
}

fn small_pool() -> BufferPool {
    BufferPool::builder()
        .bucket_sizes([512, 4096])
        .max_idle_per_bucket(1)
        .max_buffer_size(1 << 20)
        .build()
        .unwrap()
}

/// A workload with one of everything. Returns the guards still held: one
/// 512-byte buffer and one oversized 10,000-byte buffer.
fn workload(pool: &BufferPool) -> Vec<mempool::PooledBuf<'_>> {
    let a = pool.get(100);
    let b = pool.get(100);
    drop(a);
    drop(b); // the bucket keeps one idle buffer: discarded
    let hit = pool.get(300);
    drop(pool.get(4000));
    let oversized = pool.get(10_000);
    vec![hit, oversized]
}

#[test]
fn publishes_exact_values_under_the_seed_names() {
    let recorder = TestRecorder::default();
    let pool = small_pool();
    let collector =
        metrics::with_local_recorder(recorder.recorder(), || MetricsCollector::new(&pool));
    let held = workload(&pool);
    collector.publish_pool(&pool);
    let published = recorder.published();

    let expected = [
        ("takhin_mempool_buffer_gets_total", 5),
        ("takhin_mempool_buffer_puts_total", 3),
        ("takhin_mempool_buffer_allocations_total", 4),
        ("takhin_mempool_buffer_hits_total", 1),
        ("takhin_mempool_buffer_in_use", 2),
        ("takhin_mempool_buffer_oversized_total", 1),
        ("takhin_mempool_buffer_discarded_total", 1),
        ("takhin_mempool_buffer_trimmed_total", 0),
        ("takhin_mempool_buffer_in_use_bytes", 512 + 10_000),
        ("takhin_mempool_buffer_retained_bytes", 4096),
        (
            "takhin_mempool_buffer_requested_bytes_total",
            100 + 100 + 300 + 4000 + 10_000,
        ),
        (
            "takhin_mempool_buffer_handed_out_bytes_total",
            3 * 512 + 4096 + 10_000,
        ),
        ("takhin_mempool_buffer_bucket_gets_total{size=\"512\"}", 3),
        ("takhin_mempool_buffer_bucket_hits_total{size=\"512\"}", 1),
        ("takhin_mempool_buffer_bucket_misses_total{size=\"512\"}", 2),
        (
            "takhin_mempool_buffer_bucket_discarded_total{size=\"512\"}",
            1,
        ),
        ("takhin_mempool_buffer_bucket_in_use{size=\"512\"}", 1),
        ("takhin_mempool_buffer_bucket_idle{size=\"512\"}", 0),
        ("takhin_mempool_buffer_bucket_max_idle{size=\"512\"}", 1),
        ("takhin_mempool_buffer_bucket_gets_total{size=\"4096\"}", 1),
        ("takhin_mempool_buffer_bucket_hits_total{size=\"4096\"}", 0),
        (
            "takhin_mempool_buffer_bucket_misses_total{size=\"4096\"}",
            1,
        ),
        ("takhin_mempool_buffer_bucket_in_use{size=\"4096\"}", 0),
        ("takhin_mempool_buffer_bucket_idle{size=\"4096\"}", 1),
    ];
    for (series, value) in expected {
        assert_eq!(published[series], value, "{series}");
    }
    // 12 pool series + 7 per bucket, 2 buckets: nothing unexpected.
    assert_eq!(published.len(), 12 + 7 * 2);

    drop(held);
    collector.publish_pool(&pool);
    let published = recorder.published();
    assert_eq!(published["takhin_mempool_buffer_in_use"], 0);
    assert_eq!(published["takhin_mempool_buffer_in_use_bytes"], 0);
    assert_eq!(published["takhin_mempool_buffer_puts_total"], 5);
}

#[test]
fn describes_every_series_with_help_and_unit() {
    let recorder = TestRecorder::default();
    let pool = small_pool();
    let _collector =
        metrics::with_local_recorder(recorder.recorder(), || MetricsCollector::new(&pool));
    let seen = recorder.look();
    let names: std::collections::BTreeSet<&str> = seen
        .keys()
        .map(|series| series.split('{').next().unwrap())
        .collect();
    assert_eq!(names.len(), 12 + 7);
    for (series, seen) in &seen {
        let name = series.split('{').next().unwrap();
        let help = seen.help.as_deref().unwrap_or_default();
        assert!(!help.is_empty(), "{name}");
        let expected = if name.ends_with("bytes") || name.ends_with("bytes_total") {
            Unit::Bytes
        } else {
            Unit::Count
        };
        assert_eq!(seen.unit, Some(expected), "{name}");
    }
    assert_eq!(
        seen["takhin_mempool_buffer_in_use"].help.as_deref(),
        Some("Buffer guards alive now; a steady climb is a leak.")
    );
}

#[test]
fn prefix_is_configurable_and_checked() {
    let recorder = TestRecorder::default();
    let pool = small_pool();
    let collector = metrics::with_local_recorder(recorder.recorder(), || {
        MetricsCollector::with_prefix(&pool, "storage_log").unwrap()
    });
    drop(pool.get(10));
    collector.publish_pool(&pool);
    let published = recorder.published();
    assert_eq!(published["storage_log_buffer_gets_total"], 1);
    assert_eq!(
        published["storage_log_buffer_bucket_misses_total{size=\"512\"}"],
        1
    );
    assert!(
        published
            .keys()
            .all(|name| name.starts_with("storage_log_buffer_"))
    );

    for bad in ["", "1pool", "my-pool", "my pool"] {
        let error = MetricsCollector::with_prefix(&pool, bad).unwrap_err();
        assert_eq!(error, MetricsError::InvalidPrefix { prefix: bad.into() });
        assert!(error.to_string().contains("not a valid Prometheus name"));
    }
}

#[test]
fn snapshots_of_another_pool_publish_only_known_buckets() {
    let recorder = TestRecorder::default();
    let pool = small_pool();
    let collector =
        metrics::with_local_recorder(recorder.recorder(), || MetricsCollector::new(&pool));
    let other = BufferPool::builder()
        .bucket_sizes([256, 4096])
        .build()
        .unwrap();
    drop(other.get(4000));
    drop(other.get(100));
    collector.publish_pool(&other);
    let published = recorder.published();
    assert_eq!(
        published["takhin_mempool_buffer_bucket_gets_total{size=\"4096\"}"],
        1
    );
    assert_eq!(
        published["takhin_mempool_buffer_bucket_gets_total{size=\"512\"}"],
        0
    );
    assert!(!published.keys().any(|name| name.contains("\"256\"")));
}

/// Reporter threads are counted by name, so the tests that start one take turns.
static REPORTER_TESTS: Mutex<()> = Mutex::new(());

/// The number of this process's threads named `mempool-metrics`.
#[cfg(target_os = "linux")]
fn reporter_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end() == Reporter::THREAD_NAME)
        .count()
}

#[test]
fn reporter_publishes_on_its_interval_and_stops_when_dropped() {
    let _turn = REPORTER_TESTS
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let recorder = TestRecorder::default();
    let pool = Arc::new(small_pool());
    let collector =
        metrics::with_local_recorder(recorder.recorder(), || MetricsCollector::new(&pool));
    let reporter = Reporter::spawn(collector, Arc::clone(&pool), Duration::from_millis(5)).unwrap();
    // The thread names itself once it runs.
    #[cfg(target_os = "linux")]
    wait_until("the reporter thread runs", || reporter_threads() == 1);

    // Publishes on its own, repeatedly.
    for round in 1..=3 {
        drop(pool.get(10));
        wait_until("the reporter publishes", || {
            recorder.published()["takhin_mempool_buffer_gets_total"] == round
        });
    }

    // A drop publishes the final figures before it returns.
    let held = pool.get(1000);
    drop(pool.get(10));
    drop(reporter);
    let published = recorder.published();
    assert_eq!(published["takhin_mempool_buffer_gets_total"], 5);
    assert_eq!(published["takhin_mempool_buffer_in_use"], 1);

    // The thread is gone: it released the pool and nothing publishes any more.
    assert_eq!(Arc::strong_count(&pool), 1);
    drop(held);
    drop(pool.get(10));
    std::thread::sleep(Duration::from_millis(20));
    // A snapshot drains the values: 0 means nothing was published since.
    assert_eq!(recorder.published()["takhin_mempool_buffer_gets_total"], 0);
    #[cfg(target_os = "linux")]
    wait_until("the reporter thread has exited", || reporter_threads() == 0);
}

#[test]
#[should_panic(expected = "the reporter interval must not be zero")]
fn reporter_rejects_a_zero_interval() {
    let pool = mempool::global();
    let _ = Reporter::spawn(MetricsCollector::new(pool), pool, Duration::ZERO);
}

#[test]
fn warm_get_and_drop_allocate_nothing_while_a_reporter_runs() {
    let _turn = REPORTER_TESTS
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let recorder = TestRecorder::default();
    let pool = Arc::new(BufferPool::new());
    let collector =
        metrics::with_local_recorder(recorder.recorder(), || MetricsCollector::new(&pool));
    let reporter = Reporter::spawn(collector, Arc::clone(&pool), Duration::from_millis(1)).unwrap();
    let sizes = [100, 1000, 4096, 60 << 10];
    // Warm up: the thread cache and one idle buffer per size.
    for &size in &sizes {
        drop(pool.get(size));
    }
    let before = allocations_on_this_thread();
    for round in 0..20_000 {
        let mut buf = pool.get(sizes[round % sizes.len()]);
        buf[0] = 1;
        drop(buf);
    }
    assert_eq!(allocations_on_this_thread() - before, 0);
    drop(reporter);
    let published = recorder.published();
    assert_eq!(published["takhin_mempool_buffer_gets_total"], 20_004);
    assert_eq!(published["takhin_mempool_buffer_allocations_total"], 4);
}

#[test]
fn budgeted_pools_publish_the_budget_series() {
    let recorder = TestRecorder::default();
    let pool = BufferPool::builder()
        .bucket_sizes([1024])
        .memory_budget(2048)
        .build()
        .unwrap();
    let collector =
        metrics::with_local_recorder(recorder.recorder(), || MetricsCollector::new(&pool));
    let held = pool.get(1000);
    assert!(pool.try_get(5000).is_err()); // charges 5000 > 1024 left: exhausted
    assert!(
        pool.get_timeout(2000, std::time::Duration::from_millis(20))
            .is_err()
    );
    collector.publish_pool(&pool);
    let published = recorder.published();
    let expected = [
        ("takhin_mempool_buffer_budget_limit_bytes", 2048),
        ("takhin_mempool_buffer_budget_in_use_bytes", 1024),
        ("takhin_mempool_buffer_budget_available_bytes", 1024),
        ("takhin_mempool_buffer_budget_peak_in_use_bytes", 1024),
        ("takhin_mempool_buffer_budget_waiting", 0),
        ("takhin_mempool_buffer_budget_waits_total", 1),
        ("takhin_mempool_buffer_budget_timeouts_total", 1),
        ("takhin_mempool_buffer_budget_cancelled_total", 0),
        ("takhin_mempool_buffer_budget_closed", 0),
    ];
    for (series, value) in expected {
        assert_eq!(published[series], value, "{series}");
    }
    assert!(published["takhin_mempool_buffer_budget_exhausted_total"] >= 1);
    // In seconds, the base unit, and not truncated to whole seconds.
    collector.publish_pool(&pool);
    let wait = &recorder.look()["takhin_mempool_buffer_budget_wait_seconds"];
    assert!(wait.exact >= 0.020 && wait.exact < 60.0, "{}", wait.exact);
    assert_eq!(wait.unit, Some(Unit::Seconds));
    drop(held);
    pool.close();
    collector.publish_pool(&pool);
    let published = recorder.published();
    assert_eq!(published["takhin_mempool_buffer_budget_in_use_bytes"], 0);
    assert_eq!(published["takhin_mempool_buffer_budget_closed"], 1);
}

#[test]
fn pools_without_a_budget_publish_no_budget_series() {
    let recorder = TestRecorder::default();
    let pool = small_pool();
    let collector =
        metrics::with_local_recorder(recorder.recorder(), || MetricsCollector::new(&pool));
    collector.publish_pool(&pool);
    let published = recorder.published();
    assert!(
        published.keys().all(|name| !name.contains("budget")),
        "{:?}",
        published.keys()
    );
}
