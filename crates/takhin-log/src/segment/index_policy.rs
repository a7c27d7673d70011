//! Which batches earn index entries: Kafka's `index.interval.bytes` rule
//! for the offset index, and "only when the timestamp grew" for the time index.

use crate::index::{OffsetEntry, TimeEntry};
use crate::{BufferSource, Segment};

impl<B: BufferSource> Segment<B> {
    /// Advances size and next offset over a batch just written or checked,
    /// and returns the index entries it earns, as Kafka decides them.
    pub(super) fn note_batch(
        &mut self,
        len: u32,
        last_offset: u64,
        max_timestamp: i64,
    ) -> Option<(OffsetEntry, Option<TimeEntry>)> {
        let position = self.size;
        if self.max_timestamp.is_none_or(|(ts, _)| max_timestamp > ts) {
            self.max_timestamp = Some((max_timestamp, last_offset));
        }
        let mut entries = None;
        if self.bytes_since_index > self.config.index_interval_bytes() {
            let relative_offset = (last_offset - self.base_offset) as u32;
            let offset_entry = OffsetEntry {
                relative_offset,
                position,
            };
            let (ts, ts_offset) = self.max_timestamp.expect("set above");
            let time_entry = TimeEntry {
                timestamp: ts,
                relative_offset: (ts_offset - self.base_offset) as u32,
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
