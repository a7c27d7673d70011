//! `MetricsCollector` and `Reporter` against a recording `metrics::Recorder`,
//! installed per test with `metrics::with_local_recorder` (the global recorder
//! belongs to `prometheus_scrape.rs`).
//!
//! This binary also counts heap allocations per thread, to show that a warm
//! get/drop allocates nothing with the `metrics` feature on and a reporter
//! publishing in the background.
#![cfg(feature = "metrics")]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use mempool::{BufferPool, MetricsCollector, MetricsError, Reporter};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};

use mempool_test_support::{CountingAlloc, allocations_on_this_thread, wait_until};

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

/// A recorder that keeps every handle's value, keyed by `name{labels}`, and
/// every description.
#[derive(Default)]
struct TestRecorder {
    values: Mutex<BTreeMap<String, (Kind, Arc<AtomicU64>)>>,
    descriptions: Mutex<BTreeMap<String, (Option<Unit>, String)>>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Counter,
    Gauge,
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

impl TestRecorder {
    fn handle(&self, key: &Key, kind: Kind) -> Arc<AtomicU64> {
        let mut values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        let (old_kind, value) = values
            .entry(render_key(key))
            .or_insert_with(|| (kind, Arc::default()));
        assert_eq!(*old_kind, kind, "{key:?} registered as two kinds");
        Arc::clone(value)
    }

    fn describe(&self, name: KeyName, unit: Option<Unit>, help: SharedString) {
        self.descriptions
            .lock()
            .unwrap()
            .insert(name.as_str().to_owned(), (unit, help.into_owned()));
    }

    /// The value of `series` (`name` or `name{size="512"}`), as a u64.
    fn value(&self, series: &str) -> u64 {
        let values = self.values.lock().unwrap();
        let (kind, value) = values
            .get(series)
            .unwrap_or_else(|| panic!("{series} is not registered"));
        let raw = value.load(Ordering::Relaxed);
        match kind {
            Kind::Counter => raw,
            Kind::Gauge => f64::from_bits(raw) as u64,
        }
    }
}

impl Recorder for TestRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(key, unit, description);
    }
    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(key, unit, description);
    }
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {
        panic!("the collector has no histogram");
    }
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.handle(key, Kind::Counter))
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(self.handle(key, Kind::Gauge))
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        panic!("the collector has no histogram");
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
    let collector = metrics::with_local_recorder(&recorder, || MetricsCollector::new(&pool));
    let held = workload(&pool);
    collector.publish_pool(&pool);

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
        assert_eq!(recorder.value(series), value, "{series}");
    }
    // 12 pool series + 7 per bucket, 2 buckets: nothing unexpected.
    assert_eq!(recorder.values.lock().unwrap().len(), 12 + 7 * 2);

    drop(held);
    collector.publish_pool(&pool);
    assert_eq!(recorder.value("takhin_mempool_buffer_in_use"), 0);
    assert_eq!(recorder.value("takhin_mempool_buffer_in_use_bytes"), 0);
    assert_eq!(recorder.value("takhin_mempool_buffer_puts_total"), 5);
}

#[test]
fn describes_every_series_with_help_and_unit() {
    let recorder = TestRecorder::default();
    let pool = small_pool();
    let _collector = metrics::with_local_recorder(&recorder, || MetricsCollector::new(&pool));
    let descriptions = recorder.descriptions.lock().unwrap();
    assert_eq!(descriptions.len(), 12 + 7);
    for name in recorder.values.lock().unwrap().keys() {
        let name = name.split('{').next().unwrap();
        let (unit, help) = &descriptions[name];
        assert!(!help.is_empty(), "{name}");
        let expected = if name.ends_with("bytes") || name.ends_with("bytes_total") {
            Unit::Bytes
        } else {
            Unit::Count
        };
        assert_eq!(*unit, Some(expected), "{name}");
    }
    assert_eq!(
        descriptions["takhin_mempool_buffer_in_use"].1,
        "Buffer guards alive now; a steady climb is a leak."
    );
}

#[test]
fn prefix_is_configurable_and_checked() {
    let recorder = TestRecorder::default();
    let pool = small_pool();
    let collector = metrics::with_local_recorder(&recorder, || {
        MetricsCollector::with_prefix(&pool, "storage_log").unwrap()
    });
    drop(pool.get(10));
    collector.publish_pool(&pool);
    assert_eq!(recorder.value("storage_log_buffer_gets_total"), 1);
    assert_eq!(
        recorder.value("storage_log_buffer_bucket_misses_total{size=\"512\"}"),
        1
    );
    assert!(
        recorder
            .values
            .lock()
            .unwrap()
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
    let collector = metrics::with_local_recorder(&recorder, || MetricsCollector::new(&pool));
    let other = BufferPool::builder()
        .bucket_sizes([256, 4096])
        .build()
        .unwrap();
    drop(other.get(4000));
    drop(other.get(100));
    collector.publish_pool(&other);
    assert_eq!(
        recorder.value("takhin_mempool_buffer_bucket_gets_total{size=\"4096\"}"),
        1
    );
    assert_eq!(
        recorder.value("takhin_mempool_buffer_bucket_gets_total{size=\"512\"}"),
        0
    );
    assert!(
        !recorder
            .values
            .lock()
            .unwrap()
            .keys()
            .any(|name| name.contains("\"256\""))
    );
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
    let collector = metrics::with_local_recorder(&recorder, || MetricsCollector::new(&pool));
    let reporter = Reporter::spawn(collector, Arc::clone(&pool), Duration::from_millis(5)).unwrap();
    // The thread names itself once it runs.
    #[cfg(target_os = "linux")]
    wait_until("the reporter thread runs", || reporter_threads() == 1);

    // Publishes on its own, repeatedly.
    for round in 1..=3 {
        drop(pool.get(10));
        wait_until("the reporter publishes", || {
            recorder.value("takhin_mempool_buffer_gets_total") == round
        });
    }

    // A drop publishes the final figures before it returns.
    let held = pool.get(1000);
    drop(pool.get(10));
    drop(reporter);
    assert_eq!(recorder.value("takhin_mempool_buffer_gets_total"), 5);
    assert_eq!(recorder.value("takhin_mempool_buffer_in_use"), 1);

    // The thread is gone: it released the pool and nothing publishes any more.
    assert_eq!(Arc::strong_count(&pool), 1);
    drop(held);
    drop(pool.get(10));
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(recorder.value("takhin_mempool_buffer_gets_total"), 5);
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
    let collector = metrics::with_local_recorder(&recorder, || MetricsCollector::new(&pool));
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
    assert_eq!(recorder.value("takhin_mempool_buffer_gets_total"), 20_004);
    assert_eq!(recorder.value("takhin_mempool_buffer_allocations_total"), 4);
}

#[test]
fn budgeted_pools_publish_the_budget_series() {
    let recorder = TestRecorder::default();
    let pool = BufferPool::builder()
        .bucket_sizes([1024])
        .memory_budget(2048)
        .build()
        .unwrap();
    let collector = metrics::with_local_recorder(&recorder, || MetricsCollector::new(&pool));
    let held = pool.get(1000);
    assert!(pool.try_get(5000).is_err()); // charges 5000 > 1024 left: exhausted
    assert!(
        pool.get_timeout(2000, std::time::Duration::from_millis(20))
            .is_err()
    );
    collector.publish_pool(&pool);
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
        assert_eq!(recorder.value(series), value, "{series}");
    }
    assert!(recorder.value("takhin_mempool_buffer_budget_exhausted_total") >= 1);
    assert!(recorder.value("takhin_mempool_buffer_budget_wait_microseconds_total") >= 20_000);
    drop(held);
    pool.close();
    collector.publish_pool(&pool);
    assert_eq!(
        recorder.value("takhin_mempool_buffer_budget_in_use_bytes"),
        0
    );
    assert_eq!(recorder.value("takhin_mempool_buffer_budget_closed"), 1);
}

#[test]
fn pools_without_a_budget_publish_no_budget_series() {
    let recorder = TestRecorder::default();
    let pool = small_pool();
    let collector = metrics::with_local_recorder(&recorder, || MetricsCollector::new(&pool));
    collector.publish_pool(&pool);
    let values = recorder.values.lock().unwrap();
    assert!(
        values.keys().all(|name| !name.contains("budget")),
        "{:?}",
        values.keys()
    );
}
