//! The rolling log: segments roll at the size limit, reads and time search
//! span them, truncation deletes whole segments.

mod common;

use common::{check_fetch, fill, owned};
use takhin_log::{Log, LogConfig, LogError};

fn read_all(log: &Log) -> Vec<u64> {
    let mut seen = Vec::new();
    let mut offset = log.start_offset();
    while offset < log.next_offset() {
        let fetch = log.read_range(offset, 4096).unwrap();
        seen.extend(check_fetch(&fetch));
        offset = *seen.last().unwrap() + 1;
    }
    seen
}

#[test]
fn rolls_at_the_segment_size_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig::default().with_segment_bytes(2000);
    let mut log = Log::open(dir.path(), config).unwrap();
    fill(|r| log.append_batch(r), 0, 300, 5);
    let segments = log.segments().len();
    assert!(segments > 5, "{segments} segments");
    for segment in log.segments() {
        assert!(segment.size() <= 2000);
    }
    for pair in log.segments().windows(2) {
        assert_eq!(pair[0].next_offset(), pair[1].base_offset());
    }
    let size = log.size_bytes();
    log.flush().unwrap();
    drop(log);

    let mut log = Log::open(dir.path(), config).unwrap();
    assert_eq!(
        (log.segments().len(), log.next_offset(), log.size_bytes()),
        (segments, 300, size)
    );
    assert_eq!(read_all(&log), (0..300).collect::<Vec<_>>());
    fill(|r| log.append_batch(r), 300, 310, 5);
    assert_eq!(read_all(&log), (0..310).collect::<Vec<_>>());
}

#[test]
fn a_batch_bigger_than_a_segment_gets_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), LogConfig::default().with_segment_bytes(100)).unwrap();
    fill(|r| log.append_batch(r), 0, 6, 2);
    assert_eq!(log.segments().len(), 3);
}

#[test]
fn time_search_and_truncation_span_segments() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig::default()
        .with_segment_bytes(1500)
        .with_index_interval_bytes(100);
    let mut log = Log::open(dir.path(), config).unwrap();
    fill(|r| log.append_batch(r), 0, 200, 3);
    for target in [990, 1000, 1013, 1049, 1050] {
        let want = (0..200u64).find(|&i| owned(i).timestamp >= target);
        assert_eq!(log.find_offset_by_timestamp(target).unwrap(), want);
    }
    let before = log.segments().len();
    log.truncate_to(101).unwrap();
    assert_eq!(log.next_offset(), 101);
    assert!(log.segments().len() < before);
    assert_eq!(read_all(&log), (0..101).collect::<Vec<_>>());
    // Segment files only: the lock and the recovery point stay.
    let files = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name != takhin_log::LOCK_FILE && name != takhin_log::RECOVERY_POINT_FILE
        })
        .count();
    assert_eq!(
        files,
        3 * log.segments().len(),
        "deleted segments leave no files"
    );
    assert!(matches!(
        log.truncate_to(102),
        Err(LogError::OffsetOutOfRange { .. })
    ));
    log.truncate_to(0).unwrap();
    assert_eq!((log.segments().len(), log.next_offset()), (1, 0));
}

#[test]
fn a_stray_log_file_name_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("12.log"), b"").unwrap();
    let error = Log::open(dir.path(), LogConfig::default()).unwrap_err();
    assert!(
        matches!(error, LogError::BadFileName { ref name } if name == "12.log"),
        "{error}"
    );
}
