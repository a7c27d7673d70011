//! Single-thread get/workload/drop for every bucket size and the oversized
//! path: mempool against `vec![0u8; n]` on the system allocator, with the
//! floor rows in the same groups. See `docs/benchmarks.md`.
// `criterion_group!` generates a public function that cannot carry a doc comment.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};

fn alloc_system(c: &mut Criterion) {
    mempool_benches::single_thread::bench_allocator(c, "system");
}

criterion_group!(benches, alloc_system);
criterion_main!(benches);
