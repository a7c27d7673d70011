//! Single-thread get/write/drop on mempool and on the pools a Rust user would
//! pick instead (zeropool, opool, object-pool, byte-pool), against
//! `vec![0u8; n]` and the floor, in one group per workload.
// `criterion_group!` generates a public function that cannot carry a doc comment.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mempool::BufferPool;
use mempool_benches::floor::Scratch;
use mempool_benches::peers::{
    byte_pool_op, mempool_op, object_pool_for, object_pool_op, opool_for, opool_op, vec_op,
    zeropool_op,
};
use mempool_benches::workload::Workload;

/// 1 KiB, 64 KiB and 1 MiB: the sizes of the targets and of `peers.md`.
const SIZES: [usize; 3] = [1 << 10, 64 << 10, 1 << 20];

fn peers(c: &mut Criterion) {
    let pool = BufferPool::new();
    let zero = zeropool::ZeroPool::new();
    let bytes = byte_pool::BytePool::<Vec<u8>>::new();
    for workload in [Workload::WriteAll, Workload::Untouched] {
        let mut group = c.benchmark_group(format!("peers/{}", workload.name()));
        for size in SIZES {
            group.throughput(Throughput::Bytes(size as u64));
            let written = workload.written(size);
            let mut scratch = Scratch::new(size);
            if written > 0 {
                group.bench_function(BenchmarkId::new("floor", size), |b| {
                    b.iter(|| scratch.write_then_zero(written));
                });
                group.bench_function(BenchmarkId::new("memset", size), |b| {
                    b.iter(|| scratch.memset(written));
                });
            }
            group.bench_function(BenchmarkId::new("mempool", size), |b| {
                b.iter(|| mempool_op(&pool, size, workload));
            });
            group.bench_function(BenchmarkId::new("vec", size), |b| {
                b.iter(|| vec_op(size, workload));
            });
            group.bench_function(BenchmarkId::new("zeropool", size), |b| {
                b.iter(|| zeropool_op(&zero, size, workload));
            });
            let opool = opool_for(size);
            group.bench_function(BenchmarkId::new("opool", size), |b| {
                b.iter(|| opool_op(&opool, workload));
            });
            let object = object_pool_for(size);
            group.bench_function(BenchmarkId::new("object_pool", size), |b| {
                b.iter(|| object_pool_op(&object, size, workload));
            });
            group.bench_function(BenchmarkId::new("byte_pool", size), |b| {
                b.iter(|| byte_pool_op(&bytes, size, workload));
            });
        }
        group.finish();
    }
}

criterion_group!(benches, peers);
criterion_main!(benches);
