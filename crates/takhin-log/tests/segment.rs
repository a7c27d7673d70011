//! Segment reads, index lookups, truncation and time search, checked
//! against brute force.

mod common;

use common::{check_fetch, fill, owned, read_offset_index, read_time_index};
use takhin_log::{LogConfig, LogError, Record, Segment, VecBuffers};

#[test]
fn files_are_named_by_the_zero_padded_base_offset() {
    let dir = tempfile::tempdir().unwrap();
    let _segment = Segment::create(dir.path(), 1234, LogConfig::default()).unwrap();
    for suffix in ["log", "index", "timeindex"] {
        assert!(
            dir.path()
                .join(format!("00000000000000001234.{suffix}"))
                .exists()
        );
    }
    // Creating it twice is refused rather than clobbering it.
    assert!(matches!(
        Segment::create(dir.path(), 1234, LogConfig::default()),
        Err(LogError::Io(_))
    ));
}

#[test]
fn every_offset_reads_back_through_the_sparse_index() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig::default().with_index_interval_bytes(300);
    let mut segment = Segment::create(dir.path(), 50, config).unwrap();
    fill(|r| segment.append_batch(r), 50, 250, 3);
    let (entries, _) = segment.index_entries();
    assert!(
        entries > 10 && entries < 67,
        "sparse: {entries} entries for 67 batches"
    );
    assert_eq!(read_offset_index(dir.path(), 50).len(), entries);
    for offset in 50..250 {
        let fetch = segment.read(offset).unwrap().unwrap();
        let offsets = check_fetch(&fetch);
        assert_eq!(offsets[0], offset);
        assert!(offsets.len() <= 3);
        // read_range returns whole batches up to the byte limit.
        let fetch = segment.read_range(offset, 1000).unwrap();
        assert!(fetch.bytes().len() <= 1000 || fetch.batches().count() == 1);
        assert_eq!(check_fetch(&fetch)[0], offset);
    }
    assert!(segment.read(250).unwrap().is_none());
    assert!(segment.read_range(250, 100).unwrap().is_empty());
    assert!(matches!(
        segment.read(49),
        Err(LogError::OffsetOutOfRange { offset: 49, .. })
    ));
    assert!(matches!(
        segment.read_range(251, 9),
        Err(LogError::OffsetOutOfRange { .. })
    ));
}

#[test]
fn a_big_read_returns_everything_and_a_small_one_at_least_one_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut segment =
        Segment::create_with(dir.path(), 0, LogConfig::default(), VecBuffers).unwrap();
    fill(|r| segment.append_batch(r), 0, 100, 7);
    let all = segment.read_range(0, usize::MAX).unwrap();
    assert_eq!(all.bytes().len(), segment.size() as usize);
    assert_eq!(check_fetch(&all), (0..100).collect::<Vec<_>>());
    let one = segment.read_range(0, 1).unwrap();
    assert_eq!(check_fetch(&one), (0..7).collect::<Vec<_>>());
}

#[test]
fn truncate_to_cuts_inside_a_batch_and_at_its_edges() {
    for cut in [0u64, 1, 3, 6, 7, 8, 13, 20, 21] {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig::default().with_index_interval_bytes(0);
        let mut segment = Segment::create(dir.path(), 0, config).unwrap();
        fill(|r| segment.append_batch(r), 0, 21, 7);
        segment.truncate_to(cut).unwrap();
        assert_eq!(segment.next_offset(), cut);
        if cut > 0 {
            let fetch = segment.read_range(0, usize::MAX).unwrap();
            assert_eq!(
                check_fetch(&fetch),
                (0..cut).collect::<Vec<_>>(),
                "cut {cut}"
            );
        }
        // The index has no entry past the cut, and the segment reopens clean.
        let index = read_offset_index(dir.path(), 0);
        assert!(
            index
                .iter()
                .all(|&(rel, pos)| u64::from(rel) < cut && pos < segment.size())
        );
        fill(|r| segment.append_batch(r), cut, 30, 4);
        drop(segment);
        let segment = Segment::open(dir.path(), 0, config).unwrap();
        assert_eq!(segment.recovery().truncated_bytes, 0, "cut {cut}");
        assert_eq!(
            check_fetch(&segment.read_range(0, usize::MAX).unwrap()),
            (0..30).collect::<Vec<_>>()
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let mut segment = Segment::create(dir.path(), 10, LogConfig::default()).unwrap();
    assert!(matches!(
        segment.truncate_to(9),
        Err(LogError::OffsetOutOfRange { .. })
    ));
    assert!(matches!(
        segment.truncate_to(11),
        Err(LogError::OffsetOutOfRange { .. })
    ));
    segment.truncate_to(10).unwrap();
}

#[test]
fn find_offset_by_timestamp_matches_brute_force() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig::default().with_index_interval_bytes(200);
    let mut segment = Segment::create(dir.path(), 0, config).unwrap();
    // owned(i) timestamps go up and down: 1000 + 7i mod 50.
    fill(|r| segment.append_batch(r), 0, 120, 4);
    let times = read_time_index(dir.path(), 0);
    assert!(!times.is_empty());
    assert!(
        times.windows(2).all(|w| w[0].0 < w[1].0),
        "time index increases"
    );
    for target in 990..1060 {
        let want = (0..120u64).find(|&i| owned(i).timestamp >= target);
        assert_eq!(
            segment.find_offset_by_timestamp(target).unwrap(),
            want,
            "ts {target}"
        );
    }
    drop(segment);
    let segment = Segment::open(dir.path(), 0, config).unwrap();
    assert_eq!(read_time_index(dir.path(), 0), times, "rebuilt the same");
    assert_eq!(segment.find_offset_by_timestamp(1049).unwrap(), Some(7));
}

#[test]
fn oversized_and_empty_batches_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig::default().with_max_batch_bytes(1000);
    let mut segment = Segment::create(dir.path(), 0, config).unwrap();
    let big = vec![0u8; 1000];
    let error = segment
        .append(&Record::new(0, None, Some(&big)))
        .unwrap_err();
    assert!(
        matches!(
            error,
            LogError::TooLarge {
                what: "batch",
                limit: 1000,
                ..
            }
        ),
        "{error}"
    );
    assert!(matches!(
        segment.append_batch(&[]),
        Err(LogError::EmptyBatch)
    ));
    assert_eq!((segment.size(), segment.next_offset()), (0, 0));
}

#[test]
fn null_keys_values_and_headers_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut segment = Segment::create(dir.path(), 0, LogConfig::default()).unwrap();
    let headers = [
        takhin_log::Header::new("ä", None),
        takhin_log::Header::new("b", Some(b"")),
    ];
    segment
        .append(&Record::new(-5, None, None).with_headers(&headers))
        .unwrap();
    drop(segment);
    let segment = Segment::open(dir.path(), 0, LogConfig::default()).unwrap();
    let fetch = segment.read(0).unwrap().unwrap();
    let record = fetch.records().next().unwrap().unwrap();
    assert_eq!(
        (record.timestamp, record.key, record.value),
        (-5, None, None)
    );
    let got: Vec<_> = record
        .headers
        .iter()
        .map(|h| (h.key_str().unwrap(), h.value))
        .collect();
    assert_eq!(got, [("ä", None), ("b", Some(&b""[..]))]);
}

#[test]
fn a_bad_config_is_refused_where_it_is_used_not_by_the_setter() {
    let dir = tempfile::tempdir().unwrap();
    // The setters accept anything.
    let zero = LogConfig::default().with_segment_bytes(0);
    let tiny = LogConfig::default().with_max_batch_bytes(60);
    for (config, setting) in [(zero, "segment_bytes"), (tiny, "max_batch_bytes")] {
        let is_invalid =
            |e: &LogError| matches!(e, LogError::InvalidConfig { setting: s, .. } if *s == setting);
        assert!(is_invalid(
            &Segment::create(dir.path(), 0, config).unwrap_err()
        ));
        assert!(is_invalid(
            &Segment::open(dir.path(), 0, config).unwrap_err()
        ));
        assert!(is_invalid(
            &takhin_log::Log::open(dir.path(), config).unwrap_err()
        ));
    }
    // Nothing was created by the refused calls.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
