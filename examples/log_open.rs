//! How long `Log::open` takes with and without the recovery point: builds a
//! log of 16 sealed 16 MiB segments, then opens it 7 times each way,
//! alternating, and prints the medians, their ratio and the bytes each open
//! read (from `/proc/self/io`, which does not depend on the machine's load).
//!
//! ```text
//! cargo run --release -p mempool-examples --example log_open
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use takhin_log::{Log, LogConfig, RECOVERY_POINT_FILE, Record};

/// Bytes this process has read so far (`rchar`: page cache hits count).
fn bytes_read() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|io| {
            io.lines()
                .find_map(|l| l.strip_prefix("rchar: ")?.parse().ok())
        })
        .unwrap_or(0)
}

/// Opens the log with or without its checkpoint: (time, bytes read).
fn open(dir: &Path, config: LogConfig, checkpoint: Option<&[u8]>) -> (Duration, u64) {
    let path = dir.join(RECOVERY_POINT_FILE);
    match checkpoint {
        Some(bytes) => std::fs::write(&path, bytes).expect("restore the checkpoint"),
        None => std::fs::remove_file(&path).expect("remove the checkpoint"),
    }
    let (start, read) = (Instant::now(), bytes_read());
    let log = Log::open(dir, config).expect("open the log");
    let elapsed = (start.elapsed(), bytes_read() - read);
    drop(log);
    elapsed
}

fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = LogConfig::default().with_segment_bytes(16 << 20);
    let mut log = Log::open(dir.path(), config).expect("open the log");
    let value = vec![7u8; 1000];
    let records: Vec<Record<'_>> = (0..100)
        .map(|i| Record::new(i, None, Some(&value[..100 + (i as usize * 9) % 900])))
        .collect();
    while log.segments().len() <= 16 {
        log.append_batch(&records).expect("append");
    }
    log.flush().expect("flush");
    let size = log.size_bytes();
    drop(log);
    let checkpoint = std::fs::read(dir.path().join(RECOVERY_POINT_FILE)).expect("a checkpoint");

    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        with.push(open(dir.path(), config, Some(&checkpoint)));
        without.push(open(dir.path(), config, None));
    }
    with.sort();
    without.sort();
    let ((with_time, with_read), (without_time, without_read)) = (with[3], without[3]);
    println!(
        "16 sealed segments, {} MiB: open with the recovery point {with_time:?} ({with_read} bytes read), \
         without {without_time:?} ({without_read} bytes read); ratio {:.0}x",
        size >> 20,
        without_time.as_secs_f64() / with_time.as_secs_f64()
    );
}
