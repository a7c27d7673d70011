//! The real Prometheus exporter on a real loopback socket: install it, drive a
//! known workload, scrape `/metrics` over HTTP and check the exact text.
//!
//! The global recorder can be installed once per process, so one test runs
//! those steps in order. The alert rules in `docs/` are checked here too,
//! with promtool when it is installed.
#![cfg(feature = "prometheus")]

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use mempool::{BufferPool, MetricsCollector, PrometheusError};

/// A free loopback port, as the system reports it.
fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// `GET path` over HTTP/1.0; returns the status code and the body.
fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no header end in {response:?}")))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line in {head:?}")))?;
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "HTTP/1.0 responses are not chunked: {head}"
    );
    Ok((status, body.to_owned()))
}

/// Scrapes until the listener answers, for at most 10 seconds.
fn scrape(addr: SocketAddr) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match http_get(addr, "/metrics") {
            Ok((200, body)) => return body,
            Ok((status, body)) => panic!("scrape answered {status}: {body}"),
            Err(error) if Instant::now() < deadline => {
                eprintln!("not ready yet: {error}");
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(error) => panic!("no scrape answer within 10 s: {error}"),
        }
    }
}

/// The parsed exposition text.
#[derive(Default, Debug)]
struct Exposition {
    /// `name{labels}` to value.
    samples: BTreeMap<String, f64>,
    help: BTreeMap<String, String>,
    types: BTreeMap<String, String>,
}

fn parse(text: &str) -> Exposition {
    let mut exposition = Exposition::default();
    for line in text.lines().filter(|line| !line.is_empty()) {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP has a text");
            exposition.help.insert(name.into(), help.into());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE has a kind");
            exposition.types.insert(name.into(), kind.into());
        } else if line.starts_with('#') {
            continue;
        } else {
            let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
            let value = value
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}"));
            assert!(
                exposition.samples.insert(series.into(), value).is_none(),
                "{line}"
            );
        }
    }
    exposition
}

#[test]
fn scrape_of_the_real_exporter_shows_exact_pool_figures() {
    assert_eq!(
        mempool::DEFAULT_PROMETHEUS_ADDR,
        "127.0.0.1:9000".parse().unwrap()
    );

    // A taken port is a typed error carrying the io::Error, and installs nothing.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_addr = taken.local_addr().unwrap();
    let error = mempool::install_prometheus_on(taken_addr).unwrap_err();
    match &error {
        PrometheusError::Bind { addr, source } => {
            assert_eq!(*addr, taken_addr);
            assert_eq!(source.kind(), ErrorKind::AddrInUse);
        }
        other => panic!("expected Bind, got {other:?}"),
    }
    assert!(
        error.to_string().contains(&taken_addr.to_string()),
        "{error}"
    );
    assert!(std::error::Error::source(&error).is_some());
    drop(taken);

    // Port 0 picks a free loopback port.
    let exporter = mempool::install_prometheus_on(([127, 0, 0, 1], 0)).unwrap();
    let addr = exporter.local_addr();
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");

    // A second install fails, and closes the listener it had opened.
    // (`free_port` probes a port and closes it; on a busy machine another
    // process may take it before we do, so retry on that.)
    let (second, error) = (0..8)
        .map(|_| {
            let second = free_port();
            (second, mempool::install_prometheus_on(second).unwrap_err())
        })
        .find(|(_, error)| !matches!(error, PrometheusError::Bind { .. }))
        .expect("a free port within 8 tries");
    assert!(
        matches!(error, PrometheusError::RecorderAlreadyInstalled(_)),
        "{error:?}"
    );
    TcpListener::bind(second).expect("the failed install released its port");

    // A known workload on a local pool, published once.
    let pool = BufferPool::builder()
        .bucket_sizes([512, 4096])
        .max_idle_per_bucket(1)
        .max_buffer_size(1 << 20)
        .build()
        .unwrap();
    let collector = MetricsCollector::new(&pool);
    let a = pool.get(100);
    let b = pool.get(100);
    drop(a);
    drop(b); // discarded: the bucket keeps one
    let _hit = pool.get(300);
    drop(pool.get(4000));
    let _oversized = pool.get(10_000);
    collector.publish_pool(&pool);

    let text = scrape(addr);
    let exposition = parse(&text);
    let expected = [
        ("takhin_mempool_buffer_allocations_total", 4.0),
        ("takhin_mempool_buffer_gets_total", 5.0),
        ("takhin_mempool_buffer_puts_total", 3.0),
        ("takhin_mempool_buffer_in_use", 2.0),
        ("takhin_mempool_buffer_oversized_total", 1.0),
        ("takhin_mempool_buffer_discarded_total", 1.0),
        ("takhin_mempool_buffer_hits_total", 1.0),
        ("takhin_mempool_buffer_trimmed_total", 0.0),
        ("takhin_mempool_buffer_in_use_bytes", 10_512.0),
        ("takhin_mempool_buffer_retained_bytes", 4096.0),
        ("takhin_mempool_buffer_requested_bytes_total", 14_500.0),
        ("takhin_mempool_buffer_handed_out_bytes_total", 15_632.0),
        ("takhin_mempool_buffer_bucket_gets_total{size=\"512\"}", 3.0),
        ("takhin_mempool_buffer_bucket_hits_total{size=\"512\"}", 1.0),
        (
            "takhin_mempool_buffer_bucket_misses_total{size=\"512\"}",
            2.0,
        ),
        (
            "takhin_mempool_buffer_bucket_discarded_total{size=\"512\"}",
            1.0,
        ),
        ("takhin_mempool_buffer_bucket_in_use{size=\"512\"}", 1.0),
        ("takhin_mempool_buffer_bucket_idle{size=\"512\"}", 0.0),
        ("takhin_mempool_buffer_bucket_max_idle{size=\"512\"}", 1.0),
        (
            "takhin_mempool_buffer_bucket_gets_total{size=\"4096\"}",
            1.0,
        ),
        (
            "takhin_mempool_buffer_bucket_hits_total{size=\"4096\"}",
            0.0,
        ),
        (
            "takhin_mempool_buffer_bucket_misses_total{size=\"4096\"}",
            1.0,
        ),
        (
            "takhin_mempool_buffer_bucket_discarded_total{size=\"4096\"}",
            0.0,
        ),
        ("takhin_mempool_buffer_bucket_in_use{size=\"4096\"}", 0.0),
        ("takhin_mempool_buffer_bucket_idle{size=\"4096\"}", 1.0),
        ("takhin_mempool_buffer_bucket_max_idle{size=\"4096\"}", 1.0),
    ];
    for (series, value) in expected {
        assert_eq!(
            exposition.samples.get(series),
            Some(&value),
            "{series} in\n{text}"
        );
    }
    assert_eq!(exposition.samples.len(), expected.len(), "{text}");

    // Every family has its HELP text and TYPE.
    for (series, _) in expected {
        let name = series.split('{').next().unwrap();
        let kind = if name.ends_with("_total") {
            "counter"
        } else {
            "gauge"
        };
        assert_eq!(
            exposition.types.get(name).map(String::as_str),
            Some(kind),
            "{name}"
        );
        assert!(
            exposition.help.contains_key(name),
            "no HELP for {name} in\n{text}"
        );
    }
    let help = |name: &str| exposition.help[name].as_str();
    assert_eq!(
        help("takhin_mempool_buffer_gets_total"),
        "Buffers handed out, pooled or oversized."
    );
    assert_eq!(
        help("takhin_mempool_buffer_in_use"),
        "Buffer guards alive now; a steady climb is a leak."
    );
    assert_eq!(
        help("takhin_mempool_buffer_bucket_hits_total"),
        "Gets of this bucket served by an idle buffer."
    );
    assert!(text.contains("# HELP takhin_mempool_buffer_oversized_total Gets above the largest bucket, allocated and freed directly.\n"));

    // A later publish shows up in the next scrape.
    drop(_hit);
    collector.publish_pool(&pool);
    let again = parse(&scrape(addr));
    assert_eq!(again.samples["takhin_mempool_buffer_in_use"], 1.0);
    assert_eq!(again.samples["takhin_mempool_buffer_puts_total"], 4.0);
    // The handle renders what a scrape serves (families come in hash order).
    assert_eq!(parse(&exporter.render()).samples, again.samples);

    promtool_check_metrics(&text);

    // A budgeted pool's series pass the lint too: its wait total is in
    // seconds, the base unit.
    let budgeted = BufferPool::builder().memory_budget(4096).build().unwrap();
    let budget_collector = MetricsCollector::with_prefix(&budgeted, "takhin_budgeted").unwrap();
    let held = budgeted.get(4096);
    assert!(budgeted.try_get(1).is_err());
    budget_collector.publish_pool(&budgeted);
    let text = scrape(addr);
    promtool_check_metrics(&text);
    let samples = parse(&text).samples;
    assert_eq!(
        samples["takhin_budgeted_buffer_budget_in_use_bytes"],
        4096.0
    );
    assert_eq!(samples["takhin_budgeted_buffer_budget_wait_seconds"], 0.0);
    drop(held);
}

/// Checks `docs/alerts.yml` and runs its unit tests `docs/alerts.test.yml`.
#[test]
fn alert_rules_pass_promtool() {
    let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs");
    for args in [
        ["check", "rules", "alerts.yml"],
        ["test", "rules", "alerts.test.yml"],
    ] {
        let output = match std::process::Command::new("promtool")
            .args(args)
            .current_dir(docs)
            .output()
        {
            Ok(output) => output,
            Err(error) if error.kind() == ErrorKind::NotFound => {
                eprintln!(
                    "SKIPPED promtool {}: promtool is not installed",
                    args.join(" ")
                );
                return;
            }
            Err(error) => panic!("running promtool: {error}"),
        };
        assert!(
            output.status.success(),
            "promtool {}:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Lints the exposition with `promtool check metrics` when promtool is
/// installed (Debian: `apt-get install prometheus`); says so when it is not.
fn promtool_check_metrics(text: &str) {
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) if error.kind() == ErrorKind::NotFound => {
            eprintln!("SKIPPED promtool check metrics: promtool is not installed");
            return;
        }
        Err(error) => panic!("running promtool: {error}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "promtool check metrics:\n{report}\n{text}"
    );
    assert!(
        report.trim().is_empty(),
        "promtool lint findings:\n{report}"
    );
}
