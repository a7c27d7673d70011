//! Runs one single-thread row a given number of times and exits: the target of
//! `benches/scripts/callgrind.sh`, which counts instructions per operation as
//! a noise-free second opinion on the criterion timings.
//!
//! `run_row --row mempool|vec|zeropool|object_pool|floor --size 1024 --iters 10000`, or
//! `--row mempool_kafka|vec_kafka` for the Kafka-like size mix. `--row global` is the
//! `mempool` row through `mempool::get_buffer`; `--workload untouched` (default
//! `write_all`) gets and drops without writing. `--row harness` is the loop of
//! the untouched rows without the pool, to subtract.

use std::hint::black_box;

use mempool::BufferPool;
use mempool_benches::floor::Scratch;
use mempool_benches::mix::SizeMix;
use mempool_benches::peers::{
    global_op, mempool_op, object_pool_for, object_pool_op, vec_op, zeropool_op,
};
use mempool_benches::workload::Workload;

fn main() {
    // `--thread`: run on a spawned thread, whose stack and thread-locals sit
    // elsewhere than the main thread's (the aliasing check).
    if std::env::args().any(|arg| arg == "--thread") {
        std::thread::spawn(run).join().expect("row panicked");
    } else {
        run();
    }
}

fn run() {
    let value = mempool_benches::flag_value;
    let Some(row) = value("--row") else {
        // `cargo bench` runs every bench binary with `--bench`: nothing to do.
        return;
    };
    let size: usize = value("--size").map_or(1024, |s| s.parse().expect("--size N"));
    let iters: u64 = value("--iters").map_or(10_000, |s| s.parse().expect("--iters N"));
    let w = match value("--workload").as_deref() {
        None | Some("write_all") => Workload::WriteAll,
        Some("untouched") => Workload::Untouched,
        Some(other) => panic!("unknown workload {other}"),
    };
    // `--time`: print the wall time per operation, and where the buffer and
    // this thread's stack sit within a 4 KiB page (the 4 KiB aliasing check
    // of docs/benchmarks.md: run it with environments of different sizes,
    // which move the stack).
    let timed = std::env::args().any(|arg| arg == "--time");
    if timed {
        let probe = 0u8;
        let buf = mempool::get_buffer(size);
        println!(
            "stack%4096={} buf%4096={}",
            std::ptr::from_ref(&probe) as usize % 4096,
            buf.as_ptr() as usize % 4096
        );
    }
    let start = std::time::Instant::now();
    // Every row does one warm-up op first, so fixed costs cancel in the
    // difference between two iteration counts.
    match row.as_str() {
        "mempool" => {
            let pool = BufferPool::new();
            local_loop(&pool, size, iters, w);
        }
        "global" => global_loop(size, iters, w),
        "harness" => harness_loop(size, iters),
        "vec" => (0..iters + 1).for_each(|_| vec_op(size, w)),
        "zeropool" => {
            let pool = zeropool::ZeroPool::new();
            (0..iters + 1).for_each(|_| zeropool_op(&pool, size, w));
        }
        "object_pool" => {
            let pool = object_pool_for(size);
            (0..iters + 1).for_each(|_| object_pool_op(&pool, size, w));
        }
        "floor" => {
            let mut scratch = Scratch::new(size);
            (0..iters + 1).for_each(|_| scratch.write_then_zero(size));
        }
        "mempool_kafka" => {
            let pool = BufferPool::new();
            let mix = SizeMix::kafka(1);
            (0..iters + 1).for_each(|i| mempool_op(&pool, mix.size(i as usize), w));
        }
        "vec_kafka" => {
            let mix = SizeMix::kafka(1);
            (0..iters + 1).for_each(|i| vec_op(mix.size(i as usize), w));
        }
        other => panic!("unknown row {other}"),
    }
    if timed {
        let ns = start.elapsed().as_nanos() as f64 / (iters + 1) as f64;
        println!("{row} {size} B: {ns:.2} ns per op");
    }
}

/// `iters + 1` get+drop on `pool`, with the workload a constant in each
/// loop, so that the loop holds the operation and nothing else. The size
/// goes through `black_box` so that routing is not hoisted out of the loop.
#[inline(never)]
fn local_loop(pool: &BufferPool, size: usize, iters: u64, w: Workload) {
    match w {
        Workload::Untouched => {
            for _ in 0..iters + 1 {
                mempool_op(pool, black_box(size), Workload::Untouched);
            }
        }
        Workload::WriteAll => {
            for _ in 0..iters + 1 {
                mempool_op(pool, black_box(size), Workload::WriteAll);
            }
        }
        Workload::WriteHalf => {
            (0..iters + 1).for_each(|_| mempool_op(pool, black_box(size), Workload::WriteHalf))
        }
    }
}

/// What [`local_loop`] costs around the get and the drop, untouched: the
/// loop, the size through `black_box`, and the slice handed to `black_box`
/// (of a buffer that is not pooled), so that callgrind can subtract it.
#[inline(never)]
fn harness_loop(size: usize, iters: u64) {
    let buf = vec![0u8; size];
    for _ in 0..iters + 1 {
        let size = black_box(size);
        black_box(&buf[..size.min(buf.len())]);
    }
}

/// [`local_loop`] through `mempool::get_buffer`.
#[inline(never)]
fn global_loop(size: usize, iters: u64, w: Workload) {
    match w {
        Workload::Untouched => {
            for _ in 0..iters + 1 {
                global_op(black_box(size), Workload::Untouched);
            }
        }
        Workload::WriteAll => {
            for _ in 0..iters + 1 {
                global_op(black_box(size), Workload::WriteAll);
            }
        }
        Workload::WriteHalf => {
            for _ in 0..iters + 1 {
                global_op(black_box(size), Workload::WriteHalf);
            }
        }
    }
}
