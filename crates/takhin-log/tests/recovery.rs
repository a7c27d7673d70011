//! Reopening after torn writes and corruption: the segment is cut back to
//! the last valid batch, the indexes are rebuilt, and nothing before it is
//! lost.

mod common;

use std::fs;
use std::path::Path;

use common::{check_fetch, fill, read_offset_index, read_time_index};
use takhin_log::{DecodeError, Log, LogConfig, LogError, Segment, segment_file_name};

fn config() -> LogConfig {
    // Index every batch, so that a stale entry for the cut batch would show.
    LogConfig::default().with_index_interval_bytes(0)
}

/// Writes 3 batches (offsets 0..4, 4..8, 8..10) and returns (file bytes, start of the
/// last batch).
fn three_batches(dir: &Path) -> (Vec<u8>, usize) {
    let mut segment = Segment::create(dir, 0, config()).unwrap();
    fill(|r| segment.append_batch(r), 0, 8, 4);
    let last_start = segment.size() as usize;
    fill(|r| segment.append_batch(r), 8, 10, 2);
    segment.flush().unwrap();
    let bytes = fs::read(dir.join(segment_file_name(0, "log"))).unwrap();
    (bytes, last_start)
}

#[test]
fn a_cut_at_every_byte_of_the_last_batch_recovers_the_batches_before_it() {
    let original = tempfile::tempdir().unwrap();
    let (bytes, last_start) = three_batches(original.path());
    let index = fs::read(original.path().join(segment_file_name(0, "index"))).unwrap();
    let time_index = fs::read(original.path().join(segment_file_name(0, "timeindex"))).unwrap();
    // The indexes a clean segment of the first two batches has.
    let clean = tempfile::tempdir().unwrap();
    let mut two = Segment::create(clean.path(), 0, config()).unwrap();
    fill(|r| two.append_batch(r), 0, 8, 4);
    drop(two);
    let (want_index, want_time) = (
        read_offset_index(clean.path(), 0),
        read_time_index(clean.path(), 0),
    );
    assert_eq!(want_index.len(), 1, "the second batch is indexed");

    for cut in last_start..bytes.len() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(segment_file_name(0, "log")), &bytes[..cut]).unwrap();
        // Stale index files that still point at the torn batch.
        fs::write(dir.path().join(segment_file_name(0, "index")), &index).unwrap();
        fs::write(
            dir.path().join(segment_file_name(0, "timeindex")),
            &time_index,
        )
        .unwrap();

        let mut segment = Segment::open(dir.path(), 0, config()).unwrap();
        assert_eq!(segment.next_offset(), 8, "cut at {cut}");
        assert_eq!(segment.size() as usize, last_start);
        assert_eq!(segment.recovery().valid_batches, 2);
        assert_eq!(
            segment.recovery().truncated_bytes as usize,
            cut - last_start
        );
        assert_eq!(segment.recovery().reason.is_some(), cut > last_start);
        assert_eq!(
            fs::metadata(dir.path().join(segment_file_name(0, "log")))
                .unwrap()
                .len() as usize,
            last_start
        );
        assert_eq!(read_offset_index(dir.path(), 0), want_index, "cut at {cut}");
        assert_eq!(read_time_index(dir.path(), 0), want_time, "cut at {cut}");
        assert_eq!(
            check_fetch(&segment.read_range(0, usize::MAX).unwrap()),
            (0..8).collect::<Vec<_>>()
        );
        // The log goes on from the recovered offset.
        fill(|r| segment.append_batch(r), 8, 10, 2);
        drop(segment);
        let segment = Segment::open(dir.path(), 0, config()).unwrap();
        assert_eq!(segment.recovery().truncated_bytes, 0);
        assert_eq!(
            check_fetch(&segment.read_range(0, usize::MAX).unwrap()),
            (0..10).collect::<Vec<_>>()
        );
    }
}

#[test]
fn a_bad_crc_in_the_last_batch_drops_only_that_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (mut bytes, last_start) = three_batches(dir.path());
    let at = bytes.len() - 3; // inside the last record's value
    bytes[at] ^= 0xff;
    fs::write(dir.path().join(segment_file_name(0, "log")), &bytes).unwrap();
    let segment = Segment::open(dir.path(), 0, config()).unwrap();
    assert_eq!(segment.next_offset(), 8);
    assert_eq!(segment.size() as usize, last_start);
    assert!(matches!(
        segment.recovery().reason,
        Some(DecodeError::Crc { .. })
    ));
}

#[test]
fn a_bad_crc_in_the_middle_cuts_from_there() {
    let dir = tempfile::tempdir().unwrap();
    let (mut bytes, _) = three_batches(dir.path());
    bytes[70] ^= 0x01; // inside the first batch's records
    fs::write(dir.path().join(segment_file_name(0, "log")), &bytes).unwrap();
    let segment = Segment::open(dir.path(), 0, config()).unwrap();
    assert_eq!((segment.next_offset(), segment.size()), (0, 0));
    assert_eq!(segment.recovery().truncated_bytes as usize, bytes.len());
}

#[test]
fn hostile_tails_are_cut_without_large_allocations() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = three_batches(dir.path());
    let tails: [&[u8]; 4] = [
        // baseOffset 10, batchLength i32::MAX
        &[0, 0, 0, 0, 0, 0, 0, 10, 0x7f, 0xff, 0xff, 0xff],
        // negative batchLength
        &[0, 0, 0, 0, 0, 0, 0, 10, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0],
        // a header-sized batch with the wrong magic
        &[0; 61],
        // a lone byte
        &[9],
    ];
    for tail in tails {
        let mut file = bytes.clone();
        file.extend_from_slice(tail);
        fs::write(dir.path().join(segment_file_name(0, "log")), &file).unwrap();
        let segment = Segment::open(dir.path(), 0, config()).unwrap();
        assert_eq!(segment.next_offset(), 10);
        assert_eq!(segment.recovery().truncated_bytes as usize, tail.len());
    }
}

#[test]
fn a_batch_with_the_wrong_base_offset_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, last_start) = three_batches(dir.path());
    // Replay the last batch: a valid CRC, but offsets 8..10 again.
    let mut file = bytes.clone();
    file.extend_from_slice(&bytes[last_start..]);
    fs::write(dir.path().join(segment_file_name(0, "log")), &file).unwrap();
    let segment = Segment::open(dir.path(), 0, config()).unwrap();
    assert_eq!(segment.next_offset(), 10);
    assert!(matches!(
        segment.recovery().reason,
        Some(DecodeError::Field { .. })
    ));
}

#[test]
fn reopening_a_clean_segment_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = three_batches(dir.path());
    let index = read_offset_index(dir.path(), 0);
    let segment = Segment::open(dir.path(), 0, config()).unwrap();
    assert_eq!(segment.next_offset(), 10);
    assert_eq!(segment.size() as usize, bytes.len());
    assert_eq!(segment.recovery().truncated_bytes, 0);
    assert_eq!(read_offset_index(dir.path(), 0), index);
}

/// A sealed segment was synced when the log rolled past it, so damage to it
/// is corruption, not a torn write: cutting it would drop acknowledged
/// records, and deleting the later segments (as this crate once did) even
/// more. Opening fails and names the file and the position instead.
#[test]
fn a_torn_older_segment_is_an_error_naming_it_and_nothing_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig::default().with_segment_bytes(600);
    let mut log = Log::open(dir.path(), config).unwrap();
    fill(|r| log.append_batch(r), 0, 30, 2);
    let segments: Vec<u64> = log.segments().iter().map(|s| s.base_offset()).collect();
    assert!(segments.len() >= 3, "{segments:?}");
    let last_batch = {
        let fetch = log.read(segments[2] - 1).unwrap().unwrap();
        log.segments()[1].size() as u64 - fetch.bytes().len() as u64
    };
    drop(log);
    // Tear the second segment's last byte.
    let second = dir.path().join(segment_file_name(segments[1], "log"));
    let len = fs::metadata(&second).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&second)
        .unwrap()
        .set_len(len - 1)
        .unwrap();

    // Below the recovery point (trusted indexes, headers walked) and, with
    // the checkpoint gone, checked batch by batch: the same answer.
    for checkpoint in [true, false] {
        if !checkpoint {
            fs::remove_file(dir.path().join(takhin_log::RECOVERY_POINT_FILE)).unwrap();
        }
        match Log::open(dir.path(), config) {
            Err(LogError::CorruptSegment { path, position, .. }) => {
                assert_eq!((path, position), (second.clone(), last_batch));
            }
            other => panic!(
                "checkpoint {checkpoint}: {:?}",
                other.map(|l| l.next_offset())
            ),
        }
        assert_eq!(
            fs::metadata(&second).unwrap().len(),
            len - 1,
            "nothing is cut"
        );
        for base in &segments {
            assert!(dir.path().join(segment_file_name(*base, "log")).exists());
        }
    }
}
