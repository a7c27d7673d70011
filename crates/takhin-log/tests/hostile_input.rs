//! Fuzzing with proptest: corrupt or hostile bytes give a typed error,
//! never a panic, and never an allocation larger than the input justifies.

mod common;

use mempool::BufferPool;
use mempool_test_support::{CountingAlloc, largest_allocation_in};
use proptest::prelude::*;
use takhin_log::{BatchRef, Compression, LogConfig, Record, Segment, VecBuffers};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Runs `f` with a cold pool and returns the largest allocation it made on
/// this thread. The pool is cold so that every buffer `f` takes is a fresh
/// allocation the counter sees: a warm bucket would hand out a large
/// buffer unseen. The pool is built before counting starts.
fn largest_alloc_in(f: impl FnOnce(&BufferPool)) -> usize {
    let pool = BufferPool::new();
    largest_allocation_in(|| f(&pool))
}

/// A valid two-batch segment file to corrupt.
fn valid_file() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let mut segment = Segment::create(dir.path(), 0, LogConfig::default()).unwrap();
    common::fill(|r| segment.append_batch(r), 0, 6, 3);
    std::fs::read(dir.path().join(takhin_log::segment_file_name(0, "log"))).unwrap()
}

/// A valid batch of six records whose records section `codec` compressed.
fn compressed_batch(codec: Compression) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig::default().with_compression(codec);
    let mut segment = Segment::create(dir.path(), 0, config).unwrap();
    common::fill(|r| segment.append_batch(r), 0, 6, 6);
    std::fs::read(dir.path().join(takhin_log::segment_file_name(0, "log"))).unwrap()
}

/// Walks every batch and record of `bytes` the way a reader would.
fn decode_all(bytes: &[u8]) -> usize {
    let mut rest = bytes;
    let mut records = 0;
    while let Ok(batch) = BatchRef::parse(rest) {
        let _ = batch.validate_records();
        for record in batch.records() {
            match record {
                Ok(r) => records += r.headers.iter().count() + 1,
                Err(_) => break,
            }
        }
        rest = &rest[batch.len()..];
    }
    records
}

/// Overwrites the CRC so that a mutated batch passes the CRC check and the
/// record decoder sees the hostile bytes.
fn fix_crc(batch: &mut [u8]) {
    if batch.len() >= 61 {
        let crc = crc32c::crc32c(&batch[21..]);
        batch[17..21].copy_from_slice(&crc.to_be_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&bytes);
    }

    #[test]
    fn mutated_batches_with_a_good_crc_never_panic(
        edits in proptest::collection::vec((0usize..4096, any::<u8>()), 1..8),
        cut in 0usize..4096,
    ) {
        let mut file = valid_file();
        let first = u32::from_be_bytes(file[8..12].try_into().unwrap()) as usize + 12;
        let mut batch = file[..first].to_vec();
        for (at, byte) in edits {
            let at = at % batch.len();
            batch[at] = byte;
        }
        fix_crc(&mut batch);
        batch.truncate(batch.len().min(cut.max(1)));
        decode_all(&batch);
        file.splice(..first, batch);
        decode_all(&file);
    }

    #[test]
    fn mutated_compressed_records_fail_cleanly(
        codec in prop::sample::select(&[Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd][..]),
        edits in proptest::collection::vec((0usize..4096, any::<u8>()), 1..8),
    ) {
        let mut batch = compressed_batch(codec);
        let body = batch.len() - 61;
        for (at, byte) in edits {
            batch[61 + at % body] = byte;
        }
        fix_crc(&mut batch);
        // The header is intact: the batch parses, and recovery keeps it.
        let parsed = BatchRef::parse(&batch).unwrap();
        prop_assert!(parsed.validate_records().is_ok());
        if let Ok(decoded) = parsed.decompress(VecBuffers) {
            decoded.records().for_each(drop);
        }
    }

    #[test]
    fn opening_a_hostile_file_never_panics_nor_over_allocates(
        edits in proptest::collection::vec((0usize..4096, any::<u8>()), 0..6),
        tail in proptest::collection::vec(any::<u8>(), 0..80),
        fix in any::<bool>(),
    ) {
        let mut file = valid_file();
        let len = file.len();
        for (at, byte) in edits {
            file[at % len] = byte;
        }
        if fix {
            let first = (u32::from_be_bytes(file[8..12].try_into().unwrap()) as usize + 12).min(len);
            fix_crc(&mut file[..first]);
        }
        file.extend_from_slice(&tail);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(takhin_log::segment_file_name(0, "log"));
        std::fs::write(&path, &file).unwrap();
        let mut outcome = None;
        let largest = largest_alloc_in(|pool| {
            outcome = Some(Segment::open_with(dir.path(), 0, LogConfig::default(), pool).map(|s| (s.size(), s.next_offset())));
        });
        let (size, next_offset) = outcome.unwrap().expect("a corrupt file is repaired, not refused");
        // Pool buckets round up to a power of two; nothing scales with a
        // hostile length prefix.
        prop_assert!(largest <= 2 * file.len().max(4096), "{largest} bytes for a {}-byte file", file.len());
        prop_assert!(size as usize <= file.len());
        prop_assert!(next_offset <= 6);
        let segment = Segment::open(dir.path(), 0, LogConfig::default()).unwrap();
        // What survived reads back.
        if segment.next_offset() > 0 {
            let fetch = segment.read_range(0, usize::MAX).unwrap();
            let mut offsets = 0;
            for batch in fetch.batches() {
                let batch = batch.unwrap();
                if batch.compression().unwrap() == Compression::None {
                    offsets += batch.records().filter(Result::is_ok).count() as u64;
                } else {
                    // A compressed batch is kept on its CRC, as Kafka keeps it;
                    // its records decode, or fail cleanly, when read.
                    if let Ok(decoded) = batch.decompress(VecBuffers) {
                        decoded.records().for_each(drop);
                    }
                    offsets += batch.last_offset() - batch.base_offset() + 1;
                }
            }
            prop_assert_eq!(offsets, segment.next_offset());
        }
    }
}

#[test]
fn a_huge_length_prefix_is_capped_by_the_bytes_present() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(takhin_log::segment_file_name(0, "log"));
    let mut header = vec![0u8; 61];
    header[8..12].copy_from_slice(&i32::MAX.to_be_bytes());
    std::fs::write(&path, &header).unwrap();
    let largest = largest_alloc_in(|pool| {
        let segment = Segment::open_with(dir.path(), 0, LogConfig::default(), pool).unwrap();
        assert_eq!(segment.next_offset(), 0);
    });
    assert!(largest < 64 * 1024, "allocated {largest} bytes");
    // And a hand-made record whose key length claims 2^31 bytes.
    let key = vec![1u8; 4];
    let mut batch = vec![0u8; 200];
    let len = {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Segment::create(dir.path(), 0, LogConfig::default()).unwrap();
        s.append(&Record::new(0, Some(&key), None)).unwrap();
        let bytes =
            std::fs::read(dir.path().join(takhin_log::segment_file_name(0, "log"))).unwrap();
        batch[..bytes.len()].copy_from_slice(&bytes);
        bytes.len()
    };
    batch.truncate(len);
    // Record layout: 61 header, length, attributes, ts delta, offset delta, key length.
    batch[61 + 4..61 + 9].copy_from_slice(&[0xfe, 0xff, 0xff, 0xff, 0x0f]);
    fix_crc(&mut batch);
    let parsed = BatchRef::parse(&batch).unwrap();
    assert!(parsed.validate_records().is_err());
}

#[test]
fn the_counter_sees_the_buffers_a_cold_pool_hands_out() {
    // Guards the tests above: opening a file whose batches are ~1 KiB
    // through a cold pool must show an allocation at least that large.
    let dir = tempfile::tempdir().unwrap();
    let mut segment = Segment::create(dir.path(), 0, LogConfig::default()).unwrap();
    let value = vec![7u8; 1000];
    segment.append(&Record::new(0, None, Some(&value))).unwrap();
    drop(segment);
    let largest = largest_alloc_in(|pool| {
        Segment::open_with(dir.path(), 0, LogConfig::default(), pool).unwrap();
    });
    assert!(largest >= 1000, "largest allocation {largest} bytes");
}
