//! A global allocator that calls back into a pool, as a pooling allocator
//! built on mempool would: every allocation and free of this test binary
//! gets and drops a buffer of the global pool first. The pool's own slow
//! paths allocate and free (a thread cache, a miss, a flush, a spill), so
//! the inner call arrives while the thread cache is in use; it must take
//! the shared path, not panic, and leave the counters exact.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::{OnceLock, mpsc};
use std::time::Duration;

use mempool::BufferPool;

struct CallsBack;

thread_local! {
    /// Set while this allocator is inside the pool, so that the pool's own
    /// allocations do not recurse without end.
    static INSIDE: Cell<bool> = const { Cell::new(false) };
    /// The pool this thread's allocations call back into: the global one
    /// unless a test sets another.
    static TARGET: Cell<Option<&'static BufferPool>> = const { Cell::new(None) };
}

fn call_back() {
    // `try_with`: during thread teardown the flags may be gone already.
    let _ = INSIDE.try_with(|inside| {
        if !inside.replace(true) {
            let pool = TARGET.try_with(Cell::get).ok().flatten();
            drop(pool.unwrap_or_else(mempool::global).get(100));
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

/// The first put into a bucket's shared queue allocates the queue; the
/// allocator then calls back into the same pool, whose put goes to the same
/// queue while it is being created. That inner push must not wait for the
/// outer one (a lazy cell initialised from inside its own initialisation
/// deadlocks): the test fails after 60 s instead of hanging.
#[test]
fn a_queue_created_while_the_allocator_calls_back_does_not_deadlock() {
    static POOL: OnceLock<BufferPool> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        // No thread cache: every put goes to the shared queue.
        BufferPool::builder()
            .bucket_sizes([512, 4096])
            .thread_cache_bytes(0)
            .build()
            .unwrap()
    });
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        // Allocated while the allocator still calls back into the global
        // pool, so that the queue is not created from inside this get.
        let buf = pool.get(100);
        TARGET.with(|target| target.set(Some(pool)));
        // The first put of bucket 0 creates its queue, and that allocation
        // calls back: a get and a drop of bucket 0 of the same pool, whose
        // put goes to the queue being created.
        drop(buf);
        TARGET.with(|target| target.set(None));
        done.send(pool.stats()).unwrap();
    });
    let stats = finished
        .recv_timeout(Duration::from_secs(60))
        .expect("the first put into a shared queue deadlocked on the call back");
    let bucket = &stats.buckets[0];
    // The outer buffer and the call back's own both ended in the queue
    // (the queue built and dropped by the loser calls back once more, a hit).
    assert_eq!((bucket.in_use, bucket.idle), (0, 2), "{bucket:?}");
    assert_eq!(bucket.gets, bucket.puts, "{bucket:?}");
    assert_eq!(bucket.gets, bucket.hits + bucket.misses, "{bucket:?}");
}
