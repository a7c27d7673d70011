//! What observability costs a warm get/drop of a 1 KiB buffer: leak tracking
//! off and on, and a `Reporter` publishing every millisecond (build with
//! `--features metrics`; without it, the `metrics` feature is off).
//!
//! ```text
//! cargo bench -p mempool-benches --bench observability
//! cargo bench -p mempool-benches --bench observability --features metrics
//! ```
// `criterion_group!` generates a public function that cannot carry a doc comment.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mempool::BufferPool;

fn get_drop(pool: &BufferPool) {
    let buf = pool.get(black_box(1000));
    black_box(&buf);
}

fn observability(c: &mut Criterion) {
    let mut group = c.benchmark_group("get_drop_1KiB");
    let plain = BufferPool::new();
    drop(plain.get(1000));
    group.bench_function("plain", |b| b.iter(|| get_drop(&plain)));

    let tracked = BufferPool::builder().track_leaks(true).build().unwrap();
    drop(tracked.get(1000));
    group.bench_function("track_leaks", |b| b.iter(|| get_drop(&tracked)));

    #[cfg(feature = "metrics")]
    {
        use std::{sync::Arc, time::Duration};
        // No recorder is installed, so the handles are no-ops: this measures
        // what the reporter's `stats()` reads do to the getting thread.
        let pool = Arc::new(BufferPool::new());
        drop(pool.get(1000));
        let collector = mempool::MetricsCollector::new(&pool);
        let reporter =
            mempool::Reporter::spawn(collector, Arc::clone(&pool), Duration::from_millis(1))
                .unwrap();
        group.bench_function("reporter_every_1ms", |b| b.iter(|| get_drop(&pool)));
        drop(reporter);
    }
    group.finish();
}

criterion_group!(benches, observability);
criterion_main!(benches);
