//! Compressed appends and client batches (`append_raw`) on the append path
//! every batch takes: the limits and the roll go by the bytes written, the
//! `i64` offset limit holds, a failed append leaves nothing, and compressed
//! batches reopen both ways (from the recovery point and by a rescan).

mod common;
mod fault;

use std::fs;

use common::{as_record, fill, owned};
use fault::{Tmpfs, append_on_a_full_disk, segment_path};
use takhin_log::{
    Compression, DecodeError, Fetch, Log, LogConfig, LogError, MAX_OFFSET, RECOVERY_POINT_FILE,
    Record, Segment, VecBuffers,
};

const CODECS: [Compression; 4] = [
    Compression::Gzip,
    Compression::Snappy,
    Compression::Lz4,
    Compression::Zstd,
];

/// The offsets of every record in `fetch`, decompressing each batch, with
/// each record checked against [`owned`].
fn decoded_offsets<B: std::ops::Deref<Target = [u8]>>(fetch: &Fetch<B>) -> Vec<u64> {
    let mut offsets = Vec::new();
    for batch in fetch.batches() {
        let decoded = batch.unwrap().decompress(VecBuffers).unwrap();
        for record in decoded.records() {
            let record = record.unwrap();
            let want = owned(record.offset);
            assert_eq!(record.key, Some(&want.key[..]), "offset {}", record.offset);
            assert_eq!(record.value, Some(&want.value[..]));
            offsets.push(record.offset);
        }
    }
    offsets
}

/// Every record of `log`, read back through `decompress`.
fn all_offsets(log: &Log) -> Vec<u64> {
    let mut seen = Vec::new();
    while (seen.len() as u64) < log.next_offset() {
        let from = seen.len() as u64;
        seen.extend(decoded_offsets(&log.read_range(from, usize::MAX).unwrap()));
    }
    seen
}

/// A client's batch of `count` records starting at `from` (so that
/// [`owned`] describes them once appended at `from`), compressed with
/// `codec`; its base offset field is 0, as a producer sends it.
fn client_batch(codec: Compression, from: u64, count: u64) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig::default().with_compression(codec);
    let mut log = Log::open_with(dir.path(), config, VecBuffers).unwrap();
    let owned: Vec<_> = (from..from + count).map(owned).collect();
    let records: Vec<Record<'_>> = owned.iter().map(as_record).collect();
    log.append_batch(&records).unwrap();
    log.read(0).unwrap().unwrap().bytes().to_vec()
}

#[test]
fn a_compressed_log_rolls_and_limits_batches_by_the_compressed_size() {
    let value = [b'x'; 1000];
    let records: Vec<Record<'_>> = (0..10)
        .map(|i| Record::new(i, None, Some(&value)))
        .collect();
    for codec in CODECS {
        let dir = tempfile::tempdir().unwrap();
        // Each batch is about 10 KB plain and well under 1 KB compressed.
        let config = LogConfig::default()
            .with_segment_bytes(8 << 10)
            .with_max_batch_bytes(4 << 10)
            .with_compression(codec);
        let mut log = Log::open(dir.path(), config).unwrap();
        for i in 0..5 {
            assert_eq!(log.append_batch(&records).unwrap(), 10 * i, "{codec:?}");
        }
        assert_eq!(
            log.segments().len(),
            1,
            "{codec:?}: no roll for a plain size"
        );
        let plain = Log::open(
            &dir.path().join("plain"),
            config.with_compression(Compression::None),
        );
        assert!(matches!(
            plain.unwrap().append_batch(&records),
            Err(LogError::TooLarge { what: "batch", .. })
        ));
        // Incompressible values: each batch is 4096 bytes plain, so two
        // fill a segment exactly, but compressed they are larger, and the
        // roll goes by what is written.
        let noise = mempool_test_support::noise(4026);
        let config = config.with_max_batch_bytes(1 << 20);
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::open(dir.path(), config).unwrap();
        log.append(&Record::new(0, None, Some(&noise))).unwrap();
        assert!(log.size_bytes() > 4096, "{codec:?}: {}", log.size_bytes());
        for i in 1..10 {
            log.append(&Record::new(i, None, Some(&noise))).unwrap();
        }
        assert_eq!(log.segments().len(), 10, "{codec:?}");
        for segment in log.segments() {
            assert!(segment.size() <= 8 << 10, "{codec:?}: {}", segment.size());
        }
    }
}

#[test]
fn client_batches_and_compressed_appends_at_the_i64_limit_are_refused() {
    for codec in [Compression::None, Compression::Zstd] {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig::default().with_compression(codec);
        drop(Segment::create(dir.path(), MAX_OFFSET - 3, config).unwrap());
        let mut log = Log::open(dir.path(), config).unwrap();
        // Offsets MAX_OFFSET - 3 ..= MAX_OFFSET: the last is one too many.
        let four = client_batch(Compression::Lz4, 0, 4);
        let two = client_batch(Compression::Lz4, 0, 2);
        assert!(matches!(
            log.append_raw(&four).unwrap_err(),
            LogError::OffsetOverflow {
                offset: MAX_OFFSET,
                limit: MAX_OFFSET
            }
        ));
        assert_eq!(log.size_bytes(), 0, "nothing written");
        assert_eq!(log.append_raw(&two).unwrap(), MAX_OFFSET - 3);
        let one: Vec<_> = (0..1).map(owned).collect();
        let one: Vec<Record<'_>> = one.iter().map(as_record).collect();
        assert_eq!(log.append_batch(&one).unwrap(), MAX_OFFSET - 1);
        assert_eq!(log.next_offset(), MAX_OFFSET);
        let size = log.size_bytes();
        assert!(matches!(
            log.append_batch(&one),
            Err(LogError::OffsetOverflow { .. })
        ));
        assert!(matches!(
            log.append_raw(&client_batch(Compression::None, 0, 1)),
            Err(LogError::OffsetOverflow { .. })
        ));
        assert_eq!((log.next_offset(), log.size_bytes()), (MAX_OFFSET, size));
        drop(log);
        let log = Log::open(dir.path(), config).unwrap();
        assert_eq!(
            log.next_offset(),
            MAX_OFFSET,
            "what was acknowledged is kept"
        );
    }
}

#[test]
fn on_a_full_disk_every_ok_client_or_compressed_append_is_kept_and_no_failed_one() {
    let Some(disk) = Tmpfs::mount(512 << 10) else {
        return;
    };
    let dir = disk.path().join("log");
    let filler = disk.path().join("filler");
    let config = LogConfig::default()
        .with_segment_bytes(8 << 10)
        .with_index_interval_bytes(100)
        .with_compression(Compression::Gzip);
    let mut log = Log::open(&dir, config).unwrap();
    let (ok, _) = append_on_a_full_disk(
        &mut log,
        &filler,
        |log, next, count, round| {
            // Half the appends are client batches, in every codec.
            if (next + round) % 2 == 0 {
                let codec = CODECS[(next % 4) as usize];
                log.append_raw(&client_batch(codec, next, count))
            } else {
                let owned: Vec<_> = (next..next + count).map(owned).collect();
                let records: Vec<Record<'_>> = owned.iter().map(as_record).collect();
                log.append_batch(&records)
            }
        },
        |log| {
            let active = log.segments().last().unwrap();
            let on_disk = fs::metadata(segment_path(&dir, active.base_offset(), "log"));
            assert_eq!(on_disk.unwrap().len(), u64::from(active.size()), "cut back");
        },
    );
    drop(log);
    fs::remove_file(&filler).unwrap();
    let log = Log::open(&dir, config).unwrap();
    assert_eq!(log.next_offset(), ok, "exactly the acknowledged records");
    assert_eq!(all_offsets(&log), (0..ok).collect::<Vec<_>>());
}

#[test]
fn compressed_segments_reopen_from_the_recovery_point_and_by_a_rescan() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig::default()
        .with_segment_bytes(2048)
        .with_index_interval_bytes(200);
    let mut log = Log::open(dir.path(), config).unwrap();
    let mut next = 0;
    for codec in CODECS.into_iter().cycle().take(40) {
        let count = 1 + next % 5;
        assert_eq!(
            log.append_raw(&client_batch(codec, next, count)).unwrap(),
            next
        );
        next += count;
    }
    let mut compressed = log;
    let more = compressed.next_offset();
    drop(compressed);
    compressed = Log::open(dir.path(), config.with_compression(Compression::Snappy)).unwrap();
    fill(|r| compressed.append_batch(r), more, more + 60, 6);
    let end = compressed.next_offset();
    let segments = compressed.segments().len();
    assert!(segments > 3, "{segments} segments");
    let by_time = [1_000, 1_020, 1_049].map(|ts| compressed.find_offset_by_timestamp(ts).unwrap());
    drop(compressed);

    let trusted = Log::open(dir.path(), config).unwrap();
    let sealed = &trusted.segments()[..segments - 1];
    assert!(sealed.iter().all(|s| s.recovery().from_recovery_point));
    assert_eq!(trusted.next_offset(), end);
    assert_eq!(all_offsets(&trusted), (0..end).collect::<Vec<_>>());
    drop(trusted);

    fs::remove_file(dir.path().join(RECOVERY_POINT_FILE)).unwrap();
    let rescanned = Log::open(dir.path(), config).unwrap();
    assert!(
        rescanned
            .segments()
            .iter()
            .all(|s| !s.recovery().from_recovery_point && s.recovery().truncated_bytes == 0)
    );
    assert_eq!(rescanned.next_offset(), end);
    assert_eq!(all_offsets(&rescanned), (0..end).collect::<Vec<_>>());
    let again = [1_000, 1_020, 1_049].map(|ts| rescanned.find_offset_by_timestamp(ts).unwrap());
    assert_eq!(again, by_time);
    assert!(by_time.iter().all(Option::is_some));
}

#[test]
fn a_torn_compressed_tail_is_cut_and_a_corrupt_sealed_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig::default().with_compression(Compression::Lz4);
    let mut log = Log::open(dir.path(), config).unwrap();
    fill(|r| log.append_batch(r), 0, 20, 5);
    let kept = log.size_bytes();
    fill(|r| log.append_batch(r), 20, 25, 5);
    drop(log);
    let path = segment_path(dir.path(), 0, "log");
    let bytes = fs::read(&path).unwrap();
    // A flipped byte inside the last batch's compressed records.
    let mut bad = bytes.clone();
    *bad.last_mut().unwrap() ^= 0x40;
    fs::write(&path, &bad).unwrap();
    let log = Log::open(dir.path(), config).unwrap();
    assert_eq!((log.next_offset(), log.size_bytes()), (20, kept));
    let recovery = log.segments()[0].recovery();
    assert!(matches!(recovery.reason, Some(DecodeError::Crc { .. })));
    assert_eq!(all_offsets(&log), (0..20).collect::<Vec<_>>());
    drop(log);

    // The same damage in a sealed segment is an error, and nothing is cut.
    let mut log = Log::open(dir.path(), config).unwrap();
    log.roll().unwrap();
    drop(log);
    let sealed = fs::read(&path).unwrap();
    let mut bad = sealed.clone();
    *bad.last_mut().unwrap() ^= 0x40;
    fs::write(&path, &bad).unwrap();
    fs::remove_file(dir.path().join(RECOVERY_POINT_FILE)).unwrap();
    assert!(matches!(
        Log::open(dir.path(), config),
        Err(LogError::CorruptSegment { .. })
    ));
    assert_eq!(fs::read(&path).unwrap(), bad);
}

#[test]
fn truncating_inside_a_compressed_batch_is_refused_and_at_its_edge_works() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig::default().with_compression(Compression::Zstd);
    let mut log = Log::open(dir.path(), config).unwrap();
    fill(|r| log.append_batch(r), 0, 10, 5);
    let size = log.size_bytes();
    assert!(matches!(
        log.truncate_to(7),
        Err(LogError::Corrupt {
            source: DecodeError::Compressed { .. },
            ..
        })
    ));
    assert_eq!((log.next_offset(), log.size_bytes()), (10, size));
    log.truncate_to(5).unwrap();
    assert_eq!(log.next_offset(), 5);
    fill(|r| log.append_batch(r), 5, 10, 5);
    assert_eq!(all_offsets(&log), (0..10).collect::<Vec<_>>());
}
