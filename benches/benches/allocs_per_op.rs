//! Counts heap allocations per operation, in steady state, for every workload
//! the timing benches run: each row warms up, then runs a fixed number of
//! operations under a counting global allocator.
//!
//! Prints a table and exits with status 1 if a mempool row that should be
//! allocation-free (everything but the oversized path) allocated.
//!
//! `cargo bench -p mempool-benches --bench allocs_per_op`

use std::sync::Barrier;

use mempool::BufferPool;
use mempool_benches::mix::SizeMix;
use mempool_benches::peers::{
    byte_pool_op, freeze_op, global_op, mempool_op, object_pool_for, object_pool_op, opool_for,
    opool_op, vec_op, zeropool_op,
};
use mempool_benches::workload::{Workload, touch};
use mempool_benches::{OVERSIZED, SIZES, is_large};
use mempool_test_support::{AllocCount, CountingAlloc, process_alloc_count as alloc_count};

/// Warm-up of the producer/consumer row. Its pool needs as many buffers as
/// were ever in flight at once (queue, consumer's cache, producer), and
/// scheduling on a busy machine sets a new maximum rarely but late, so it
/// warms up for longer than the other rows.
const WARMUP_HANDOFF: u64 = 200_000;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// One line of the table.
struct Row {
    name: String,
    ops: u64,
    counted: AllocCount,
    /// Whether this row must make no allocation.
    must_be_zero: bool,
}

/// Runs `op` `ops` times after as many warm-up runs, counting only the second half.
fn count(ops: u64, mut op: impl FnMut(u64)) -> (u64, AllocCount) {
    (0..ops).for_each(&mut op);
    let before = alloc_count();
    (ops..2 * ops).for_each(&mut op);
    (ops, alloc_count().since(before))
}

/// Runs `work(thread, from, ops)` on two threads, `warmup` operations each
/// and then `ops` each; counts only the second part, fenced by barriers.
fn count_two_threads(
    warmup: u64,
    ops: u64,
    work: impl Fn(usize, u64, u64) + Sync,
) -> (u64, AllocCount) {
    let barrier = Barrier::new(2);
    let mut counted = AllocCount::default();
    std::thread::scope(|scope| {
        let other = scope.spawn(|| {
            work(1, 0, warmup);
            barrier.wait();
            barrier.wait();
            work(1, warmup, ops);
            barrier.wait();
            barrier.wait();
        });
        work(0, 0, warmup);
        barrier.wait();
        let before = alloc_count();
        barrier.wait();
        work(0, warmup, ops);
        barrier.wait();
        counted = alloc_count().since(before);
        barrier.wait();
        other.join().expect("worker panicked");
    });
    (2 * ops, counted)
}

fn main() {
    let mut rows = Vec::new();
    let mut push = |name: String, (ops, counted): (u64, AllocCount), must_be_zero: bool| {
        rows.push(Row {
            name,
            ops,
            counted,
            must_be_zero,
        });
    };

    let pool = BufferPool::new();
    for workload in Workload::ALL {
        for size in SIZES {
            let ops = if is_large(size) { 20 } else { 2000 };
            let name = format!("{}/{}", workload.name(), size);
            push(
                format!("mempool {name}"),
                count(ops, |_| mempool_op(&pool, size, workload)),
                size != OVERSIZED,
            );
            push(
                format!("vec {name}"),
                count(ops, |_| vec_op(size, workload)),
                false,
            );
        }
    }

    for size in [1 << 10, 64 << 10] {
        push(
            format!("mempool get_buffer write_all/{size}"),
            count(2000, |_| global_op(size, Workload::WriteAll)),
            true,
        );
        push(
            format!("mempool get_buffer + freeze write_all/{size}"),
            count(2000, |_| freeze_op(size, Workload::WriteAll)),
            false,
        );
    }

    let zero = zeropool::ZeroPool::new();
    let bytes = byte_pool::BytePool::<Vec<u8>>::new();
    let w = Workload::WriteAll;
    for size in [1 << 10, 64 << 10, 1 << 20] {
        let opool = opool_for(size);
        let object = object_pool_for(size);
        push(
            format!("zeropool write_all/{size}"),
            count(2000, |_| zeropool_op(&zero, size, w)),
            false,
        );
        push(
            format!("opool write_all/{size}"),
            count(2000, |_| opool_op(&opool, w)),
            false,
        );
        push(
            format!("object_pool write_all/{size}"),
            count(2000, |_| object_pool_op(&object, size, w)),
            false,
        );
        push(
            format!("byte_pool write_all/{size}"),
            count(2000, |_| byte_pool_op(&bytes, size, w)),
            false,
        );
    }

    let mixes = [SizeMix::kafka(1), SizeMix::kafka(2)];
    push(
        "mempool kafka_mix, 2 threads".into(),
        count_two_threads(20_000, 20_000, |t, from, ops| {
            for i in from..from + ops {
                mempool_op(&pool, mixes[t].size(i as usize), w);
            }
        }),
        true,
    );
    push(
        "zeropool kafka_mix, 2 threads".into(),
        count_two_threads(20_000, 20_000, |t, from, ops| {
            for i in from..from + ops {
                zeropool_op(&zero, mixes[t].size(i as usize), w);
            }
        }),
        false,
    );
    push(
        "vec kafka_mix, 2 threads".into(),
        count_two_threads(20_000, 20_000, |t, from, ops| {
            for i in from..from + ops {
                vec_op(mixes[t].size(i as usize), w);
            }
        }),
        false,
    );

    // Producer/consumer: thread 0 gets and writes, thread 1 drops.
    let queue = crossbeam_queue::ArrayQueue::new(64);
    push(
        "mempool producer/consumer kafka_mix".into(),
        count_two_threads(WARMUP_HANDOFF, 20_000, |t, _, ops| {
            for i in 0..ops {
                if t == 0 {
                    let mut buf = pool.get(mixes[0].size(i as usize));
                    touch(&mut buf, w);
                    let mut item = buf;
                    while let Err(back) = queue.push(item) {
                        item = back;
                        std::thread::yield_now();
                    }
                } else {
                    while queue.pop().is_none() {
                        std::thread::yield_now();
                    }
                }
            }
        }),
        false,
    );
    // Those rows allocate only when the number of buffers in flight at once
    // reaches a new maximum (a pool miss, counted in `stats().misses`; no
    // buffer is discarded). Scheduling on a busy machine can set one late.
    let handoff = rows.last().expect("row just pushed");
    let handoff_misses = handoff.counted.allocations;
    let handoff_ok = handoff_misses * 10_000 <= handoff.ops;

    println!("| row | ops | allocations | allocations per op | bytes allocated per op |");
    println!("|---|---|---|---|---|");
    let mut failed = Vec::new();
    for row in &rows {
        let per_op = row.counted.allocations as f64 / row.ops as f64;
        let bytes_per_op = row.counted.bytes as f64 / row.ops as f64;
        println!(
            "| {} | {} | {} | {per_op:.3} | {bytes_per_op:.0} |",
            row.name, row.ops, row.counted.allocations
        );
        if row.must_be_zero && row.counted.allocations > 0 {
            failed.push(row.name.as_str());
        }
    }
    if !handoff_ok {
        failed.push("mempool producer/consumer kafka_mix (more than 1 in 10,000)");
    }
    if !failed.is_empty() {
        eprintln!("allocations in steady state: {failed:?}");
        std::process::exit(1);
    }
}
