//! Once warm, a get/drop cycle makes zero heap allocations: the Rust form of
//! the Go seed's "GC pressure" test. This file owns its test binary's global
//! allocator, which counts every allocation made by the thread under test
//! (`mempool_test_support::CountingAlloc`).

use std::time::Duration;

use mempool::BufferPool;

use mempool_test_support::{CountingAlloc, allocations_in as allocations_during};

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

/// A size from every bucket, and the sizes around the boundaries.
const SIZES: [usize; 12] = [
    0,
    1,
    512,
    513,
    1000,
    4096,
    10_000,
    65_536,
    100_000,
    1 << 20,
    3 << 20,
    16 << 20,
];

#[test]
fn counting_allocator_counts() {
    // Guards against a test that cannot fail: the counter sees a real allocation.
    assert_eq!(
        allocations_during(|| drop(std::hint::black_box(vec![1u8; 10]))),
        1
    );
    // And a cold pool allocates its buffers.
    let pool = BufferPool::new();
    assert!(allocations_during(|| drop(pool.get(100))) >= 1);
}

#[test]
fn warm_get_drop_cycles_allocate_nothing() {
    let pool = BufferPool::new();
    // Warm up: one buffer per bucket, plus this thread's cache entry.
    for &size in &SIZES {
        drop(pool.get(size));
    }
    let allocations = allocations_during(|| {
        for round in 0..1000 {
            for &size in &SIZES {
                let mut buf = pool.get(size);
                if round % 2 == 0 {
                    buf[..size.min(64)].fill(1); // written guards take the zeroing path
                }
                std::hint::black_box(&buf);
            }
        }
    });
    assert_eq!(allocations, 0);
    assert_eq!(
        pool.stats().allocations,
        SIZES.len() as u64 - 3,
        "one per bucket used"
    );
}

#[test]
fn warm_global_pool_allocates_nothing() {
    drop(mempool::get_buffer(2000));
    let allocations = allocations_during(|| {
        for _ in 0..10_000 {
            let mut buf = mempool::get_buffer(2000);
            buf[0] = 1;
            std::hint::black_box(&buf);
        }
    });
    assert_eq!(allocations, 0);
}

#[test]
fn warm_nested_guards_allocate_nothing() {
    // Holding several guards of one bucket at once, up to the thread cache size.
    let pool = BufferPool::new();
    drop((0..8).map(|_| pool.get(1024)).collect::<Vec<_>>());
    let mut held = Vec::with_capacity(8);
    let allocations = allocations_during(|| {
        for _ in 0..1000 {
            held.extend((0..8).map(|_| pool.get(1024)));
            held.clear();
        }
    });
    assert_eq!(allocations, 0);
}

#[test]
fn warm_budgeted_gets_and_drops_allocate_nothing() {
    let pool = BufferPool::builder()
        .bucket_sizes([512, 4096])
        .memory_budget(1 << 20)
        .build()
        .unwrap();
    // Warm up with the same pattern: the thread cache, its counters, and
    // every buffer the loop holds at once.
    let round = || {
        let a = pool.get(100);
        let b = pool.try_get(4000).unwrap();
        let c = pool.get_timeout(300, Duration::from_secs(1)).unwrap();
        drop((a, b, c));
    };
    round();
    assert_eq!(allocations_during(|| (0..1000).for_each(|_| round())), 0);
    assert_eq!(pool.stats().budget.unwrap().in_use, 0);
}
