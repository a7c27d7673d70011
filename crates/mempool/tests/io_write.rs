//! `std::io::Write` for `PooledBuf`, and the growable `get_empty` path:
//! appends within the capacity, clean errors past it, and zeroing of every
//! byte a write touched.

use std::io::{self, ErrorKind, IoSlice, Write};

use mempool::{BufferPool, CapacityError, PoolError};
use proptest::prelude::*;

/// A pool with one 512-byte bucket, so every buffer is interchangeable and a
/// get right after a drop hands back the same (thread-cached) buffer.
fn one_bucket_pool(zero_on_drop: bool) -> BufferPool {
    BufferPool::builder()
        .bucket_sizes([512])
        .zero_on_drop(zero_on_drop)
        .build()
        .unwrap()
}

/// The whole capacity of the next buffer `pool` hands out, and its address.
fn next_buffer_contents(pool: &BufferPool) -> (usize, Vec<u8>) {
    let buf = pool.get(512);
    (buf.as_ptr() as usize, buf.to_vec())
}

fn capacity_error(error: &io::Error) -> &CapacityError {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<CapacityError>())
        .expect("a CapacityError inside")
}

#[test]
fn smoke() {
    let pool = BufferPool::new();
    let mut buf = pool.get_empty(1500);
    assert_eq!((buf.len(), buf.capacity()), (0, 4096));
    buf.write_all(&1496u32.to_be_bytes()).unwrap();
    buf.write_all(b"payload").unwrap();
    write!(buf, "-{}", 7).unwrap();
    buf.flush().unwrap();
    assert_eq!(&buf[..], b"\0\0\x05\xd8payload-7");
    assert_eq!(buf.len(), 13);
    assert_eq!(buf.remaining_capacity(), 4096 - 13);
}

#[test]
fn get_keeps_its_length_and_zeroes() {
    let pool = BufferPool::new();
    let buf = pool.get(1500);
    assert_eq!(buf.len(), 1500);
    assert!(buf.iter().all(|&b| b == 0));
}

#[test]
fn get_empty_counts_as_a_get_and_returns() {
    let pool = BufferPool::new();
    drop(pool.get_empty(100));
    let again = pool.get_empty(200);
    let stats = pool.stats();
    assert_eq!(
        (stats.gets, stats.hits, stats.puts, stats.in_use),
        (2, 1, 1, 1)
    );
    assert_eq!(stats.bytes_requested, 300);
    drop(again);
    assert_eq!(pool.stats().in_use, 0);
}

#[test]
fn try_get_empty_fails_cleanly() {
    let pool = BufferPool::builder()
        .bucket_sizes([512, 4096])
        .max_buffer_size(1 << 20)
        .build()
        .unwrap();
    assert!(matches!(
        pool.try_get_empty(2 << 20),
        Err(PoolError::TooLarge { requested, max: 1_048_576 }) if requested == 2 << 20
    ));
    assert!(pool.try_get_empty(usize::MAX).is_err());
    assert!(mempool::try_get_empty_buffer(usize::MAX).is_err());
    assert!(mempool::try_get_empty_buffer(10).unwrap().is_empty());
}

#[test]
fn oversized_empty_buffer_has_the_requested_capacity() {
    let mut buf = mempool::get_empty_buffer(20 << 20);
    assert!(buf.is_oversized());
    assert_eq!(buf.remaining_capacity(), 20 << 20);
    buf.write_all(&[1; 1000]).unwrap();
    assert_eq!(buf.len(), 1000);
}

#[test]
fn write_takes_what_fits_then_refuses() {
    let pool = one_bucket_pool(true);
    let mut buf = pool.get_empty(1);
    assert_eq!(buf.write(&[1; 500]).unwrap(), 500);
    assert_eq!(buf.write(&[2; 20]).unwrap(), 12);
    assert_eq!(buf.len(), 512);
    assert_eq!(buf[499..501], [1, 2]);

    let error = buf.write(&[3; 4]).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::WriteZero);
    let cause = capacity_error(&error);
    assert_eq!((cause.len, cause.capacity, cause.additional), (512, 512, 4));
    // An empty write always succeeds, even when full.
    assert_eq!(buf.write(&[]).unwrap(), 0);
    assert_eq!(buf.len(), 512);
}

#[test]
fn write_all_is_all_or_nothing() {
    let pool = one_bucket_pool(true);
    let mut buf = pool.get_empty(512);
    buf.write_all(&[1; 510]).unwrap();
    let error = buf.write_all(b"abc").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::WriteZero);
    assert_eq!(capacity_error(&error).additional, 3);
    assert!(
        error.to_string().contains("cannot append 3 bytes"),
        "{error}"
    );
    assert_eq!(buf.len(), 510, "nothing of a refused write_all lands");
    buf.write_all(b"ab").unwrap();
    assert_eq!(buf.len(), 512);
}

#[test]
fn try_extend_from_slice_reports_the_numbers() {
    let pool = one_bucket_pool(true);
    let mut buf = pool.get_empty(512);
    buf.try_extend_from_slice(&[5; 300]).unwrap();
    let error = buf.try_extend_from_slice(&[5; 213]).unwrap_err();
    assert_eq!(
        (error.len, error.capacity, error.additional),
        (300, 512, 213)
    );
    let io_error = io::Error::from(error);
    assert_eq!(io_error.kind(), ErrorKind::WriteZero);
    buf.try_extend_from_slice(&[5; 212]).unwrap();
    assert_eq!(buf.remaining_capacity(), 0);
}

#[test]
fn write_vectored_appends_in_order_until_full() {
    let pool = one_bucket_pool(true);
    let mut buf = pool.get_empty(512);
    let written = buf
        .write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b""), IoSlice::new(b"cde")])
        .unwrap();
    assert_eq!(written, 5);
    assert_eq!(&buf[..], b"abcde");

    buf.write_all(&[0; 505]).unwrap();
    let written = buf
        .write_vectored(&[IoSlice::new(b"x"), IoSlice::new(b"yz"), IoSlice::new(b"!")])
        .unwrap();
    assert_eq!(written, 2, "x and half of yz fit");
    assert_eq!(&buf[510..], b"xy");

    let error = buf.write_vectored(&[IoSlice::new(b"!")]).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::WriteZero);
    assert_eq!(buf.write_vectored(&[IoSlice::new(b"")]).unwrap(), 0);
}

#[test]
fn io_copy_fills_it_and_stops_at_capacity() {
    let pool = one_bucket_pool(true);
    let mut buf = pool.get_empty(512);
    let copied = io::copy(&mut &[9u8; 400][..], &mut buf).unwrap();
    assert_eq!((copied, buf.len()), (400, 400));

    let error = io::copy(&mut &[9u8; 400][..], &mut buf).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::WriteZero);
    // io::copy hands each chunk it read to write_all, which is all or nothing.
    assert_eq!(buf.len(), 400, "the refused chunk left no partial bytes");
}

#[test]
fn drop_zeroes_every_written_byte() {
    let pool = one_bucket_pool(true);
    let mut buf = pool.get_empty(512);
    let address = buf.as_ptr() as usize;
    buf.write_all(&[0xAB; 300]).unwrap();
    // Truncating hides bytes but they were written: they must still be zeroed.
    buf.truncate(10);
    buf.write_all(&[0xCD; 5]).unwrap();
    assert_eq!(&buf[8..], &[0xAB, 0xAB, 0xCD, 0xCD, 0xCD, 0xCD, 0xCD]);
    drop(buf);

    let (again, contents) = next_buffer_contents(&pool);
    assert_eq!(
        again, address,
        "the thread cache hands back the same buffer"
    );
    assert!(contents.iter().all(|&b| b == 0));
}

/// The control for the test above: without zeroing, the written bytes
/// survive the drop, so the zeroing seen above is the drop's doing.
#[test]
fn without_zero_on_drop_written_bytes_survive() {
    let pool = one_bucket_pool(false);
    let mut buf = pool.get_empty(512);
    let address = buf.as_ptr() as usize;
    buf.write_all(&[0xAB; 300]).unwrap();
    drop(buf);

    let (again, contents) = next_buffer_contents(&pool);
    assert_eq!(again, address);
    assert!(contents[..300].iter().all(|&b| b == 0xAB));
    assert!(contents[300..].iter().all(|&b| b == 0));
}

#[derive(Debug, Clone)]
enum Op {
    Write(Vec<u8>),
    WriteAll(Vec<u8>),
    Truncate(usize),
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    let bytes = prop::collection::vec(1u8..=255, 0..200);
    prop_oneof![
        bytes.clone().prop_map(Op::Write),
        bytes.prop_map(Op::WriteAll),
        (0usize..600).prop_map(Op::Truncate),
        Just(Op::Clear),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any sequence of writes behaves like a `Vec` capped at the capacity,
    /// and the drop leaves the buffer all zero.
    #[test]
    fn writes_match_a_capped_vec_and_drop_zeroes(ops in prop::collection::vec(op(), 0..24)) {
        let pool = one_bucket_pool(true);
        let mut buf = pool.get_empty(512);
        let mut model: Vec<u8> = Vec::new();
        for op in ops {
            match op {
                Op::Write(data) => {
                    let fits = data.len().min(512 - model.len());
                    match buf.write(&data) {
                        Ok(count) => prop_assert_eq!(count, fits),
                        Err(error) => {
                            prop_assert_eq!(fits, 0);
                            prop_assert_eq!(error.kind(), ErrorKind::WriteZero);
                        }
                    }
                    model.extend_from_slice(&data[..fits]);
                }
                Op::WriteAll(data) => {
                    let fits = model.len() + data.len() <= 512;
                    prop_assert_eq!(buf.write_all(&data).is_ok(), fits);
                    if fits {
                        model.extend_from_slice(&data);
                    }
                }
                Op::Truncate(len) => {
                    buf.truncate(len);
                    model.truncate(len);
                }
                Op::Clear => {
                    buf.clear();
                    model.clear();
                }
            }
            prop_assert_eq!(&buf[..], &model[..]);
            prop_assert_eq!(buf.remaining_capacity(), 512 - model.len());
        }
        drop(buf);
        let (_, contents) = next_buffer_contents(&pool);
        prop_assert!(contents.iter().all(|&b| b == 0));
    }
}
