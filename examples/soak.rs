//! Soak test of the memory budget: threads that outrun the budget, hand
//! buffers to each other, and check every byte, for a bounded time.
//!
//! ```text
//! cargo run --release -p mempool-examples --example soak -- --seconds 10 --threads 8
//! ```
//!
//! Options (all optional): `--seconds N` (default 2), `--threads N` (default
//! 4), `--budget BYTES` (default 1 MiB), `--max-size BYTES` (default 64 KiB).
//! It stops by itself, prints a summary, and exits with an error if a buffer
//! came back corrupt or not zeroed, or if the budget does not balance at the
//! end.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use mempool::{BufferPool, PoolError, PooledBuf};
use mempool_test_support::{fill_pattern, has_pattern};

struct Options {
    seconds: f64,
    threads: usize,
    budget: u64,
    max_size: usize,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        seconds: 2.0,
        threads: 4,
        budget: 1 << 20,
        max_size: 64 << 10,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |_| format!("bad value for {flag}: {value}");
        match flag.as_str() {
            "--seconds" => options.seconds = value.parse().map_err(|_| bad(()))?,
            "--threads" => options.threads = value.parse().map_err(|_| bad(()))?,
            "--budget" => options.budget = value.parse().map_err(|_| bad(()))?,
            "--max-size" => options.max_size = value.parse().map_err(|_| bad(()))?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if !(options.seconds.is_finite() && options.seconds > 0.0 && options.seconds <= 86_400.0) {
        return Err("--seconds must be in (0, 86400]".into());
    }
    if options.threads < 2 || options.max_size == 0 {
        return Err("--threads must be at least 2 and --max-size above 0".into());
    }
    Ok(options)
}

struct Tagged<'p> {
    owner: usize,
    seq: u64,
    buf: PooledBuf<'p>,
}

#[derive(Default)]
struct Tally {
    served: AtomicU64,
    bytes: AtomicU64,
    timeouts: AtomicU64,
    corrupt: AtomicU64,
    dirty: AtomicU64,
}

impl Tagged<'_> {
    fn check(self, tally: &Tally) {
        if !has_pattern(&self.buf, self.owner, self.seq) {
            tally.corrupt.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("soak: {message}");
            return ExitCode::FAILURE;
        }
    };
    let pool = BufferPool::builder()
        .memory_budget(options.budget)
        .build()
        .expect("a valid configuration");
    // Each thread keeps up to two buffers of its own: they must fit in the
    // budget together, or the run could starve itself.
    let largest_charge = pool
        .bucket_sizes()
        .iter()
        .copied()
        .find(|&size| size >= options.max_size)
        .unwrap_or(options.max_size);
    let kept = (options.threads * 2 * largest_charge) as u64;
    if options.budget < kept {
        eprintln!("soak: --budget must be at least {kept} for these settings");
        return ExitCode::FAILURE;
    }
    let tally = Tally::default();
    let stop_at = Instant::now() + Duration::from_secs_f64(options.seconds);
    let started = Instant::now();
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..options.threads)
        .map(|_| mpsc::channel::<Tagged<'_>>())
        .unzip();
    thread::scope(|scope| {
        for (owner, inbox) in receivers.into_iter().enumerate() {
            let peers = senders.clone();
            let (pool, tally, options) = (&pool, &tally, &options);
            scope.spawn(move || {
                let mut seed = (owner as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let mut random = move || {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as usize
                };
                let mut kept = Vec::new();
                let mut seq = 0;
                while Instant::now() < stop_at {
                    while let Ok(tagged) = inbox.try_recv() {
                        tagged.check(tally);
                    }
                    let size = 1 + random() % options.max_size;
                    let mut buf = match pool.get_timeout(size, Duration::from_millis(20)) {
                        Ok(buf) => buf,
                        Err(PoolError::Timeout { .. }) => {
                            tally.timeouts.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        Err(error) => panic!("soak: unexpected {error}"),
                    };
                    if buf.iter().any(|&byte| byte != 0) {
                        tally.dirty.fetch_add(1, Ordering::Relaxed);
                    }
                    fill_pattern(&mut buf, owner, seq);
                    tally.served.fetch_add(1, Ordering::Relaxed);
                    tally.bytes.fetch_add(size as u64, Ordering::Relaxed);
                    let tagged = Tagged { owner, seq, buf };
                    seq += 1;
                    match random() % 3 {
                        0 => {
                            kept.push(tagged);
                            if kept.len() > 2 {
                                kept.remove(0).check(tally);
                            }
                        }
                        1 => tagged.check(tally),
                        _ => {
                            let peer =
                                (owner + 1 + random() % (options.threads - 1)) % options.threads;
                            // A peer that has finished drops its inbox; the
                            // buffer then comes back here and is checked.
                            if let Err(mpsc::SendError(tagged)) = peers[peer].send(tagged) {
                                tagged.check(tally);
                            }
                        }
                    }
                }
                kept.into_iter().for_each(|tagged| tagged.check(tally));
                drop(peers);
                while let Ok(tagged) = inbox.recv() {
                    tagged.check(tally);
                }
            });
        }
        drop(senders);
    });
    let elapsed = started.elapsed();
    let stats = pool.stats();
    let budget = stats.budget.clone().expect("the pool has a budget");
    let served = tally.served.load(Ordering::Relaxed);
    let mean_wait = budget
        .wait_time_total
        .checked_div(budget.waits_total.max(1) as u32)
        .unwrap_or_default();
    println!("soak: {} threads for {elapsed:.2?}", options.threads);
    println!(
        "  buffers served     {served} ({:.0}/s), {} MiB requested",
        served as f64 / elapsed.as_secs_f64(),
        tally.bytes.load(Ordering::Relaxed) >> 20
    );
    println!(
        "  budget             {} bytes, peak in use {} bytes ({:.1}%)",
        budget.limit,
        budget.peak_in_use,
        100.0 * budget.peak_in_use as f64 / budget.limit as f64
    );
    println!(
        "  waits              {} (total {:.2?}, mean {mean_wait:.2?}), timeouts {}, exhausted {}",
        budget.waits_total,
        budget.wait_time_total,
        tally.timeouts.load(Ordering::Relaxed),
        budget.exhausted_total
    );
    println!(
        "  pool               hit rate {:.3}, allocations {}, retained {} bytes",
        stats.hit_rate().unwrap_or(0.0),
        stats.allocations,
        stats.bytes_retained
    );
    let corrupt = tally.corrupt.load(Ordering::Relaxed);
    let dirty = tally.dirty.load(Ordering::Relaxed);
    println!("  checks             {corrupt} corrupt, {dirty} not zeroed on reuse");
    let balanced = budget.in_use == 0
        && budget.available == budget.limit
        && budget.waiting == 0
        && stats.in_use == 0
        && budget.peak_in_use <= budget.limit;
    println!(
        "  end state          in use {}, available {}, waiting {}: {}",
        budget.in_use,
        budget.available,
        budget.waiting,
        if balanced { "balanced" } else { "NOT BALANCED" }
    );
    if corrupt == 0 && dirty == 0 && balanced && served > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
