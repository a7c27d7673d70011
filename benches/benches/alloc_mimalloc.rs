//! Single-thread get/workload/drop for every bucket size and the oversized
//! path: mempool against `vec![0u8; n]` on the mimalloc allocator, with the
//! floor rows in the same groups. See `docs/benchmarks.md`.
// `criterion_group!` generates a public function that cannot carry a doc comment.
#![allow(missing_docs)]

/// mimalloc as the global allocator, for this binary only.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, criterion_group, criterion_main};

fn alloc_mimalloc(c: &mut Criterion) {
    mempool_benches::single_thread::bench_allocator(c, "mimalloc");
}

criterion_group!(benches, alloc_mimalloc);
criterion_main!(benches);
