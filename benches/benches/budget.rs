//! What a memory budget costs a warm get/drop: the same 4 KiB get and drop on
//! a pool without a budget (the baseline), with an uncontended budget, and
//! with a budget shared by two threads.
// `criterion_group!` generates a public function that cannot carry a doc comment.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use mempool::BufferPool;

fn pool(budget: Option<u64>) -> BufferPool {
    let builder = BufferPool::builder();
    let builder = match budget {
        Some(bytes) => builder.memory_budget(bytes),
        None => builder,
    };
    builder.build().expect("valid configuration")
}

fn get_drop(c: &mut Criterion) {
    let mut group = c.benchmark_group("budget/get_drop_4k");
    let plain = pool(None);
    group.bench_function("no_budget", |b| b.iter(|| drop(black_box(plain.get(4000)))));
    let budgeted = pool(Some(1 << 30));
    group.bench_function("budget_uncontended", |b| {
        b.iter(|| drop(black_box(budgeted.get(4000))))
    });
    group.bench_function("budget_try_get", |b| {
        b.iter(|| drop(black_box(budgeted.try_get(4000))))
    });
    group.bench_function("budget_get_timeout", |b| {
        b.iter(|| {
            drop(black_box(
                budgeted.get_timeout(4000, Duration::from_secs(1)),
            ))
        })
    });
    group.finish();
}

fn contended(c: &mut Criterion) {
    let mut group = c.benchmark_group("budget/get_drop_4k_two_threads");
    for (name, budget) in [("no_budget", None), ("budget", Some(1 << 30))] {
        let pool = pool(budget);
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                std::thread::scope(|scope| {
                    let other = scope.spawn(|| {
                        for _ in 0..iterations {
                            drop(black_box(pool.get(4000)));
                        }
                    });
                    let start = std::time::Instant::now();
                    for _ in 0..iterations {
                        drop(black_box(pool.get(4000)));
                    }
                    let elapsed = start.elapsed();
                    other.join().unwrap();
                    elapsed
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, get_drop, contended);
criterion_main!(benches);
