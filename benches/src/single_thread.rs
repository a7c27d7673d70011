//! The single-thread rows shared by the `alloc_*` bench binaries: for every
//! bucket size and the oversized path, each workload on mempool, on
//! `vec![0u8; n]` with the binary's global allocator, and on the floor, all in
//! one criterion group so every ratio has its baseline in the same run.

use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput, measurement::WallTime};
use mempool::BufferPool;

use crate::floor::Scratch;
use crate::peers::{mempool_op, vec_op};
use crate::workload::Workload;
use crate::{SIZES, is_large};

/// Benches every size and workload under the group prefix `allocator`
/// (`system`, `mimalloc` or `jemalloc`: the binary's global allocator).
///
/// Groups are named `{allocator}/{workload}` for sizes below 4 MiB and
/// `{allocator}/{workload}_large` (10 samples) from 4 MiB up. Rows:
/// * `floor`: write then zero the written bytes of a hot aligned buffer;
/// * `memset`: write the written bytes of a hot aligned buffer once;
/// * `mempool`: `BufferPool::new()` get, workload, drop;
/// * `mempool_nozero`: the same with `zero_on_drop(false)`;
/// * `vec`: `vec![0u8; n]`, workload, drop.
pub fn bench_allocator(c: &mut Criterion, allocator: &str) {
    let pool = BufferPool::new();
    let nozero = BufferPool::builder()
        .zero_on_drop(false)
        .build()
        .expect("valid configuration");
    for workload in Workload::ALL {
        for large in [false, true] {
            let suffix = if large { "_large" } else { "" };
            let mut group = c.benchmark_group(format!("{allocator}/{}{suffix}", workload.name()));
            if large {
                group.sample_size(10);
            }
            for size in SIZES.into_iter().filter(|&size| is_large(size) == large) {
                group.throughput(Throughput::Bytes(size as u64));
                rows(&mut group, &pool, &nozero, size, workload);
            }
            group.finish();
        }
    }
}

fn rows(
    group: &mut BenchmarkGroup<'_, WallTime>,
    pool: &BufferPool,
    nozero: &BufferPool,
    size: usize,
    workload: Workload,
) {
    let written = workload.written(size);
    if written > 0 {
        let mut scratch = Scratch::new(size);
        group.bench_function(BenchmarkId::new("floor", size), |b| {
            b.iter(|| scratch.write_then_zero(written));
        });
        group.bench_function(BenchmarkId::new("memset", size), |b| {
            b.iter(|| scratch.memset(written));
        });
    }
    group.bench_function(BenchmarkId::new("mempool", size), |b| {
        b.iter(|| mempool_op(pool, size, workload));
    });
    if written > 0 {
        group.bench_function(BenchmarkId::new("mempool_nozero", size), |b| {
            b.iter(|| mempool_op(nozero, size, workload));
        });
    }
    group.bench_function(BenchmarkId::new("vec", size), |b| {
        b.iter(|| vec_op(size, workload));
    });
}
