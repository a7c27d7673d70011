//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;

use takhin_log::{Fetch, Header, LogError, Record};

/// Deterministic record contents for offset `i`: a key, a value of a size
/// that varies with `i`, and a header on every third record.
pub struct Owned {
    pub timestamp: i64,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    pub headers: Vec<Header<'static>>,
}

pub fn owned(i: u64) -> Owned {
    Owned {
        timestamp: 1_000 + (i as i64 * 7) % 50,
        key: format!("key-{i}").into_bytes(),
        value: (0..(10 + i * 13 % 90))
            .map(|b| (b as u8) ^ (i as u8))
            .collect(),
        headers: if i % 3 == 0 {
            vec![Header::new("h", Some(b"x"))]
        } else {
            vec![]
        },
    }
}

pub fn as_record(o: &Owned) -> Record<'_> {
    Record::new(o.timestamp, Some(&o.key), Some(&o.value)).with_headers(&o.headers)
}

/// Checks every record of `fetch` against [`owned`], returning the offsets seen.
pub fn check_fetch<B: std::ops::Deref<Target = [u8]>>(fetch: &Fetch<B>) -> Vec<u64> {
    let mut offsets = Vec::new();
    for record in fetch.records() {
        let record = record.expect("stored records decode");
        let want = owned(record.offset);
        assert_eq!(record.timestamp, want.timestamp, "offset {}", record.offset);
        assert_eq!(record.key, Some(&want.key[..]));
        assert_eq!(record.value, Some(&want.value[..]));
        assert_eq!(record.headers.len(), want.headers.len());
        offsets.push(record.offset);
    }
    offsets
}

/// Appends records `from..to` as batches of `per_batch`.
pub fn fill(
    mut append: impl FnMut(&[Record<'_>]) -> Result<u64, LogError>,
    from: u64,
    to: u64,
    per_batch: u64,
) {
    let mut i = from;
    while i < to {
        let end = (i + per_batch).min(to);
        let owned: Vec<Owned> = (i..end).map(owned).collect();
        let records: Vec<Record<'_>> = owned.iter().map(as_record).collect();
        assert_eq!(append(&records).unwrap(), i);
        i = end;
    }
}

/// Reads the `.index` file: (relative offset, position) pairs.
pub fn read_offset_index(dir: &Path, base: u64) -> Vec<(u32, u32)> {
    let bytes = std::fs::read(dir.join(takhin_log::segment_file_name(base, "index"))).unwrap();
    assert_eq!(bytes.len() % 8, 0);
    bytes
        .chunks_exact(8)
        .map(|e| {
            (
                u32::from_be_bytes(e[..4].try_into().unwrap()),
                u32::from_be_bytes(e[4..].try_into().unwrap()),
            )
        })
        .collect()
}

/// Reads the `.timeindex` file: (timestamp, relative offset) pairs.
pub fn read_time_index(dir: &Path, base: u64) -> Vec<(i64, u32)> {
    let bytes = std::fs::read(dir.join(takhin_log::segment_file_name(base, "timeindex"))).unwrap();
    assert_eq!(bytes.len() % 12, 0);
    bytes
        .chunks_exact(12)
        .map(|e| {
            (
                i64::from_be_bytes(e[..8].try_into().unwrap()),
                u32::from_be_bytes(e[8..].try_into().unwrap()),
            )
        })
        .collect()
}
