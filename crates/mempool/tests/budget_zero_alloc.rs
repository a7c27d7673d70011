//! With a memory budget, an uncontended get within budget and its drop make
//! no heap allocation, like the unbudgeted path (`zero_alloc.rs`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use mempool::BufferPool;

/// Counts allocations made by the thread that turned counting on.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counters are plain atomics that allocate nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// This file holds one test, so no other test thread allocates while counting.
#[test]
fn a_warm_budgeted_get_and_drop_allocate_nothing() {
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
    COUNTING.store(true, Ordering::SeqCst);
    for _ in 0..1000 {
        round();
    }
    COUNTING.store(false, Ordering::SeqCst);
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst), 0);
    assert_eq!(pool.stats().budget.unwrap().in_use, 0);
}
