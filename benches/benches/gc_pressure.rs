//! The Rust counterpart of the Go seed's "GC pressure" benchmark: a mixed,
//! Kafka-like workload run for a number of seconds with and without the pool,
//! reporting heap allocations, bytes allocated per operation and peak RSS.
//!
//! Two worker threads each get a buffer of a Kafka-like size (100 B to 4 KiB
//! records, one 1 MiB batch in 512), write all of it, and keep it in a ring of
//! 32 in-flight buffers, dropping the oldest. Each mode runs in its own child
//! process, so that peak RSS (`VmHWM`) is that mode's alone.
//!
//! `cargo bench -p mempool-benches --bench gc_pressure -- --seconds 10`

use std::collections::VecDeque;
use std::process::Command;
use std::time::{Duration, Instant};

use mempool_benches::mix::SizeMix;
use mempool_benches::rss::peak_rss_bytes;
use mempool_benches::workload::{Workload, touch};
use mempool_test_support::{CountingAlloc, process_alloc_count as alloc_count};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const THREADS: usize = 2;
const IN_FLIGHT: usize = 32;
const MODES: [&str; 2] = ["pool", "vec"];

/// Runs the workload in this process and prints one `key=value` line.
fn child(mode: &str, seconds: f64) {
    enum Held {
        Pooled(mempool::PooledBuf<'static>),
        Plain(Vec<u8>),
    }
    impl Held {
        fn first_byte(&self) -> u8 {
            match self {
                Held::Pooled(buf) => buf[0],
                Held::Plain(buf) => buf[0],
            }
        }
    }
    let pool = mode == "pool";
    let deadline = Duration::from_secs_f64(seconds);
    // Allocations before the start (runtime, thread spawns) are not the workload's.
    let before = alloc_count();
    let start = Instant::now();
    let ops: u64 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                scope.spawn(move || {
                    let mix = SizeMix::kafka(t as u64 + 1);
                    let mut ring: VecDeque<Held> = VecDeque::with_capacity(IN_FLIGHT);
                    let mut ops = 0u64;
                    while start.elapsed() < deadline {
                        for _ in 0..256 {
                            let size = mix.size(ops as usize);
                            let held = if pool {
                                let mut buf = mempool::get_buffer(size);
                                touch(&mut buf, Workload::WriteAll);
                                Held::Pooled(buf)
                            } else {
                                let mut buf = vec![0u8; size];
                                touch(&mut buf, Workload::WriteAll);
                                Held::Plain(buf)
                            };
                            if ring.len() == IN_FLIGHT {
                                // "Consume" the oldest buffer, then drop it.
                                let oldest = ring.pop_front().expect("ring is full");
                                std::hint::black_box(oldest.first_byte());
                            }
                            ring.push_back(held);
                            ops += 1;
                        }
                    }
                    drop(ring);
                    ops
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker panicked"))
            .sum()
    });
    let elapsed = start.elapsed();
    let counted = alloc_count().since(before);
    let peak = peak_rss_bytes().unwrap_or(0);
    println!(
        "mode={mode} ops={ops} ns_per_op={:.1} allocations={} bytes={} peak_rss={peak}",
        elapsed.as_nanos() as f64 * THREADS as f64 / ops as f64,
        counted.allocations,
        counted.bytes,
    );
}

fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or("0")
}

fn main() {
    let value = mempool_benches::flag_value;
    let seconds: f64 = value("--seconds").map_or(10.0, |s| s.parse().expect("--seconds N"));
    if let Some(mode) = value("--child") {
        child(&mode, seconds);
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    println!(
        "{THREADS} threads, {seconds} s per mode, mean request {:.0} B, {IN_FLIGHT} buffers in flight per thread",
        SizeMix::kafka(1).mean()
    );
    println!(
        "| mode | ops | ns per op per thread | heap allocations | allocations per op | bytes allocated per op | peak RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|");
    for mode in MODES {
        let output = Command::new(&exe)
            .args(["--child", mode, "--seconds", &seconds.to_string()])
            .output()
            .expect("run child");
        assert!(output.status.success(), "child {mode} failed: {output:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout
            .lines()
            .find(|l| l.starts_with("mode="))
            .expect("child line");
        let ops: f64 = field(line, "ops").parse().expect("ops");
        let allocations: f64 = field(line, "allocations").parse().expect("allocations");
        let bytes: f64 = field(line, "bytes").parse().expect("bytes");
        let peak: f64 = field(line, "peak_rss").parse().expect("peak");
        let label = if mode == "pool" {
            "mempool::get_buffer"
        } else {
            "vec![0u8; n]"
        };
        println!(
            "| {label} | {ops} | {} | {allocations} | {:.4} | {:.1} | {:.1} |",
            field(line, "ns_per_op"),
            allocations / ops,
            bytes / ops,
            peak / f64::from(1 << 20),
        );
    }
}
