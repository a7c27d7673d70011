//! Same-moment ratios for the targets of issue 5: the candidates of a table
//! are measured in turn, round after round, and each gets the median of its
//! rounds. A load spike from another process then hits every candidate of the
//! round alike, where criterion, which measures one row after the other for
//! seconds each, would charge it to whichever row ran at that moment.
//!
//! Run by the `alloc_*` bench binaries with `-- --interleaved`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use mempool::BufferPool;

use crate::floor::Scratch;
use crate::mix::SizeMix;
use crate::peers::{
    byte_pool_op, freeze_op, global_op, mempool_op, object_pool_for, object_pool_op, opool_for,
    opool_op, vec_op, zeropool_op,
};
use crate::threads::per_thread_time;
use crate::workload::Workload;

/// Rounds per table; the median of these is reported.
pub const ROUNDS: usize = 51;

/// A named candidate: runs its operation `ops` times and returns the time taken.
struct Candidate<'a> {
    name: String,
    run: Box<dyn FnMut(u64) -> Duration + 'a>,
}

/// A candidate timing `op` in a loop on this thread.
fn single<'a>(name: &str, mut op: impl FnMut() + 'a) -> Candidate<'a> {
    Candidate {
        name: name.to_owned(),
        run: Box::new(move |ops| {
            let start = Instant::now();
            for _ in 0..ops {
                op();
            }
            start.elapsed()
        }),
    }
}

/// A candidate running `op` on `threads` threads at once (per-thread time).
fn threaded<'a>(name: &str, threads: usize, op: impl Fn(usize, u64) + Sync + 'a) -> Candidate<'a> {
    Candidate {
        name: name.to_owned(),
        run: Box::new(move |ops| {
            per_thread_time(threads, ops, |t, from, n| {
                (from..from + n).for_each(|i| op(t, i));
            })
        }),
    }
}

/// Measures every candidate `ROUNDS` times, interleaved, after one warm-up
/// round; returns the median nanoseconds per operation of each.
fn measure(candidates: &mut [Candidate<'_>], ops: u64) -> Vec<f64> {
    let mut samples = vec![Vec::with_capacity(ROUNDS); candidates.len()];
    for round in 0..=ROUNDS {
        for (candidate, samples) in candidates.iter_mut().zip(&mut samples) {
            let elapsed = (candidate.run)(ops);
            if round > 0 {
                samples.push(elapsed.as_nanos() as f64 / ops as f64);
            }
        }
    }
    samples
        .into_iter()
        .map(|mut s| {
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        })
        .collect()
}

/// Prints one table: each candidate's median and its ratio to `base`.
fn table(title: &str, candidates: &mut [Candidate<'_>], ops: u64, base: &str) {
    let medians = measure(candidates, ops);
    let base_ns = candidates
        .iter()
        .zip(&medians)
        .find(|(c, _)| c.name == base)
        .map(|(_, &ns)| ns);
    println!("\n{title} ({ROUNDS} interleaved rounds of {ops} ops, medians)\n");
    println!("| candidate | ns per op | ÷ {base} |");
    println!("|---|---|---|");
    for (candidate, ns) in candidates.iter().zip(medians) {
        let ratio = base_ns.map_or("–".to_owned(), |b| format!("{:.2}", ns / b));
        println!("| {} | {ns:.1} | {ratio} |", candidate.name);
    }
}

/// The write-all rows for one size: floor, memset, mempool with and without
/// zeroing, `vec`, and (with `peers`) the pooling crates.
fn write_all_table(allocator: &str, size: usize, ops: u64, peers: bool) {
    let w = Workload::WriteAll;
    let pool = BufferPool::new();
    let nozero = BufferPool::builder()
        .zero_on_drop(false)
        .build()
        .expect("valid configuration");
    let mut scratch = Scratch::new(size);
    let mut scratch2 = Scratch::new(size);
    let zero = zeropool::ZeroPool::new();
    let opool = opool_for(size);
    let object = object_pool_for(size);
    let bytes = byte_pool::BytePool::<Vec<u8>>::new();
    let mut candidates = vec![
        single("floor", || scratch.write_then_zero(size)),
        single("memset", || scratch2.memset(size)),
        single("mempool", || mempool_op(&pool, size, w)),
        single("get_buffer", || global_op(size, w)),
        single("get_buffer + freeze", || freeze_op(size, w)),
        single("mempool_nozero", || mempool_op(&nozero, size, w)),
        single(&format!("vec ({allocator})"), || vec_op(size, w)),
    ];
    if peers {
        candidates.extend([
            single("zeropool", || zeropool_op(&zero, size, w)),
            single("opool", || opool_op(&opool, w)),
            single("object_pool", || object_pool_op(&object, size, w)),
            single("byte_pool", || byte_pool_op(&bytes, size, w)),
        ]);
    }
    table(
        &format!("{allocator}: {size} B, get + write all + drop"),
        &mut candidates,
        ops,
        "floor",
    );
}

/// Runs every table for the binary's global allocator, `allocator`; the
/// peer and thread tables only for `system`.
pub fn run(allocator: &str) {
    let system = allocator == "system";
    write_all_table(allocator, 512, 20_000, system);
    write_all_table(allocator, 1 << 10, 20_000, system);
    write_all_table(allocator, 4 << 10, 10_000, system);
    write_all_table(allocator, 64 << 10, 1_000, system);
    write_all_table(allocator, 1 << 20, 60, system);

    let pool = BufferPool::new();
    let mut untouched: Vec<Candidate<'_>> = crate::SIZES[..9]
        .iter()
        .map(|&size| {
            let pool = &pool;
            single(&format!("mempool {size} B"), move || {
                mempool_op(pool, size, Workload::Untouched);
            })
        })
        .collect();
    untouched.push(single("vec 1024 B", || {
        vec_op(1 << 10, Workload::Untouched)
    }));
    table(
        &format!("{allocator}: get + drop, untouched"),
        &mut untouched,
        20_000,
        "vec 1024 B",
    );

    if !system {
        return;
    }
    let w = Workload::WriteAll;
    let zero = zeropool::ZeroPool::new();
    let mut threads = Vec::new();
    for n in [1, 2] {
        let (pool, zero) = (&pool, &zero);
        threads.push(threaded(&format!("mempool, {n} thr"), n, move |_, _| {
            mempool_op(pool, 1 << 10, w);
        }));
        threads.push(threaded(&format!("zeropool, {n} thr"), n, move |_, _| {
            zeropool_op(zero, 1 << 10, w);
        }));
        threads.push(threaded(&format!("vec, {n} thr"), n, move |_, _| {
            vec_op(1 << 10, w);
        }));
    }
    table(
        "system: 1 KiB get + write all + drop, per-thread time, one shared pool",
        &mut threads,
        50_000,
        "mempool, 1 thr",
    );

    let mixes: Vec<SizeMix> = (1..=2).map(SizeMix::kafka).collect();
    let mut kafka = Vec::new();
    for n in [1, 2] {
        let (pool, zero, mixes) = (&pool, &zero, &mixes);
        kafka.push(threaded(&format!("mempool, {n} thr"), n, move |t, i| {
            mempool_op(pool, mixes[t].size(i as usize), w);
        }));
        kafka.push(threaded(&format!("zeropool, {n} thr"), n, move |t, i| {
            zeropool_op(zero, mixes[t].size(i as usize), w);
        }));
        kafka.push(threaded(&format!("vec, {n} thr"), n, move |t, i| {
            vec_op(mixes[t].size(i as usize), w);
        }));
    }
    table(
        "system: Kafka-like mix, get + write all + drop, per-thread time",
        &mut kafka,
        20_000,
        "mempool, 1 thr",
    );
    black_box(&pool);
}
