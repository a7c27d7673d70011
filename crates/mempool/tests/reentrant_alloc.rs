//! A global allocator that calls back into a pool, as a pooling allocator
//! built on mempool would: every allocation and free of this test binary
//! gets and drops a buffer of the global pool first. The pool's own slow
//! paths allocate and free (a thread cache, a miss, a flush, a spill), so
//! the inner call arrives while the thread cache is in use; it must take
//! the shared path, not panic, and leave the counters exact.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct CallsBack;

thread_local! {
    /// Set while this allocator is inside the pool, so that the pool's own
    /// allocations do not recurse without end.
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

fn call_back() {
    // `try_with`: during thread teardown the flag may be gone already.
    let _ = INSIDE.try_with(|inside| {
        if !inside.replace(true) {
            drop(mempool::get_buffer(100));
            inside.set(false);
        }
    });
}

// SAFETY: every method forwards to `System` unchanged; the call into the
// pool before it touches no memory the caller handed over.
unsafe impl GlobalAlloc for CallsBack {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        call_back();
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        call_back();
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        call_back();
        // SAFETY: `ptr` came from `System` with this layout (this allocator
        // hands out nothing else).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CallsBack = CallsBack;

#[test]
fn an_allocator_that_calls_back_into_the_pool_keeps_it_exact() {
    let pool = mempool::global();
    let workers: Vec<_> = (0..3)
        .map(|t| {
            std::thread::spawn(move || {
                for round in 0..300usize {
                    // Misses, spills and frees: the slow paths that allocate.
                    let held: Vec<_> = (0..(round + t) % 40)
                        .map(|i| pool.get(if i % 3 == 0 { 100 } else { 3000 }))
                        .collect();
                    drop(held);
                    if round % 50 == 0 {
                        pool.trim();
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let stats = pool.stats();
    assert_eq!(stats.in_use, 0, "{stats:?}");
    assert_eq!(stats.gets, stats.hits + stats.allocations, "{stats:?}");
    assert!(stats.gets > 3 * 300, "{stats:?}");
    for bucket in &stats.buckets {
        assert!(bucket.idle <= bucket.max_idle as u64, "{bucket:?}");
    }
}
