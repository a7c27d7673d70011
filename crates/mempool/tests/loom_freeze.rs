//! loom model of the last-drop return of a frozen buffer (`freeze()` into
//! `Bytes`): the KAFKA-19012 invariant, that a pooled buffer is never handed
//! out again while anything still reads it.
//!
//! Run with (see `docs/design.md`, "How the concurrency is verified"):
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p mempool --release --features bytes,async --test loom_freeze`
#![cfg(all(loom, feature = "bytes"))]

use loom::thread;
use mempool::BufferPool;

const SIZE: usize = 64;
const PATTERN: u8 = 0xAB;

/// A frozen buffer's views (the `Bytes`, a clone and a slice) are dropped on
/// two threads while a third thread gets a buffer of the same bucket: the
/// get never receives the frozen buffer while a view is alive, and every
/// view reads the pattern until it drops. Afterwards the buffer is back
/// exactly once: two gets receive two different buffers, both zeroed.
#[test]
fn a_frozen_buffer_returns_once_after_its_last_view() {
    loom::model(|| {
        // `freeze` needs a `PooledBuf<'static>`: the pool is leaked for the
        // execution and freed at its end, once every view has dropped.
        let pool: &'static BufferPool = Box::leak(Box::new(
            BufferPool::builder()
                .bucket_sizes([SIZE])
                .max_idle_per_bucket(2)
                .thread_cache_bytes(0)
                .build()
                .unwrap(),
        ));
        let mut buf = pool.get(SIZE);
        buf.fill(PATTERN);
        let frozen = buf.freeze();
        let base = frozen.as_ptr() as usize;
        let clone = frozen.clone();
        let slice = frozen.slice(1..3);

        let first = thread::spawn(move || {
            assert!(clone.iter().all(|&b| b == PATTERN));
            drop(clone);
            assert!(frozen.iter().all(|&b| b == PATTERN));
            drop(frozen);
        });
        let second = thread::spawn(move || {
            // A racing get: while `slice` lives, it must not be the frozen
            // buffer, and it reads zero.
            let other = pool.get(SIZE);
            assert_ne!(
                other.as_ptr() as usize,
                base,
                "handed out while a view is alive"
            );
            assert!(other.iter().all(|&b| b == 0));
            assert_eq!(&slice[..], [PATTERN; 2]);
            drop(slice);
            drop(other);
        });
        first.join().unwrap();
        second.join().unwrap();

        let (a, b) = (pool.get(SIZE), pool.get(SIZE));
        assert_ne!(a.as_ptr(), b.as_ptr(), "returned twice");
        assert!(a.iter().chain(b.iter()).all(|&b| b == 0));
        drop((a, b));
        assert_eq!(pool.stats().in_use, 0);
        // SAFETY: `pool` came from `Box::leak` above, and every guard, `Bytes`
        // and thread that borrowed it has been dropped or joined.
        drop(unsafe { Box::from_raw(std::ptr::from_ref(pool).cast_mut()) });
    });
}
