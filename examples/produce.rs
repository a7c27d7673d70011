//! The storage log demo: append N records in batches to a `takhin-log` log,
//! read them all back, and report throughput, pool hit rate and heap
//! allocations per batch.
//!
//! ```text
//! cargo run --release -p mempool-examples --example produce -- [--records N]
//!     [--batch B] [--dir PATH] [--buffers pool|vec]
//! ```
//!
//! Records are 100 to 1000 bytes (a fixed pseudo-random sequence), keyed, in
//! batches of `B` (default 100). The log lives in a temporary directory
//! unless `--dir` names one. `--buffers vec` runs the same code with plain
//! `Vec` buffers instead of the pool, for comparison.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use mempool::{MetricsCollector, PrometheusError, Reporter};
use mempool_test_support::{CountingAlloc, process_alloc_count};
use takhin_log::{BufferSource, Log, LogConfig, Record, VecBuffers};

/// Counts heap allocations in the whole process (all threads).
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn allocations() -> u64 {
    process_alloc_count().allocations
}

/// Serves `/metrics` on loopback while the demo runs: the Prometheus exporter
/// on 127.0.0.1:9000, or on a free loopback port if 9000 is taken, fed by a
/// reporter that publishes the global pool's stats every 250 ms.
fn serve_metrics() -> Result<(SocketAddr, Reporter), Box<dyn std::error::Error>> {
    let exporter = match mempool::install_prometheus() {
        Err(PrometheusError::Bind { .. }) => mempool::install_prometheus_on(([127, 0, 0, 1], 0))?,
        other => other?,
    };
    let pool = mempool::global();
    let reporter = Reporter::spawn(
        MetricsCollector::new(pool),
        pool,
        Duration::from_millis(250),
    )?;
    Ok((exporter.local_addr(), reporter))
}

/// Fetches `/metrics` once and returns the sample lines of the series named.
fn scrape(addr: SocketAddr, names: &[&str]) -> std::io::Result<Vec<String>> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response
        .lines()
        .filter(|line| {
            names
                .iter()
                .any(|name| line.split(' ').next() == Some(*name))
        })
        .map(str::to_owned)
        .collect())
}

struct Args {
    records: u64,
    batch: usize,
    dir: Option<PathBuf>,
    vec_buffers: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        records: 1_000_000,
        batch: 100,
        dir: None,
        vec_buffers: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--records" => {
                args.records = value()?.parse().map_err(|e| format!("--records: {e}"))?
            }
            "--batch" => args.batch = value()?.parse().map_err(|e| format!("--batch: {e}"))?,
            "--dir" => args.dir = Some(PathBuf::from(value()?)),
            "--buffers" => match value()?.as_str() {
                "pool" => args.vec_buffers = false,
                "vec" => args.vec_buffers = true,
                other => return Err(format!("--buffers takes pool or vec, not {other}")),
            },
            "-h" | "--help" => {
                return Err("usage: produce [--records N] [--batch B] [--dir PATH] \
                            [--buffers pool|vec]"
                    .into());
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.batch == 0 || args.records == 0 {
        return Err("--records and --batch must be positive".into());
    }
    Ok(args)
}

/// xorshift64: the record sizes and payload, the same on every run.
struct Sizes(u64);

impl Sizes {
    fn next_size(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        100 + (self.0 % 901) as usize
    }
}

const SEED: u64 = 0x9E37_79B9_7F4A_7C15;

fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(&format!(
        "{what:>7} [{{bar:40}}] {{pos}}/{{len}} records ({{per_sec}})"
    ))
    .expect("valid template")
    .progress_chars("=> ");
    bar.set_style(style);
    bar
}

struct Phase {
    elapsed: Duration,
    allocations: u64,
    units: u64,
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let temp = tempfile::tempdir().expect("a temporary directory");
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| temp.path().join("demo-log"));
    let metrics = match serve_metrics() {
        Ok((addr, reporter)) => {
            println!("metrics: http://{addr}/metrics (refreshed every 250 ms while this runs)");
            Some((addr, reporter))
        }
        Err(error) => {
            println!("metrics: not served ({error})");
            None
        }
    };
    // A 256 MiB segment size, so that a default run also shows rolling.
    let config = LogConfig::default().with_segment_bytes(256 << 20);
    let result = if args.vec_buffers {
        run(
            &args,
            Log::open_with(&dir, config, VecBuffers).expect("open the log"),
        )
    } else {
        run(&args, Log::open(&dir, config).expect("open the log"))
    };
    if let Err(error) = result {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
    if let Some((addr, reporter)) = metrics {
        drop(reporter); // publishes a last time, then stops
        let names = [
            "takhin_mempool_buffer_gets_total",
            "takhin_mempool_buffer_allocations_total",
            "takhin_mempool_buffer_in_use",
        ];
        match scrape(addr, &names) {
            Ok(lines) => println!("scraped /metrics: {}", lines.join(", ")),
            Err(error) => println!("scraping /metrics failed: {error}"),
        }
    }
}

fn run<B: BufferSource>(args: &Args, mut log: Log<B>) -> Result<(), Box<dyn std::error::Error>> {
    let start_offset = log.next_offset();
    // One payload buffer; every record borrows a window of it.
    let mut payload = vec![0u8; 2048];
    let mut sizes = Sizes(SEED);
    for chunk in payload.chunks_mut(8) {
        chunk.copy_from_slice(&sizes.0.to_le_bytes()[..chunk.len()]);
        sizes.next_size();
    }
    let payload = payload;

    // Append.
    let mut sizes = Sizes(SEED);
    let mut records: Vec<Record<'_>> = Vec::with_capacity(args.batch);
    let mut written_bytes = 0u64;
    let bar = progress(args.records, "append");
    let before = (Instant::now(), allocations());
    let mut left = args.records;
    let mut batches = 0u64;
    let mut timestamp = 1_700_000_000_000i64;
    while left > 0 {
        records.clear();
        let n = (args.batch as u64).min(left) as usize;
        for _ in 0..n {
            let size = sizes.next_size();
            let at = size % 1024;
            timestamp += 1;
            written_bytes += size as u64;
            records.push(Record::new(
                timestamp,
                Some(&payload[at..at + 8]),
                Some(&payload[at..at + size]),
            ));
        }
        log.append_batch(&records)?;
        batches += 1;
        left -= n as u64;
        bar.inc(n as u64);
    }
    log.flush()?;
    let append = Phase {
        elapsed: before.0.elapsed(),
        allocations: allocations() - before.1,
        units: batches,
    };
    bar.finish_and_clear();

    // Read back, checking every record's size and key.
    let mut sizes = Sizes(SEED);
    let bar = progress(args.records, "read");
    let before = (Instant::now(), allocations());
    let (mut offset, mut fetches, mut read_bytes) = (start_offset, 0u64, 0u64);
    while offset < log.next_offset() {
        let fetch = log.read_range(offset, 1 << 20)?;
        fetches += 1;
        let mut count = 0;
        for record in fetch.records() {
            let record = record?;
            let size = sizes.next_size();
            let value = record.value.unwrap_or_default();
            let key = record.key.unwrap_or_default();
            if record.offset != offset + count || value.len() != size || key != &value[..8] {
                return Err(
                    format!("record {} does not match what was written", record.offset).into(),
                );
            }
            read_bytes += value.len() as u64;
            count += 1;
        }
        offset += count;
        bar.inc(count);
    }
    let read = Phase {
        elapsed: before.0.elapsed(),
        allocations: allocations() - before.1,
        units: fetches,
    };
    bar.finish_and_clear();
    assert_eq!(read_bytes, written_bytes, "every value byte came back");

    let mb = |bytes: u64, d: Duration| bytes as f64 / d.as_secs_f64() / 1e6;
    let rate = |n: u64, d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "log: {} records, {:.1} MB of values, {} segments in {}",
        args.records,
        written_bytes as f64 / 1e6,
        log.segments().len(),
        log.dir().display()
    );
    println!(
        "append: {:.2} s, {:.0} records/s, {:.0} MB/s, {:.3} heap allocations per batch ({} in {} batches of {})",
        append.elapsed.as_secs_f64(),
        rate(args.records, append.elapsed),
        mb(written_bytes, append.elapsed),
        append.allocations as f64 / append.units as f64,
        append.allocations,
        append.units,
        args.batch
    );
    println!(
        "read:   {:.2} s, {:.0} records/s, {:.0} MB/s, {:.3} heap allocations per fetch ({} in {} fetches of up to 1 MiB)",
        read.elapsed.as_secs_f64(),
        rate(args.records, read.elapsed),
        mb(read_bytes, read.elapsed),
        read.allocations as f64 / read.units as f64,
        read.allocations,
        read.units
    );
    if args.vec_buffers {
        println!("pool: not used (--buffers vec)");
    } else {
        let stats = mempool::stats();
        println!(
            "pool: {} gets, hit rate {:.4}, {} buffers allocated, {} in use, {:.1} MiB retained",
            stats.gets,
            stats.hit_rate().unwrap_or(0.0),
            stats.allocations,
            stats.in_use,
            stats.bytes_retained as f64 / (1 << 20) as f64
        );
    }
    Ok(())
}
