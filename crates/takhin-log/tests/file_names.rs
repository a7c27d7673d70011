//! Stray and hostile file names in a log directory, and segments that
//! overlap or leave a gap: `Log::open` refuses them with an error that names
//! the files, and never deletes a segment.

mod common;
mod fault;

use std::fs;
use std::path::Path;

use common::{check_fetch, fill};
use fault::segment_path;
use takhin_log::{Log, LogConfig, LogError, Segment};

fn config() -> LogConfig {
    LogConfig::default().with_segment_bytes(400)
}

/// A log holding 0..11 in more than one segment, one of them starting at 5.
fn log_with_segment_5(dir: &Path) -> Vec<u64> {
    let mut log = Log::open(dir, config()).unwrap();
    fill(|r| log.append_batch(r), 0, 5, 5);
    log.roll().unwrap();
    fill(|r| log.append_batch(r), 5, 11, 1);
    log.flush().unwrap();
    log.segments().iter().map(|s| s.base_offset()).collect()
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && n != "recovery-point")
        .collect();
    names.sort();
    names
}

fn open_err(dir: &Path) -> takhin_log::LogError {
    match Log::open(dir, config()) {
        Ok(log) => panic!("opened, next offset {}", log.next_offset()),
        Err(error) => error,
    }
}

fn read_all(log: &Log) -> Vec<u64> {
    let mut seen = Vec::new();
    while (seen.len() as u64) < log.next_offset() {
        seen.extend(check_fetch(
            &log.read_range(seen.len() as u64, usize::MAX).unwrap(),
        ));
    }
    seen
}

#[test]
fn a_plus_sign_name_is_refused_and_the_real_segment_survives() {
    let dir = tempfile::tempdir().unwrap();
    let bases = log_with_segment_5(dir.path());
    assert_eq!(bases[1], 5);
    // Parses as 5 with `str::parse::<u64>`, and is 20 characters long.
    fs::write(dir.path().join("+0000000000000000005.log"), b"").unwrap();
    let error = open_err(dir.path());
    assert!(
        matches!(&error, LogError::BadFileName { name } if name == "+0000000000000000005.log"),
        "{error}"
    );
    fs::remove_file(dir.path().join("+0000000000000000005.log")).unwrap();
    let log = Log::open(dir.path(), config()).unwrap();
    assert_eq!(log.next_offset(), 11);
    assert_eq!(read_all(&log), (0..11).collect::<Vec<_>>());
}

#[test]
fn hostile_names_are_refused_and_nothing_is_deleted() {
    let hostile = [
        "-0000000000000000005.log",
        " 0000000000000000005.log",
        "0000000000000000005 .log",
        "000000000000000000005.log",
        "0000000000000000005.log",
        "00000000000000000x05.log",
        "٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠5.log",
        ".log",
        "00000000000000000005..log",
        // Above i64::MAX, and the largest u64: Kafka offsets are i64.
        "09223372036854775808.log",
        "18446744073709551615.log",
        "+0000000000000000005.index",
        "00000000000000000005.timeindex.",
    ];
    for name in hostile {
        let dir = tempfile::tempdir().unwrap();
        log_with_segment_5(dir.path());
        let before = file_names(dir.path());
        fs::write(dir.path().join(name), b"").unwrap();
        let opened = Log::open(dir.path(), config());
        if name.ends_with('.') {
            // Not a segment suffix at all: ignored like any other file.
            assert_eq!(opened.unwrap().next_offset(), 11, "{name}");
            continue;
        }
        let Err(error) = opened else {
            panic!("{name}: opened");
        };
        assert!(
            matches!(&error, LogError::BadFileName { name: n } if n == name),
            "{name}: {error}"
        );
        fs::remove_file(dir.path().join(name)).unwrap();
        assert_eq!(file_names(dir.path()), before, "{name}: nothing deleted");
        let log = Log::open(dir.path(), config()).unwrap();
        assert_eq!(read_all(&log), (0..11).collect::<Vec<_>>(), "{name}");
    }
}

#[test]
fn overlapping_segments_are_an_error_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), config().with_segment_bytes(1 << 20)).unwrap();
    fill(|r| log.append_batch(r), 0, 10, 2);
    drop(log);
    // A second segment whose offsets 5..11 overlap the first's 0..10.
    let other = tempfile::tempdir().unwrap();
    let mut segment = Segment::create(other.path(), 5, config()).unwrap();
    fill(|r| segment.append_batch(r), 5, 11, 2);
    drop(segment);
    for suffix in ["log", "index", "timeindex"] {
        fs::copy(
            segment_path(other.path(), 5, suffix),
            segment_path(dir.path(), 5, suffix),
        )
        .unwrap();
    }
    let error = open_err(dir.path());
    let message = error.to_string();
    assert!(
        matches!(&error, LogError::Overlap { earlier, later, next_offset: 10 }
            if *earlier == segment_path(dir.path(), 0, "log") && *later == segment_path(dir.path(), 5, "log")),
        "{message}"
    );
    assert!(
        segment_path(dir.path(), 5, "log").exists(),
        "nothing deleted"
    );
    assert_eq!(
        fs::metadata(segment_path(dir.path(), 5, "log"))
            .unwrap()
            .len(),
        fs::metadata(segment_path(other.path(), 5, "log"))
            .unwrap()
            .len()
    );
}

#[test]
fn a_gap_between_segments_is_an_error_and_nothing_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), config().with_segment_bytes(1 << 20)).unwrap();
    fill(|r| log.append_batch(r), 0, 5, 5);
    drop(log);
    let mut segment = Segment::create(dir.path(), 7, config()).unwrap();
    fill(|r| segment.append_batch(r), 7, 10, 3);
    drop(segment);
    let error = open_err(dir.path());
    let message = error.to_string();
    assert!(
        matches!(&error, LogError::Gap { earlier, later, next_offset: 5 }
            if *earlier == segment_path(dir.path(), 0, "log") && *later == segment_path(dir.path(), 7, "log")),
        "{message}"
    );
    assert!(
        fs::metadata(segment_path(dir.path(), 7, "log"))
            .unwrap()
            .len()
            > 0
    );
}

#[test]
fn orphaned_index_files_are_removed_by_open() {
    let dir = tempfile::tempdir().unwrap();
    let bases = log_with_segment_5(dir.path());
    let next = 11;
    // What a crash inside a segment deletion (or a failed roll) leaves.
    fs::write(segment_path(dir.path(), next, "index"), [1u8; 8]).unwrap();
    fs::write(segment_path(dir.path(), next, "timeindex"), [1u8; 12]).unwrap();
    let mut log = Log::open(dir.path(), config()).unwrap();
    assert_eq!(log.segments().len(), bases.len());
    assert!(!segment_path(dir.path(), next, "index").exists());
    assert!(!segment_path(dir.path(), next, "timeindex").exists());
    log.roll().unwrap();
    assert_eq!(log.segments().last().unwrap().base_offset(), next);
}

#[test]
fn a_name_that_is_not_utf8_is_refused() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    log_with_segment_5(dir.path());
    let name = std::ffi::OsStr::from_bytes(b"0000000000000000000\xff.log");
    fs::write(dir.path().join(name), b"").unwrap();
    let error = open_err(dir.path());
    assert!(
        matches!(&error, LogError::BadFileName { name } if name.ends_with("\u{fffd}.log")),
        "{error}"
    );
}
