//! Concurrency: 1, 2 and more threads on one shared pool, each doing
//! get/write/drop; and a producer/consumer pair where buffers are dropped on
//! another thread than the one that got them.
//!
//! Every row reports the per-thread time per operation (`iter_custom`, all
//! threads released by one barrier), so "per-thread throughput" is its
//! inverse and the 1-thread row of the same contender is the baseline.
// `criterion_group!` generates a public function that cannot carry a doc comment.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main};
use mempool::BufferPool;
use mempool_benches::mix::SizeMix;
use mempool_benches::peers::{
    byte_pool_op, mempool_op, object_pool_for, object_pool_op, opool_for, opool_op, vec_op,
    zeropool_op,
};
use mempool_benches::threads::{per_thread_time, producer_consumer};
use mempool_benches::workload::{Workload, touch};

/// 1, 2, the machine's parallelism and 4 (oversubscribed on 2 cores).
fn thread_counts() -> Vec<usize> {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let mut counts = vec![1, 2, cores, 4];
    counts.sort_unstable();
    counts.dedup();
    counts
}

fn kafka_mix(c: &mut Criterion) {
    let pool = BufferPool::new();
    let zero = zeropool::ZeroPool::new();
    let mixes: Vec<SizeMix> = (0..16).map(|seed| SizeMix::kafka(seed + 1)).collect();
    let mut group = c.benchmark_group("threads/kafka_mix");
    for threads in thread_counts() {
        group.bench_function(BenchmarkId::new("mempool", threads), |b| {
            b.iter_custom(|ops| {
                per_thread_time(threads, ops, |t, from, ops| {
                    for i in from..from + ops {
                        mempool_op(&pool, mixes[t].size(i as usize), Workload::WriteAll);
                    }
                })
            });
        });
        group.bench_function(BenchmarkId::new("vec", threads), |b| {
            b.iter_custom(|ops| {
                per_thread_time(threads, ops, |t, from, ops| {
                    for i in from..from + ops {
                        vec_op(mixes[t].size(i as usize), Workload::WriteAll);
                    }
                })
            });
        });
        group.bench_function(BenchmarkId::new("zeropool", threads), |b| {
            b.iter_custom(|ops| {
                per_thread_time(threads, ops, |t, from, ops| {
                    for i in from..from + ops {
                        zeropool_op(&zero, mixes[t].size(i as usize), Workload::WriteAll);
                    }
                })
            });
        });
    }
    group.finish();
}

fn one_kib(c: &mut Criterion) {
    const SIZE: usize = 1 << 10;
    let pool = BufferPool::new();
    let zero = zeropool::ZeroPool::new();
    let opool = opool_for(SIZE);
    let object = object_pool_for(SIZE);
    let bytes = byte_pool::BytePool::<Vec<u8>>::new();
    let w = Workload::WriteAll;
    let mut group = c.benchmark_group("threads/1k_write_all");
    for threads in [1, 2] {
        let g = &mut group;
        one_kib_row(g, "mempool", threads, || mempool_op(&pool, SIZE, w));
        one_kib_row(g, "vec", threads, || vec_op(SIZE, w));
        one_kib_row(g, "zeropool", threads, || zeropool_op(&zero, SIZE, w));
        one_kib_row(g, "opool", threads, || opool_op(&opool, w));
        one_kib_row(g, "object_pool", threads, || {
            object_pool_op(&object, SIZE, w)
        });
        one_kib_row(g, "byte_pool", threads, || byte_pool_op(&bytes, SIZE, w));
    }
    group.finish();
}

fn one_kib_row(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    threads: usize,
    op: impl Fn() + Sync,
) {
    group.bench_function(BenchmarkId::new(name, threads), |b| {
        b.iter_custom(|ops| per_thread_time(threads, ops, |_, _, ops| (0..ops).for_each(|_| op())));
    });
}

fn handoff(c: &mut Criterion) {
    let pool = BufferPool::new();
    let zero = zeropool::ZeroPool::new();
    let mix = SizeMix::kafka(99);
    let mut group = c.benchmark_group("producer_consumer/kafka_mix");
    // The consumer reads one byte, then drops the buffer on its own thread.
    group.bench_function("mempool", |b| {
        b.iter_custom(|ops| {
            producer_consumer(
                ops,
                |i| {
                    let mut buf = pool.get(mix.size(i as usize));
                    touch(&mut buf, Workload::WriteAll);
                    buf
                },
                |buf| {
                    black_box(buf[0]);
                },
            )
        });
    });
    group.bench_function("vec", |b| {
        b.iter_custom(|ops| {
            producer_consumer(
                ops,
                |i| {
                    let mut buf = vec![0u8; mix.size(i as usize)];
                    touch(&mut buf, Workload::WriteAll);
                    buf
                },
                |buf| {
                    black_box(buf[0]);
                },
            )
        });
    });
    group.bench_function("zeropool", |b| {
        b.iter_custom(|ops| {
            producer_consumer(
                ops,
                |i| {
                    let mut buf = zero.alloc(mix.size(i as usize));
                    touch(&mut buf, Workload::WriteAll);
                    buf
                },
                |buf| {
                    black_box(buf[0]);
                },
            )
        });
    });
    group.finish();
}

criterion_group!(benches, kafka_mix, one_kib, handoff);
criterion_main!(benches);
