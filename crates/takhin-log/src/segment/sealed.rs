//! Opening a sealed segment below the recovery point: trust its synced
//! index files and walk only the batch headers after the last index entry,
//! instead of reading and checking every batch.

use std::os::unix::fs::FileExt;

use super::index_policy::Tail;
use super::{Files, Recovery, Repair};
use crate::batch::{self, BATCH_HEADER_LEN};
use crate::index::{OffsetEntry, TimeEntry};
use crate::segment_name::LOG_SUFFIX;
use crate::{BufferSource, DecodeError, LogConfig, LogError, Segment};

impl<B: BufferSource> Segment<B> {
    /// Opens a segment that was sealed (rolled past). If `synced` (it lies
    /// below the recovery point), its index files are loaded and checked for
    /// shape, and the batch headers from the last indexed batch to the end
    /// of the file are walked, each checked for length and offset
    /// continuity. Otherwise, or if the index files do not fit the data
    /// file, every batch is checked (as [`Segment::open`] does, but failing
    /// rather than cutting).
    ///
    /// Never modifies the data file: a sealed segment that ends inside a
    /// batch, or whose batches do not follow on, is corrupt, and its
    /// records were acknowledged.
    pub(crate) fn open_sealed(
        dir: &std::path::Path,
        base_offset: u64,
        config: LogConfig,
        source: B,
        synced: bool,
    ) -> Result<Self, LogError> {
        let mut segment = Self::with_files(dir, base_offset, config, source, Files::Open)?;
        if !(synced && segment.load_sealed()?) {
            segment.recover(Repair::Never)?;
        }
        Ok(segment)
    }

    /// Loads the indexes and walks the tail; `false` if the index files do
    /// not describe this data file.
    fn load_sealed(&mut self) -> Result<bool, LogError> {
        let file_len = self.log.metadata()?.len();
        let Ok(size) = u32::try_from(file_len) else {
            return Ok(false);
        };
        let Some(offsets) = self.offset_index.load()? else {
            return Ok(false);
        };
        let offsets_fit = offsets
            .windows(2)
            .all(|w| w[0].relative_offset < w[1].relative_offset && w[0].position < w[1].position)
            && offsets.last().is_none_or(|e| e.position < size);
        let last_entry: Option<OffsetEntry> = offsets.last().copied();
        let Some(times) = self.time_index.load()? else {
            return Ok(false);
        };
        let times_fit = times.windows(2).all(|w| {
            w[0].timestamp < w[1].timestamp && w[0].relative_offset <= w[1].relative_offset
        }) && times.is_empty() == last_entry.is_none();
        let last_time: Option<TimeEntry> = times.last().copied();
        if !offsets_fit || !times_fit {
            return Ok(false);
        }
        let (mut position, mut walked_last) = match last_entry {
            Some(entry) => (entry.position, None),
            None => (0, Some(self.base_offset.wrapping_sub(1))),
        };
        let mut tail = Tail {
            size,
            next_offset: self.base_offset,
            bytes_since_index: size - position,
            max_timestamp: last_time
                .map(|t| (t.timestamp, self.base_offset + u64::from(t.relative_offset))),
            last_indexed_timestamp: last_time.map(|t| t.timestamp),
        };
        let mut batches = 0;
        while position < size {
            let corrupt = |source| LogError::CorruptSegment {
                path: self.path(LOG_SUFFIX),
                position: u64::from(position),
                source,
            };
            let left = (size - position) as usize;
            let mut header = [0u8; BATCH_HEADER_LEN];
            let header = &mut header[..left.min(BATCH_HEADER_LEN)];
            self.log.read_exact_at(header, u64::from(position))?;
            let max = left.min(self.config.max_batch_bytes() as usize);
            let summary = match batch::header_summary(header, max) {
                Ok(summary) => summary,
                // The last index entry points at no batch: distrust the index.
                Err(_) if walked_last.is_none() => return Ok(false),
                Err(error) => return Err(corrupt(error)),
            };
            match (walked_last, last_entry) {
                // The first batch walked is the last indexed one.
                (None, Some(entry))
                    if summary.last_offset
                        != self.base_offset + u64::from(entry.relative_offset) =>
                {
                    return Ok(false);
                }
                (Some(last), _) if summary.base_offset != last.wrapping_add(1) => {
                    return Err(corrupt(DecodeError::Field {
                        field: "base offset (expected the next offset)",
                        value: summary.base_offset as i64,
                    }));
                }
                _ => {}
            }
            if tail
                .max_timestamp
                .is_none_or(|(ts, _)| summary.max_timestamp > ts)
            {
                tail.max_timestamp = Some((summary.max_timestamp, summary.last_offset));
            }
            walked_last = Some(summary.last_offset);
            position += summary.len as u32;
            batches += 1;
        }
        if let Some(last) = walked_last {
            tail.next_offset = last.wrapping_add(1);
        }
        self.tail = tail;
        self.recovery = Recovery {
            valid_batches: batches,
            from_recovery_point: true,
            ..Recovery::default()
        };
        Ok(true)
    }
}
