//! Which batches earn index entries: Kafka's `index.interval.bytes` rule
//! for the offset index, and "only when the timestamp grew" for the time
//! index; kept in [`Tail`], the state that each batch at the end advances.

use crate::index::{OffsetEntry, TimeEntry};

/// Where a segment ends and what its indexes have seen: everything a batch
/// appended (or checked by recovery) advances. `Copy`, so that an append can
/// advance a copy and commit it only once every write succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tail {
    pub(super) size: u32,
    pub(super) next_offset: u64,
    pub(super) bytes_since_index: u32,
    /// Largest timestamp so far and the last offset of its batch.
    pub(super) max_timestamp: Option<(i64, u64)>,
    /// Timestamp of the last time index entry; entries strictly increase.
    pub(super) last_indexed_timestamp: Option<i64>,
}

/// The index entries one batch earns: an offset entry, and a time entry if
/// the segment's largest timestamp grew since the last one.
pub(super) type Entries = Option<(OffsetEntry, Option<TimeEntry>)>;

impl Tail {
    /// An empty segment starting at `base_offset`.
    pub(super) fn empty(base_offset: u64) -> Self {
        Tail {
            size: 0,
            next_offset: base_offset,
            bytes_since_index: 0,
            max_timestamp: None,
            last_indexed_timestamp: None,
        }
    }

    /// Advances over a batch of `len` bytes ending at `last_offset` in the
    /// segment based at `base_offset`, and returns the index entries it
    /// earns, as Kafka decides them.
    pub(super) fn note_batch(
        &mut self,
        base_offset: u64,
        index_interval_bytes: u32,
        len: u32,
        last_offset: u64,
        max_timestamp: i64,
    ) -> Entries {
        let position = self.size;
        if self.max_timestamp.is_none_or(|(ts, _)| max_timestamp > ts) {
            self.max_timestamp = Some((max_timestamp, last_offset));
        }
        let mut entries = None;
        if self.bytes_since_index > index_interval_bytes {
            let relative_offset = (last_offset - base_offset) as u32;
            let offset_entry = OffsetEntry {
                relative_offset,
                position,
            };
            let (ts, ts_offset) = self.max_timestamp.expect("set above");
            let time_entry = TimeEntry {
                timestamp: ts,
                relative_offset: (ts_offset - base_offset) as u32,
            };
            let newer = self.last_indexed_timestamp.is_none_or(|last| ts > last);
            if newer {
                self.last_indexed_timestamp = Some(ts);
            }
            entries = Some((offset_entry, newer.then_some(time_entry)));
            self.bytes_since_index = 0;
        }
        self.bytes_since_index = self.bytes_since_index.saturating_add(len);
        self.size += len;
        self.next_offset = last_offset + 1;
        entries
    }
}
