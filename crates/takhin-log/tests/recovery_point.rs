//! The recovery point: segments sealed and synced below it are opened from
//! their index files without a rescan, to the same state a rescan gives.

mod common;

use std::fs;

use common::{check_fetch, fill, owned};
use takhin_log::{Log, LogConfig, LogError, RECOVERY_POINT_FILE, segment_file_name};

fn config() -> LogConfig {
    LogConfig::default()
        .with_segment_bytes(3000)
        .with_index_interval_bytes(250)
}

/// Per segment: base, next offset, size, max timestamp, index entries.
type SegmentState = (u64, u64, u32, Option<i64>, (usize, usize));

/// What a caller can observe of an opened log: its segments, the answers
/// to time searches, and the offsets read back.
fn state(log: &Log) -> (Vec<SegmentState>, Vec<Option<u64>>, Vec<u64>) {
    let segments = log
        .segments()
        .iter()
        .map(|s| {
            (
                s.base_offset(),
                s.next_offset(),
                s.size(),
                s.max_timestamp(),
                s.index_entries(),
            )
        })
        .collect();
    let times = (990..1060)
        .map(|t| log.find_offset_by_timestamp(t).unwrap())
        .collect();
    let mut seen = Vec::new();
    while (seen.len() as u64) < log.next_offset() {
        seen.extend(check_fetch(
            &log.read_range(seen.len() as u64, 1000).unwrap(),
        ));
    }
    (segments, times, seen)
}

#[test]
fn sealed_segments_below_the_recovery_point_open_to_the_state_a_rescan_gives() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), config()).unwrap();
    fill(|r| log.append_batch(r), 0, 400, 3);
    let segments = log.segments().len();
    assert!(segments > 10);
    assert_eq!(
        log.recovery_point(),
        log.segments().last().unwrap().base_offset()
    );
    let written = state(&log);
    drop(log);

    let log = Log::open(dir.path(), config()).unwrap();
    let trusted = log
        .segments()
        .iter()
        .filter(|s| s.recovery().from_recovery_point)
        .count();
    assert_eq!(
        trusted,
        segments - 1,
        "every sealed segment, not the active one"
    );
    assert_eq!(state(&log), written);
    drop(log);

    fs::remove_file(dir.path().join(RECOVERY_POINT_FILE)).unwrap();
    let mut log = Log::open(dir.path(), config()).unwrap();
    assert!(
        log.segments()
            .iter()
            .all(|s| !s.recovery().from_recovery_point)
    );
    assert_eq!(state(&log), written);
    // The log goes on; a roll stores the recovery point again.
    fill(|r| log.append_batch(r), 400, 450, 3);
    assert!(log.recovery_point() > 0);
    let o = owned(450);
    assert_eq!(log.append(&common::as_record(&o)).unwrap(), 450);
}

#[test]
fn index_files_that_do_not_fit_are_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), config()).unwrap();
    fill(|r| log.append_batch(r), 0, 100, 3);
    let written = state(&log);
    let first = log.segments()[0].base_offset();
    drop(log);
    // A stale offset index whose last entry points at no batch, then one
    // whose last entry names the wrong offset, then a torn entry.
    let index = dir.path().join(segment_file_name(first, "index"));
    let good = fs::read(&index).unwrap();
    let n = good.len();
    assert!(n >= 16);
    for (at, flip) in [(n - 1, 1u8), (n - 5, 1), (n - 1, 0)] {
        let mut bytes = good.clone();
        bytes[at] ^= flip;
        if flip == 0 {
            bytes.truncate(n - 3);
        }
        fs::write(&index, &bytes).unwrap();
        let log = Log::open(dir.path(), config()).unwrap();
        let rescanned = !log.segments()[0].recovery().from_recovery_point;
        assert!(rescanned, "byte {at}");
        assert_eq!(state(&log), written);
    }
}

#[test]
fn a_truncation_below_the_recovery_point_lowers_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), config()).unwrap();
    fill(|r| log.append_batch(r), 0, 200, 3);
    let (second, third) = (
        log.segments()[1].base_offset(),
        log.segments()[2].base_offset(),
    );
    // At a segment's base, that segment goes and the one before is last.
    log.truncate_to(third).unwrap();
    assert_eq!((log.recovery_point(), log.segments().len()), (second, 2));
    log.truncate_to(second + 1).unwrap();
    assert_eq!(log.recovery_point(), second);
    drop(log);
    let log = Log::open(dir.path(), config()).unwrap();
    assert_eq!(
        (log.recovery_point(), log.next_offset()),
        (second, second + 1)
    );
}

#[test]
fn a_pool_too_small_for_a_stored_batch_fails_open_and_cuts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), LogConfig::default()).unwrap();
    let value = vec![1u8; 100_000];
    log.append(&takhin_log::Record::new(0, None, Some(&value)))
        .unwrap();
    drop(log);
    let path = dir.path().join(segment_file_name(0, "log"));
    let len = fs::metadata(&path).unwrap().len();
    let small = mempool::BufferPool::builder()
        .bucket_sizes([4096, 64 << 10])
        .max_buffer_size(64 << 10)
        .build()
        .unwrap();
    let error = Log::open_with(dir.path(), LogConfig::default(), &small).unwrap_err();
    assert!(matches!(error, LogError::Buffer(_)), "{error}");
    assert_eq!(fs::metadata(&path).unwrap().len(), len, "nothing cut");
    assert_eq!(
        Log::open(dir.path(), LogConfig::default())
            .unwrap()
            .next_offset(),
        1
    );
}
