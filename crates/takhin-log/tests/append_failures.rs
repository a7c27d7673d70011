//! Appends that fail: a full disk (a small tmpfs mounted by the test),
//! offsets at the `i64` limit, and pool buffers with stale bytes. A failed
//! append leaves nothing behind; an `Ok` one is always there on reopen.

mod common;
mod fault;

use std::fs;
use std::path::Path;

use common::{as_record, check_fetch, owned, read_offset_index, read_time_index};
use fault::{Tmpfs, append_on_a_full_disk, fill_disk, segment_path};
use takhin_log::{Log, LogConfig, LogError, MAX_OFFSET, Record, Segment, VecBuffers};

/// A segment on `dir` after `batches` one-record batches of 68 bytes with
/// timestamps from `timestamp(i)`, indexing every batch.
fn tiny_batches(dir: &Path, batches: u64, timestamp: impl Fn(u64) -> i64) -> Segment {
    let config = LogConfig::default().with_index_interval_bytes(0);
    let mut segment = Segment::create(dir, 0, config).unwrap();
    for i in 0..batches {
        segment
            .append(&Record::new(timestamp(i), None, None))
            .unwrap();
    }
    segment
}

fn file_len(dir: &Path, suffix: &str) -> u64 {
    fs::metadata(segment_path(dir, 0, suffix)).unwrap().len()
}

#[test]
fn an_index_write_that_fails_on_a_full_disk_fails_the_append_and_leaves_nothing() {
    let Some(disk) = Tmpfs::mount(256 << 10) else {
        return;
    };
    let dir = disk.path();
    // 513 batches: 512 offset index entries fill its first 4 KiB page
    // exactly, while the data file's last page has room for another batch.
    let mut segment = tiny_batches(dir, 513, |_| 0);
    assert_eq!(file_len(dir, "index"), 4096);
    let filler = dir.join("filler");
    fill_disk(&filler);
    let error = segment.append(&Record::new(0, None, None));
    assert!(
        error.is_err(),
        "the index needs a page the disk does not have"
    );
    assert_eq!(
        segment.next_offset(),
        513,
        "a failed append is not committed"
    );
    assert_eq!(segment.size(), 513 * 68);
    assert_eq!(file_len(dir, "log"), 513 * 68, "its bytes are cut again");
    drop(segment);
    fs::remove_file(&filler).unwrap();
    let config = LogConfig::default().with_index_interval_bytes(0);
    let mut segment = Segment::open(dir, 0, config).unwrap();
    assert_eq!(
        segment.next_offset(),
        513,
        "the failed append did not come back"
    );
    assert_eq!(segment.append(&Record::new(0, None, None)).unwrap(), 513);
}

#[test]
fn a_partial_time_index_entry_on_a_full_disk_does_not_misalign_the_index() {
    let Some(disk) = Tmpfs::mount(256 << 10) else {
        return;
    };
    let dir = disk.path();
    // 342 batches with growing timestamps: 341 time entries end at byte
    // 4092, so the next entry straddles the page boundary.
    let mut segment = tiny_batches(dir, 342, |i| i as i64);
    assert_eq!(file_len(dir, "timeindex"), 341 * 12);
    let filler = dir.join("filler");
    fill_disk(&filler);
    assert!(segment.append(&Record::new(342, None, None)).is_err());
    assert_eq!(segment.next_offset(), 342);
    assert_eq!(file_len(dir, "timeindex") % 12, 0, "whole entries only");
    assert_eq!(file_len(dir, "index") % 8, 0, "whole entries only");
    fs::remove_file(&filler).unwrap();
    for i in 342..400 {
        assert_eq!(
            segment.append(&Record::new(i as i64, None, None)).unwrap(),
            i
        );
    }
    // The files hold what a segment that never failed holds.
    let clean = tempfile::tempdir().unwrap();
    drop(tiny_batches(clean.path(), 400, |i| i as i64));
    assert_eq!(read_time_index(dir, 0), read_time_index(clean.path(), 0));
    assert_eq!(
        read_offset_index(dir, 0),
        read_offset_index(clean.path(), 0)
    );
    for target in [0, 341, 342, 399] {
        assert_eq!(
            segment.find_offset_by_timestamp(target).unwrap(),
            Some(target as u64)
        );
    }
}

#[test]
fn on_a_full_disk_every_ok_append_is_kept_and_every_failed_one_is_not() {
    let Some(disk) = Tmpfs::mount(512 << 10) else {
        return;
    };
    let dir = disk.path().join("log");
    let filler = disk.path().join("filler");
    let config = LogConfig::default()
        .with_segment_bytes(8 << 10)
        .with_index_interval_bytes(100);
    let mut log = Log::open(&dir, config).unwrap();
    let (ok, _) = append_on_a_full_disk(
        &mut log,
        &filler,
        |log, next, count, _| {
            let owned: Vec<_> = (next..next + count).map(owned).collect();
            let records: Vec<Record<'_>> = owned.iter().map(as_record).collect();
            log.append_batch(&records)
        },
        |_| {},
    );
    for segment in log.segments() {
        let base = segment.base_offset();
        assert_eq!(
            fs::metadata(segment_path(&dir, base, "index"))
                .unwrap()
                .len()
                % 8,
            0
        );
        assert_eq!(
            fs::metadata(segment_path(&dir, base, "timeindex"))
                .unwrap()
                .len()
                % 12,
            0
        );
    }
    drop(log);
    fs::remove_file(&filler).unwrap();
    let mut log = Log::open(&dir, config).unwrap();
    assert_eq!(log.next_offset(), ok, "exactly the acknowledged records");
    let mut seen = Vec::new();
    while (seen.len() as u64) < ok {
        seen.extend(check_fetch(
            &log.read_range(seen.len() as u64, usize::MAX).unwrap(),
        ));
    }
    assert_eq!(seen, (0..ok).collect::<Vec<_>>());
    let o = owned(ok);
    assert_eq!(log.append(&as_record(&o)).unwrap(), ok);
}

#[test]
fn offsets_at_the_i64_limit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let max = i64::MAX as u64;
    assert_eq!(max, MAX_OFFSET);
    // A base past i64::MAX cannot be stored in a batch header.
    for base in [max + 1, u64::MAX] {
        assert!(
            matches!(
                Segment::create(dir.path(), base, LogConfig::default()),
                Err(LogError::OffsetOverflow { offset, limit: MAX_OFFSET }) if offset == base
            ),
            "{base}"
        );
    }
    // Up to i64::MAX - 1 is fine; the offset i64::MAX is the end.
    let mut segment = Segment::create(dir.path(), max - 2, LogConfig::default()).unwrap();
    let two = [
        Record::new(0, None, Some(b"a")),
        Record::new(0, None, Some(b"b")),
    ];
    assert_eq!(segment.append_batch(&two).unwrap(), max - 2);
    assert_eq!(segment.next_offset(), max);
    assert!(matches!(
        segment.append(&Record::new(0, None, None)),
        Err(LogError::OffsetOverflow { offset, .. }) if offset == max
    ));
    assert_eq!((segment.next_offset(), segment.size()), (max, 77));
    drop(segment);
    let segment = Segment::open(dir.path(), max - 2, LogConfig::default()).unwrap();
    assert_eq!(segment.next_offset(), max, "what was acknowledged is kept");
    let mut near = Segment::create(dir.path(), max - 1, LogConfig::default()).unwrap();
    assert!(
        matches!(
            near.append_batch(&two),
            Err(LogError::OffsetOverflow { .. })
        ),
        "the second record would be i64::MAX"
    );
    assert_eq!(near.next_offset(), max - 1);
}

#[test]
fn stale_pool_bytes_never_reach_the_disk() {
    let pool = mempool::BufferPool::builder()
        .zero_on_drop(false)
        .build()
        .unwrap();
    let records: Vec<_> = (0..20).map(owned).collect();
    let records: Vec<Record<'_>> = records.iter().map(as_record).collect();
    let stale = tempfile::tempdir().unwrap();
    let mut segment = Segment::create_with(stale.path(), 0, LogConfig::default(), &pool).unwrap();
    let clean = tempfile::tempdir().unwrap();
    let mut baseline =
        Segment::create_with(clean.path(), 0, LogConfig::default(), VecBuffers).unwrap();
    for chunk in records.chunks(3) {
        // Another user of the pool leaves 0x5e in every bucket up to 4 KiB.
        for size in [100, 600, 2000, 4000] {
            pool.try_get(size).unwrap().fill(0x5e);
        }
        segment.append_batch(chunk).unwrap();
        baseline.append_batch(chunk).unwrap();
    }
    let bytes = fs::read(segment_path(stale.path(), 0, "log")).unwrap();
    let want = fs::read(segment_path(clean.path(), 0, "log")).unwrap();
    assert_eq!(bytes.len(), want.len());
    let differs = bytes.iter().zip(&want).position(|(a, b)| a != b);
    assert_eq!(
        differs,
        None,
        "first stale byte: {:?}",
        differs.map(|at| bytes[at])
    );
}
