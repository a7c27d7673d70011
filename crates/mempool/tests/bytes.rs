//! `bytes::BufMut` for `PooledBuf` and `PooledBuf::freeze` (feature `bytes`):
//! the `BufMut` contract point by point, zeroing of everything `chunk_mut`
//! exposed, and zero-copy `Bytes` that return the buffer when the last clone
//! drops, on any thread.
#![cfg(feature = "bytes")]

use std::sync::{Barrier, mpsc};
use std::thread;

use bytes::{Buf, BufMut, Bytes};
use mempool::BufferPool;

/// A pool that lives for the whole test binary, so its guards are
/// `PooledBuf<'static>` and can be frozen, with counters of its own. Each one
/// is also kept in a static list, so that it stays reachable (valgrind then
/// does not count it as lost).
fn leaked_pool() -> &'static BufferPool {
    static POOLS: std::sync::Mutex<Vec<&'static BufferPool>> = std::sync::Mutex::new(Vec::new());
    let pool = Box::leak(Box::new(
        BufferPool::builder()
            .bucket_sizes([512, 4096])
            .build()
            .unwrap(),
    ));
    POOLS.lock().unwrap().push(pool);
    pool
}

/// The whole capacity of the next 512-byte buffer `pool` hands out, and its
/// address.
fn next_small_buffer(pool: &BufferPool) -> (usize, Vec<u8>) {
    let buf = pool.get(512);
    (buf.as_ptr() as usize, buf.to_vec())
}

#[test]
fn smoke() {
    let pool = BufferPool::new();
    let mut buf = pool.get_empty(100);
    assert_eq!(buf.remaining_mut(), 512);
    buf.put_u32(0x0102_0304);
    buf.put_u8(5);
    buf.put_i16_le(-2);
    buf.put_slice(b"abc");
    buf.put_bytes(b'z', 2);
    buf.put(&b"tail"[..]);
    buf.put_f32(1.5);
    assert_eq!(
        &buf[..],
        b"\x01\x02\x03\x04\x05\xfe\xffabczztail\x3f\xc0\x00\x00"
    );
    assert_eq!(buf.remaining_mut(), 512 - buf.len());
}

#[test]
fn put_from_a_chained_buf() {
    let pool = BufferPool::new();
    let mut buf = pool.get_empty(10);
    let source = (&b"hello "[..]).chain(&b"world"[..]);
    buf.put(source);
    assert_eq!(&buf[..], b"hello world");
}

#[test]
fn fills_exactly_to_capacity() {
    let pool = BufferPool::new();
    let mut buf = pool.get_empty(512);
    buf.put_bytes(1, 508);
    buf.put_u32(7);
    assert_eq!(buf.remaining_mut(), 0);
    assert!(!buf.has_remaining_mut());
    assert_eq!(buf.chunk_mut().len(), 0, "empty iff remaining_mut is 0");
    assert_eq!(buf.len(), 512);
}

#[test]
#[should_panic(expected = "cannot append 4 bytes to a pooled buffer holding 510 of its 512 bytes")]
fn put_slice_panics_when_it_does_not_fit() {
    let pool = BufferPool::new();
    let mut buf = pool.get_empty(512);
    buf.put_slice(&[0; 510]);
    buf.put_slice(b"abcd");
}

#[test]
#[should_panic(expected = "cannot append 8 bytes")]
fn put_u64_panics_when_it_does_not_fit() {
    let pool = BufferPool::new();
    let mut buf = pool.get_empty(512);
    buf.put_bytes(0, 505);
    buf.put_u64(1);
}

#[test]
#[should_panic(expected = "cannot append 513 bytes")]
fn put_bytes_panics_when_it_does_not_fit() {
    let pool = BufferPool::new();
    let mut buf = pool.get_empty(512);
    buf.put_bytes(9, 513);
}

#[test]
#[should_panic(expected = "cannot append 600 bytes")]
fn put_buf_panics_when_it_does_not_fit() {
    let pool = BufferPool::new();
    let mut buf = pool.get_empty(512);
    buf.put(&[0u8; 600][..]);
}

#[test]
#[should_panic(expected = "advance_mut(13) past the end of a pooled buffer with 12 bytes left")]
fn advance_mut_panics_past_the_end() {
    let pool = BufferPool::new();
    let mut buf = pool.get_empty(512);
    buf.put_bytes(0, 500);
    // SAFETY: deliberately out of contract; the implementation must panic.
    unsafe { buf.advance_mut(13) };
}

#[test]
fn refused_put_writes_nothing() {
    let pool = BufferPool::new();
    let mut buf = pool.get_empty(512);
    buf.put_bytes(1, 510);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        buf.put_slice(b"abc");
    }));
    assert!(outcome.is_err());
    assert_eq!(buf.len(), 510);
}

#[test]
fn chunk_mut_is_the_spare_capacity_and_advance_mut_appends() {
    let pool = BufferPool::new();
    let mut buf = pool.get_empty(512);
    buf.put_slice(b"head");
    let chunk = buf.chunk_mut();
    assert_eq!(chunk.len(), 508, "exactly remaining_mut bytes");
    chunk[..3].copy_from_slice(b"xyz");
    // SAFETY: the 3 bytes were just written through chunk_mut.
    unsafe { buf.advance_mut(3) };
    assert_eq!(&buf[..], b"headxyz");
    // A zero advance is a no-op.
    // SAFETY: advancing by 0 is always within the contract.
    unsafe { buf.advance_mut(0) };
    assert_eq!(buf.len(), 7);
}

#[test]
fn advancing_over_unwritten_bytes_reveals_zeroes() {
    let pool = BufferPool::new();
    let mut buf = pool.get_empty(512);
    // SAFETY: our chunk is always initialised (zero), so advancing without
    // writing exposes initialised bytes; this checks they read as zero.
    unsafe { buf.advance_mut(100) };
    assert_eq!(buf.len(), 100);
    assert!(buf.iter().all(|&b| b == 0));
}

#[test]
fn drop_zeroes_bytes_written_through_chunk_mut_without_advancing() {
    let pool = BufferPool::builder().bucket_sizes([512]).build().unwrap();
    let mut buf = pool.get_empty(512);
    let address = buf.as_ptr() as usize;
    buf.put_slice(b"abc");
    let chunk = buf.chunk_mut();
    let end = chunk.len();
    chunk[end - 1..].copy_from_slice(&[0xEE]); // the very last byte, never advanced over
    drop(buf);

    let (again, contents) = next_small_buffer(&pool);
    assert_eq!(again, address, "the same buffer came back");
    assert!(contents.iter().all(|&b| b == 0));
}

/// The control for the test above: without zeroing, a byte written through
/// `chunk_mut` past `len` survives, so it is the drop that zeroed it.
#[test]
fn without_zero_on_drop_chunk_mut_bytes_survive() {
    let pool = BufferPool::builder()
        .bucket_sizes([512])
        .zero_on_drop(false)
        .build()
        .unwrap();
    let mut buf = pool.get_empty(512);
    let chunk = buf.chunk_mut();
    let end = chunk.len();
    chunk[end - 1..].copy_from_slice(&[0xEE]);
    drop(buf);
    assert_eq!(next_small_buffer(&pool).1[511], 0xEE);
}

#[test]
fn generic_put_through_a_mut_reference_uses_chunk_mut_and_still_zeroes() {
    fn fill<B: BufMut>(mut out: B) {
        out.put(&b"via &mut"[..]);
        out.put_bytes(b'-', 3);
    }
    let pool = BufferPool::builder().bucket_sizes([512]).build().unwrap();
    let mut buf = pool.get_empty(512);
    fill(&mut buf);
    assert_eq!(&buf[..], b"via &mut---");
    drop(buf);
    assert!(next_small_buffer(&pool).1.iter().all(|&b| b == 0));
}

#[test]
fn freeze_is_zero_copy() {
    let pool = leaked_pool();
    let mut buf = pool.get_empty(1000);
    buf.put_slice(b"record batch");
    let address = buf.as_ptr();
    let bytes = buf.freeze();
    assert_eq!(bytes.as_ptr(), address);
    assert_eq!(&bytes[..], b"record batch");
    assert_eq!(bytes.slice(7..).as_ptr(), address.wrapping_add(7));
    assert_eq!(pool.stats().in_use, 1);
    drop(bytes);
    let stats = pool.stats();
    assert_eq!((stats.in_use, stats.puts), (0, 1));
}

#[test]
fn freeze_of_a_fixed_length_buffer_covers_its_length() {
    let pool = leaked_pool();
    let mut buf = pool.get(16);
    buf[15] = 1;
    let bytes = buf.freeze();
    assert_eq!(bytes.len(), 16);
    assert_eq!(bytes[15], 1);
}

#[test]
fn freeze_of_an_empty_buffer_still_returns_it() {
    let pool = leaked_pool();
    let bytes: Bytes = pool.get_empty(10).freeze();
    assert!(bytes.is_empty());
    assert_eq!(pool.stats().in_use, 1);
    drop(bytes);
    assert_eq!(pool.stats().in_use, 0);
}

/// Clones and slices spread over several threads keep the buffer out of the
/// pool until the last one drops; then it is returned once, counted once, and
/// comes back zeroed.
#[test]
fn the_last_clone_on_any_thread_returns_the_buffer_zeroed() {
    const THREADS: usize = 4;
    let pool = leaked_pool();
    let mut buf = pool.get_empty(512);
    let address = buf.as_ptr() as usize;
    buf.put_bytes(0xA5, 300);
    let bytes = buf.freeze();

    let all_holding = Barrier::new(THREADS + 1);
    let (report, reports) = mpsc::channel();
    thread::scope(|scope| {
        let mut turns = Vec::new();
        let mut handles = Vec::new();
        for index in 0..THREADS {
            // Even threads get a clone, odd ones a slice.
            let share = if index % 2 == 0 {
                bytes.clone()
            } else {
                bytes.slice(index * 10..index * 10 + 50)
            };
            let (turn, my_turn) = mpsc::channel::<()>();
            turns.push(turn);
            let all_holding = &all_holding;
            let report = report.clone();
            handles.push(scope.spawn(move || {
                assert!(share.iter().all(|&b| b == 0xA5));
                all_holding.wait();
                my_turn.recv().unwrap();
                drop(share);
                report.send(index).unwrap();
            }));
        }
        all_holding.wait();
        drop(bytes);
        for (index, turn) in turns.into_iter().enumerate() {
            let stats = pool.stats();
            assert_eq!(
                (stats.in_use, stats.puts),
                (1, 0),
                "returned before the last share dropped (before thread {index})"
            );
            turn.send(()).unwrap();
            assert_eq!(reports.recv().unwrap(), index);
        }
        // A join (unlike the end of the scope) waits for the thread's
        // thread-local destructors, which drain its cache into the pool.
        for handle in handles {
            handle.join().unwrap();
        }
    });

    // Every share is gone and every thread has exited, its cache drained.
    let stats = pool.stats();
    assert_eq!((stats.in_use, stats.puts, stats.gets), (0, 1, 1));
    let (again, contents) = next_small_buffer(pool);
    assert_eq!(
        again, address,
        "the frozen buffer itself went back to the pool"
    );
    assert!(contents.iter().all(|&b| b == 0));
    assert_eq!(pool.stats().hits, 1);
}

/// The KAFKA-19012 regression: a frozen buffer is "sent" (held by a network
/// thread) while the scope that filled it ends. Until the network thread
/// drops it, no get of that bucket, on either thread, from a thread cache or
/// the shared queue, sees its bytes; after the drop it comes back zeroed.
#[test]
fn a_sent_frozen_buffer_is_never_handed_out_while_in_flight() {
    const SENT: u8 = 0x5E;
    let pool = leaked_pool();
    let (send, in_flight) = mpsc::sync_channel::<Bytes>(1);
    let (release, released) = mpsc::channel::<()>();
    /// Gets that each hold a few buffers at once, so that the thread caches
    /// spill to and refill from the shared queue; none may hold the pattern.
    fn churn(pool: &'static BufferPool, address: usize) {
        for round in 0..200 {
            let held: Vec<_> = (0..1 + round % 20).map(|_| pool.get(500)).collect();
            for buf in &held {
                assert_ne!(buf.as_ptr() as usize, address, "handed out while in flight");
                assert!(buf.iter().all(|&b| b != SENT), "saw the sent bytes");
            }
        }
    }
    let address = {
        let mut buf = pool.get(512);
        buf.fill(SENT);
        let address = buf.as_ptr() as usize;
        send.send(buf.freeze()).unwrap();
        address
    }; // the owner's scope ends; the network thread still holds the bytes
    let network = thread::spawn(move || {
        let bytes = in_flight.recv().unwrap();
        churn(pool, address);
        released.recv().unwrap();
        assert!(
            bytes.iter().all(|&b| b == SENT),
            "the bytes changed in flight"
        );
        drop(bytes);
    });
    churn(pool, address);
    release.send(()).unwrap();
    network.join().unwrap();
    // Sent and dropped: back in the pool, zeroed.
    assert_eq!(pool.stats().in_use, 0);
    let later: Vec<_> = (0..64).map(|_| pool.get(512)).collect();
    assert!(later.iter().all(|buf| buf.iter().all(|&b| b == 0)));
    assert!(
        later.iter().any(|buf| buf.as_ptr() as usize == address),
        "the sent buffer came back"
    );
}

/// Many frozen buffers dropped on other threads all come back: the counters
/// balance exactly.
#[test]
fn frozen_buffers_dropped_across_threads_balance_the_stats() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 200;
    let pool = leaked_pool();
    let (send, receive) = mpsc::channel::<Bytes>();
    thread::scope(|scope| {
        let consumer = scope.spawn(move || {
            let mut seen = 0usize;
            for bytes in receive {
                assert_eq!(bytes.len(), 4);
                seen += 1;
            }
            seen
        });
        for thread_index in 0..THREADS {
            let send = send.clone();
            scope.spawn(move || {
                for i in 0..PER_THREAD {
                    let mut buf = pool.get_empty(4);
                    buf.put_u32((thread_index * PER_THREAD + i) as u32);
                    let bytes = buf.freeze();
                    send.send(bytes.clone()).unwrap();
                    drop(bytes);
                }
            });
        }
        drop(send);
        assert_eq!(consumer.join().unwrap(), THREADS * PER_THREAD);
    });
    let stats = pool.stats();
    assert_eq!(stats.gets, (THREADS * PER_THREAD) as u64);
    assert_eq!((stats.puts, stats.in_use), (stats.gets, 0));
}
