//! The core pool: the Go seed's suite ported, plus boundaries, retention,
//! zeroing, panics and thread exit.

use std::sync::{Arc, Barrier};
use std::thread;

use mempool::{BufferPool, BuildError, DEFAULT_BUCKET_SIZES, MAX_IDLE_PER_BUCKET, PoolError};
use mempool_test_support::assert_identities_at_rest as assert_identities;

// --- smoke: the Go seed's tests -------------------------------------------------

#[test]
fn every_bucket_round_trips_and_comes_back_zeroed() {
    let pool = BufferPool::new();
    for &size in &DEFAULT_BUCKET_SIZES {
        let mut buf = pool.get(size);
        assert_eq!((buf.len(), buf.capacity()), (size, size));
        assert!(buf.iter().all(|&b| b == 0), "fresh {size} not zeroed");
        buf.fill(0xA5);
        drop(buf);

        let again = pool.get(size);
        assert_eq!(again.len(), size);
        assert!(again.iter().all(|&b| b == 0), "reused {size} not zeroed");
    }
    let stats = pool.stats();
    assert_eq!(stats.hits, DEFAULT_BUCKET_SIZES.len() as u64);
    assert_eq!(stats.allocations, DEFAULT_BUCKET_SIZES.len() as u64);
}

#[test]
fn thirty_two_mib_is_oversized_and_never_pooled() {
    let pool = BufferPool::new();
    let mut buf = pool.get(32 << 20);
    assert!(buf.is_oversized());
    assert_eq!((buf.len(), buf.capacity()), (32 << 20, 32 << 20));
    buf[(32 << 20) - 1] = 1;
    drop(buf);
    let stats = pool.stats();
    assert_eq!((stats.oversized, stats.allocations, stats.puts), (1, 1, 1));
    assert_eq!((stats.bytes_retained, stats.bytes_in_use), (0, 0));
    // A second one allocates again.
    drop(pool.get(32 << 20));
    assert_eq!(pool.stats().allocations, 2);
    assert_identities(&pool.stats());
}

#[test]
fn global_pool_works() {
    let before = mempool::stats();
    let mut buf = mempool::get_buffer(3000);
    assert_eq!((buf.len(), buf.capacity()), (3000, 4096));
    buf[0] = 42;
    let buf = thread::spawn(move || buf).join().unwrap(); // 'static: moves freely
    assert_eq!(buf[0], 42);
    drop(buf);
    let after = mempool::stats();
    assert!(after.gets > before.gets && after.puts > before.puts);
    assert!(std::ptr::eq(mempool::global(), mempool::global()));
    assert!(mempool::try_get_buffer(usize::MAX).is_err());
}

#[test]
fn hundred_threads_thousand_iterations_stay_consistent() {
    let pool = Arc::new(BufferPool::new());
    let threads = 100;
    let iterations = 1000;
    let sizes = [0, 100, 512, 513, 1500, 4096, 10_000, 65_536, 200_000];
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let pool = Arc::clone(&pool);
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                for i in 0..iterations {
                    let size = sizes[(t + i) % sizes.len()];
                    let mut buf = pool.get(size);
                    assert!(buf.iter().all(|&b| b == 0));
                    buf.fill(t as u8 | 1);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let stats = pool.stats();
    assert_eq!(stats.gets, (threads * iterations) as u64);
    assert_eq!(stats.puts, stats.gets);
    assert_eq!((stats.in_use, stats.bytes_in_use), (0, 0));
    assert_identities(&stats);
}

// --- boundaries -------------------------------------------------------------------

#[test]
fn boundary_sizes_pick_the_right_bucket() {
    let pool = BufferPool::new();
    for (index, &size) in DEFAULT_BUCKET_SIZES.iter().enumerate() {
        assert_eq!(pool.get(size).capacity(), size, "n = {size}");
        let above = pool.get(size + 1);
        match DEFAULT_BUCKET_SIZES.get(index + 1) {
            Some(&next) => assert_eq!(above.capacity(), next, "n+1 = {}", size + 1),
            None => assert!(above.is_oversized() && above.capacity() == size + 1),
        }
    }
}

#[test]
fn size_zero_is_an_empty_guard() {
    let pool = BufferPool::new();
    let buf = pool.get(0);
    assert!(buf.is_empty());
    assert_eq!(&buf[..], &[] as &[u8]);
    assert_eq!(buf.capacity(), 512);
    drop(buf);
    assert_eq!(pool.stats().in_use, 0);
}

#[test]
fn absurd_sizes_are_typed_errors() {
    let pool = BufferPool::new();
    for size in [usize::MAX, isize::MAX as usize, (1 << 30) + 1] {
        assert_eq!(
            pool.try_get(size).unwrap_err(),
            PoolError::TooLarge {
                requested: size,
                max: 1 << 30
            }
        );
    }
    let error = mempool::try_get_buffer(usize::MAX).unwrap_err();
    let io: std::io::Error = error.clone().into();
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains(&usize::MAX.to_string()));
    assert_eq!(
        pool.stats(),
        BufferPool::new().stats(),
        "a failed get counts nothing"
    );
}

#[test]
fn failed_allocation_is_a_typed_error() {
    // A max buffer size the allocator cannot satisfy: the request passes the
    // size check and fails in the allocator.
    let pool = BufferPool::builder()
        .max_buffer_size(isize::MAX as usize - 4096)
        .build()
        .unwrap();
    let size = isize::MAX as usize - 8192;
    assert_eq!(
        pool.try_get(size).unwrap_err(),
        PoolError::AllocFailed { size }
    );
    assert_eq!(pool.stats().gets, 0);
}

#[test]
#[should_panic(expected = "above the pool's maximum buffer size")]
fn get_panics_above_the_maximum() {
    let _ = BufferPool::new().get(usize::MAX);
}

// --- zeroing ----------------------------------------------------------------------

/// The public API can show that written bytes are zeroed, hidden or not, but
/// not that nothing more is: zeroed bytes look like untouched ones. The other
/// half of the name is checked where it can be seen, by the unit tests
/// `pooled_buf::tests::only_mutable_access_marks_bytes_dirty` (a guard that
/// was only read asks for no zeroing; a written one for `[0, written)`) and
/// `shared::tests::scrub_clears_exactly_the_dirty_prefix` (a put zeroes that
/// prefix and not one byte more).
#[test]
fn only_written_bytes_are_zeroed_and_read_only_guards_are_not() {
    let pool = BufferPool::builder().thread_cache_bytes(0).build().unwrap();
    let mut buf = pool.get(10);
    buf.fill(0xFF);
    buf.truncate(2); // hidden bytes that were written must still be zeroed
    drop(buf);
    let buf = pool.get(512);
    assert!(buf.iter().all(|&b| b == 0));
}

#[test]
fn zeroing_off_hands_back_stale_bytes() {
    let pool = BufferPool::builder().zero_on_drop(false).build().unwrap();
    assert!(!pool.zeroes_on_drop());
    let mut buf = pool.get(100);
    buf.fill(7);
    drop(buf);
    let buf = pool.get(100);
    assert!(
        buf.iter().all(|&b| b == 7),
        "documented risk: stale data is visible"
    );
}

#[test]
fn small_buffers_are_cache_line_aligned() {
    let pool = BufferPool::new();
    for size in [1, 512, 1000, 5000, 16_000] {
        assert_eq!(pool.get(size).as_ptr() as usize % 64, 0, "size {size}");
    }
    // From 64 KiB up, 16 bytes: what lets the allocator use calloc's fresh pages.
    for size in [64 << 10, 1 << 20, 20 << 20] {
        assert_eq!(pool.get(size).as_ptr() as usize % 16, 0, "size {size}");
    }
}

// --- retention bound --------------------------------------------------------------

#[test]
fn full_buckets_discard_and_count_it() {
    let pool = BufferPool::builder()
        .bucket_sizes([1024])
        .max_idle_per_bucket(3)
        .build()
        .unwrap();
    let held: Vec<_> = (0..10).map(|_| pool.get(1000)).collect();
    drop(held);
    let stats = pool.stats();
    assert_eq!(
        (stats.allocations, stats.puts, stats.discarded),
        (10, 10, 7)
    );
    assert_eq!(stats.buckets[0].idle, 3);
    assert_eq!(stats.bytes_retained, 3 * 1024);
    assert_identities(&stats);
}

#[test]
fn retained_bytes_derive_the_bound_per_bucket() {
    let pool = BufferPool::builder()
        .retained_bytes_per_bucket(1 << 20)
        .build()
        .unwrap();
    let bounds: Vec<_> = pool.stats().buckets.iter().map(|b| b.max_idle).collect();
    assert_eq!(bounds, [2048, 1024, 256, 64, 16, 4, 1, 0, 0]);
    // The 16 MiB bucket keeps nothing: its buffer is freed on return.
    drop(pool.get(16 << 20));
    assert_eq!(pool.stats().discarded, 1);
}

#[test]
fn thread_caches_never_exceed_the_bound() {
    let pool = Arc::new(
        BufferPool::builder()
            .bucket_sizes([4096])
            .max_idle_per_bucket(4)
            .build()
            .unwrap(),
    );
    let start = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (pool, start) = (Arc::clone(&pool), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                for round in 0..200 {
                    let held: Vec<_> = (0..round % 6).map(|_| pool.get(4000)).collect();
                    drop(held);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    // Exact once the threads are gone (a snapshot taken while they run reads
    // each thread's counters at a different moment, so it can be off by the
    // operations in flight; `pool.rs`'s unit tests check the permits under
    // concurrency). The exited threads handed their caches to the queue.
    let stats = pool.stats();
    assert_eq!(stats.buckets[0].idle, 4, "{stats:?}");
    assert_identities(&stats);
}

#[test]
fn exited_threads_hand_their_cache_back() {
    let pool = Arc::new(BufferPool::new());
    let worker = Arc::clone(&pool);
    thread::spawn(move || drop(worker.get(100))).join().unwrap();
    // The worker's cached buffer went to the shared queue on exit: a hit here.
    drop(pool.get(100));
    let stats = pool.stats();
    assert_eq!((stats.allocations, stats.hits), (1, 1));
    assert_identities(&stats);
}

#[test]
fn buffers_dropped_on_another_thread_return_to_the_pool() {
    let pool = BufferPool::new();
    let (tx, rx) = std::sync::mpsc::sync_channel::<mempool::PooledBuf<'_>>(16);
    thread::scope(|scope| {
        scope.spawn(move || {
            for buf in rx {
                assert!(buf.iter().all(|&b| b == 1));
            }
        });
        for _ in 0..1000 {
            let mut buf = pool.get(2000);
            assert!(buf.iter().all(|&b| b == 0));
            buf.fill(1);
            tx.send(buf).unwrap();
        }
        drop(tx);
    });
    let stats = pool.stats();
    assert_eq!((stats.gets, stats.puts, stats.in_use), (1000, 1000, 0));
    assert!(
        stats.hits > 900,
        "consumer returns must be reused: {stats:?}"
    );
    assert_identities(&stats);
}

// --- trim -------------------------------------------------------------------------

#[test]
fn trim_frees_idle_buffers_and_reports_bytes() {
    let pool = BufferPool::new();
    let held: Vec<_> = [100, 100, 2000, 70_000]
        .iter()
        .map(|&n| pool.get(n))
        .collect();
    drop(held);
    let retained = pool.stats().bytes_retained;
    assert_eq!(retained, 2 * 512 + 4096 + 256 * 1024);
    assert_eq!(pool.trim(), retained);
    let stats = pool.stats();
    assert_eq!((stats.bytes_retained, stats.trimmed), (0, 4));
    assert_identities(&stats);
    assert_eq!(pool.trim(), 0);
}

#[test]
fn trim_reaches_other_threads_caches_at_their_next_use() {
    let pool = Arc::new(BufferPool::new());
    let (go, wait) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
    let worker = {
        let (pool, go, wait) = (Arc::clone(&pool), Arc::clone(&go), Arc::clone(&wait));
        thread::spawn(move || {
            drop(pool.get(100)); // cached in this thread
            go.wait();
            wait.wait(); // main trims meanwhile
            drop(pool.get(5000)); // next use: the 512 B buffer is flushed
        })
    };
    go.wait();
    assert_eq!(pool.trim(), 0, "the worker's cache is not ours to free");
    wait.wait();
    worker.join().unwrap();
    let stats = pool.stats();
    assert_eq!(stats.bucket(512).unwrap().idle, 0, "{stats:?}");
    assert_eq!(stats.trimmed, 1);
    assert_identities(&stats);
}

// --- panics -----------------------------------------------------------------------

#[test]
fn a_panic_while_a_guard_is_held_loses_nothing() {
    let pool = BufferPool::new();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut buf = pool.get(1000);
        buf.fill(9);
        panic!("handler failed");
    }));
    assert!(result.is_err());
    let stats = pool.stats();
    assert_eq!((stats.in_use, stats.puts), (0, 1));
    let buf = pool.get(1000);
    assert!(
        buf.iter().all(|&b| b == 0),
        "the unwound buffer came back zeroed"
    );
    assert_eq!(pool.stats().hits, 1);
}

// --- builder ----------------------------------------------------------------------

#[test]
fn builder_rejects_bad_configurations() {
    use mempool::BuildError::*;
    let build = |sizes: &[usize]| BufferPool::builder().bucket_sizes(sizes.to_vec()).build();
    assert_eq!(build(&[]).unwrap_err(), NoBuckets);
    assert_eq!(build(&[0, 10]).unwrap_err(), ZeroBucket);
    assert_eq!(
        build(&[10, 10]).unwrap_err(),
        BucketsNotAscending {
            smaller: 10,
            larger: 10
        }
    );
    assert_eq!(
        build(&vec![1; 65]).unwrap_err(),
        TooManyBuckets { count: 65, max: 64 }
    );
    let error = BufferPool::builder()
        .max_buffer_size(1000)
        .build()
        .unwrap_err();
    assert_eq!(
        error,
        BucketAboveMax {
            bucket: 16 << 20,
            max: 1000
        }
    );
    let error = BufferPool::builder()
        .max_buffer_size(usize::MAX)
        .build()
        .unwrap_err();
    assert_eq!(error, SizeOverflow { size: usize::MAX });
}

#[test]
fn pools_are_send_sync_and_guards_debug() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<BufferPool>();
    assert_send_sync::<mempool::PooledBuf<'static>>();
    let pool = BufferPool::new();
    let debug = format!("{:?}", pool.get(10));
    assert_eq!(
        debug,
        "PooledBuf { len: 10, capacity: 512, oversized: false }"
    );
}

// --- thread teardown ----------------------------------------------------------------

#[test]
fn gets_and_drops_during_thread_teardown_take_the_shared_path() {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    static POOL: std::sync::OnceLock<BufferPool> = std::sync::OnceLock::new();
    /// Addresses of the two buffers the thread cached, oldest first, and of
    /// the buffer the teardown get received.
    static CACHED: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];
    static AT_TEARDOWN: AtomicUsize = AtomicUsize::new(0);
    let pool = POOL.get_or_init(BufferPool::new);

    struct UsesPoolOnExit;
    impl Drop for UsesPoolOnExit {
        fn drop(&mut self) {
            // Runs after the pool's thread cache was destroyed (destructors run
            // in reverse order of registration), so this must not panic.
            let mut buf = POOL.get().unwrap().get(100);
            AT_TEARDOWN.store(buf.as_ptr() as usize, SeqCst);
            buf.fill(3);
        }
    }
    thread_local!(static ON_EXIT: UsesPoolOnExit = const { UsesPoolOnExit });

    thread::spawn(|| {
        ON_EXIT.with(|_| {}); // registered first, destroyed last
        let pool = POOL.get().unwrap();
        // Registers the pool's cache, which then holds both buffers: `a`
        // below `b`, since a thread's stack is LIFO.
        let (a, b) = (pool.get(100), pool.get(100));
        CACHED[0].store(a.as_ptr() as usize, SeqCst);
        CACHED[1].store(b.as_ptr() as usize, SeqCst);
        drop(a);
        drop(b);
    })
    .join()
    .unwrap();

    // Which path the teardown get took shows in which buffer it received:
    // through the thread cache it would pop `b`, the newest; after the cache
    // was destroyed, which hands `a` then `b` to the shared FIFO queue, the
    // shared path pops `a`.
    let teardown = AT_TEARDOWN.load(SeqCst);
    assert_ne!(teardown, 0, "the thread-local destructor did not run");
    assert_eq!(
        teardown,
        CACHED[0].load(SeqCst),
        "took the thread cache's path"
    );
    let stats = pool.stats();
    assert_eq!((stats.gets, stats.puts, stats.in_use), (3, 3, 0));
    assert_identities(&stats);
    let buf = pool.get(100);
    assert!(buf.iter().all(|&b| b == 0));
}

/// An idle bound no queue can hold is a `BuildError`, not an abort (it used
/// to die allocating an 864 PB queue); the largest supported bound builds.
#[test]
fn an_absurd_idle_bound_is_a_build_error() {
    for count in [usize::MAX, 1 << 22, MAX_IDLE_PER_BUCKET + 1] {
        let error = BufferPool::builder()
            .retained_bytes_per_bucket(usize::MAX)
            .max_idle_per_bucket(count)
            .build()
            .unwrap_err();
        assert_eq!(
            error,
            BuildError::TooManyIdle {
                bucket: 512,
                count: count.min(usize::MAX / 512),
                max: MAX_IDLE_PER_BUCKET
            }
        );
        assert!(error.to_string().contains("max_idle_per_bucket"), "{error}");
    }
    // Without a count cap, the default 32 MiB per bucket is 65,536 of 512 B.
    let pool = BufferPool::builder()
        .max_idle_per_bucket(usize::MAX)
        .build()
        .unwrap();
    assert_eq!(pool.stats().buckets[0].max_idle, MAX_IDLE_PER_BUCKET);
    let pool = BufferPool::builder()
        .retained_bytes_per_bucket(usize::MAX)
        .max_idle_per_bucket(MAX_IDLE_PER_BUCKET)
        .build()
        .unwrap();
    assert_eq!(pool.stats().buckets[8].max_idle, MAX_IDLE_PER_BUCKET);
}
