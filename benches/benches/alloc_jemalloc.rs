//! Single-thread get/workload/drop for every bucket size and the oversized
//! path: mempool against `vec![0u8; n]` on the jemalloc allocator, with the
//! floor rows in the same groups. See `docs/benchmarks.md`.
// `criterion_group!` generates a public function that cannot carry a doc comment.
// With `-- --interleaved`, prints the tables of `mempool_benches::interleaved`.
#![allow(missing_docs)]

/// jemalloc as the global allocator, for this binary only.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use criterion::{Criterion, criterion_group};

fn alloc_jemalloc(c: &mut Criterion) {
    mempool_benches::single_thread::bench_allocator(c, "jemalloc");
}

criterion_group!(benches, alloc_jemalloc);

fn main() {
    // `-- --interleaved` prints the same-moment ratio tables instead.
    if std::env::args().any(|arg| arg == "--interleaved") {
        mempool_benches::interleaved::run("jemalloc");
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
