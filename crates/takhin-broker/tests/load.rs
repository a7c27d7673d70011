//! Load through a small request budget: librdkafka pushes 200 MB over four
//! connections into a broker whose request memory is 16 MiB. Nothing is
//! lost, the broker's peak RSS stays under [`RSS_BOUND`], and the budget
//! metrics show that it pushed back.

mod common;

use std::time::Duration;

/// The request budget of this test.
const BUDGET: u64 = 16 << 20;
/// The broker's peak resident set must stay under this: the 16 MiB budget,
/// the idle request buffers (an eighth of the budget per bucket), the
/// logs' read buffers for the consumer's fetches and the runtime.
const RSS_BOUND: u64 = 256 << 20;

#[test]
fn librdkafka_pushes_200_mb_through_a_16_mib_request_budget() {
    let Some(python) = common::python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let broker = common::Broker::start(
        dir.path(),
        &[
            "--partitions",
            "4",
            "--max-request-memory",
            "16MiB",
            "--max-request-size",
            "12MiB",
            "--max-message-bytes",
            "12MiB",
            "--metrics",
            "127.0.0.1:0",
        ],
    );
    let args = [
        "--bootstrap",
        &broker.addr.to_string(),
        "--megabytes",
        "200",
    ]
    .map(String::from);
    let output = common::run_script(&python, "load.py", &args, Duration::from_secs(600));
    println!("{output}");
    assert!(output.contains("load: ok"), "{output}");

    let rss = broker.peak_rss_bytes();
    println!(
        "broker peak RSS {} MiB (bound {} MiB)",
        rss >> 20,
        RSS_BOUND >> 20
    );
    assert!(rss < RSS_BOUND, "peak RSS {rss} bytes");

    // The reporters publish every second.
    std::thread::sleep(Duration::from_millis(1500));
    let metrics = common::scrape(broker.metrics.expect("a metrics address"));
    let waits = common::metric(&metrics, "takhin_broker_request_budget_waits_total");
    let pool_waits = common::metric(&metrics, "takhin_mempool_request_buffer_budget_waits_total");
    let peak = common::metric(
        &metrics,
        "takhin_mempool_request_buffer_budget_peak_in_use_bytes",
    );
    let efficiency = common::metric(&metrics, "takhin_broker_request_budget_efficiency");
    let bytes_in = common::metric(&metrics, "takhin_broker_bytes_in_total");
    println!(
        "budget waits {waits} (pool {pool_waits}), peak in use {peak}, efficiency {efficiency:.3}, bytes in {bytes_in}"
    );
    assert!(
        waits > 0.0 && pool_waits > 0.0,
        "no backpressure:\n{metrics}"
    );
    assert!(peak > 0.0 && peak <= BUDGET as f64, "peak {peak}");
    assert!(
        efficiency > 0.5 && efficiency <= 1.0,
        "efficiency {efficiency}"
    );
    assert!(bytes_in >= 200e6, "bytes in {bytes_in}");
    assert!(common::metric(&metrics, "takhin_broker_requests_total") > 0.0);
    assert!(
        metrics.contains("takhin_mempool_buffer_"),
        "the logs' pool is published too"
    );

    let (status, _) = broker.stop("TERM");
    assert!(status.success());
}
