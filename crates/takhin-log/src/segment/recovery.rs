//! Reopening a segment: check every batch from the start, cut a torn or
//! corrupt tail, rebuild both indexes, and report what was found.

use std::os::unix::fs::FileExt;

use super::MAX_OFFSET;
use super::index_policy::Tail;
use crate::batch::{BATCH_HEADER_LEN, BatchRef, LOG_OVERHEAD, batch_size_from_prefix};
use crate::segment_name::LOG_SUFFIX;
use crate::{BufferSource, DecodeError, LogError, Segment};

/// What reopening a segment found and repaired.
///
/// # Examples
///
/// ```
/// use takhin_log::{LogConfig, Record, Segment};
///
/// let dir = tempfile::tempdir()?;
/// let mut segment = Segment::create(dir.path(), 0, LogConfig::default())?;
/// segment.append(&Record::new(0, None, Some(b"v")))?;
/// drop(segment);
/// let segment = Segment::open(dir.path(), 0, LogConfig::default())?;
/// assert_eq!(segment.recovery().valid_batches, 1);
/// assert_eq!(segment.recovery().truncated_bytes, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recovery {
    /// Batches that checked out and were kept.
    pub valid_batches: u64,
    /// Bytes cut from the tail of the data file.
    pub truncated_bytes: u64,
    /// Why the tail was cut, if it was.
    pub reason: Option<DecodeError>,
    /// The segment lay below the log's recovery point (sealed and synced):
    /// its index files were trusted and only the batch headers after the
    /// last index entry were walked, counted in `valid_batches`. CRCs of
    /// such a segment are checked as batches are read, not at open.
    pub from_recovery_point: bool,
}

/// What recovery does with the first batch that does not check out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Repair {
    /// Cut the data file there: a torn tail, from a crash mid-append.
    TornTail,
    /// Fail with [`LogError::CorruptSegment`]: the segment was sealed and
    /// synced, so a bad batch is corruption, and what follows it was
    /// acknowledged.
    Never,
}

impl<B: BufferSource> Segment<B> {
    /// Rebuilds size, next offset and both indexes from the data file,
    /// checking every batch; the first one that does not check out is cut
    /// with everything after it, or is an error, as `repair` says.
    pub(super) fn recover(&mut self, repair: Repair) -> Result<(), LogError> {
        let file_len = self.log.metadata()?.len();
        let limit = file_len.min(u64::from(u32::MAX));
        let mut offsets = Vec::new();
        let mut times = Vec::new();
        self.tail = Tail::empty(self.base_offset);
        self.stale_bytes = false;
        let mut recovery = Recovery::default();
        loop {
            let position = u64::from(self.tail.size);
            let left = (limit - position) as usize;
            if left == 0 {
                break;
            }
            match self.check_batch_at(position, left) {
                Ok((len, last_offset, max_timestamp)) => {
                    let entry = self.tail.note_batch(
                        self.base_offset,
                        self.config.index_interval_bytes(),
                        len,
                        last_offset,
                        max_timestamp,
                    );
                    if let Some((offset_entry, time_entry)) = entry {
                        offsets.push(offset_entry);
                        times.extend(time_entry);
                    }
                    recovery.valid_batches += 1;
                }
                Err(LogError::Corrupt { position, source }) if repair == Repair::Never => {
                    return Err(LogError::CorruptSegment {
                        path: self.path(LOG_SUFFIX),
                        position,
                        source,
                    });
                }
                Err(LogError::Corrupt { source, .. }) => {
                    recovery.reason = Some(source);
                    break;
                }
                Err(other) => return Err(other),
            }
        }
        if u64::from(self.tail.size) < file_len {
            if repair == Repair::Never {
                return Err(LogError::CorruptSegment {
                    path: self.path(LOG_SUFFIX),
                    position: u64::from(self.tail.size),
                    source: DecodeError::Truncated {
                        needed: BATCH_HEADER_LEN,
                        available: (file_len - u64::from(self.tail.size)) as usize,
                    },
                });
            }
            recovery.truncated_bytes = file_len - u64::from(self.tail.size);
            recovery.reason.get_or_insert(DecodeError::Truncated {
                needed: BATCH_HEADER_LEN,
                available: 0,
            });
            self.log.set_len(u64::from(self.tail.size))?;
        }
        self.offset_index.rewrite(offsets, self.source)?;
        self.time_index.rewrite(times, self.source)?;
        if recovery.truncated_bytes > 0 {
            // Appends after the cut must not land behind stale bytes that
            // a power loss would bring back.
            self.flush()?;
        }
        self.recovery = recovery;
        Ok(())
    }

    /// Reads and fully checks the batch at `position` with `left` bytes to
    /// the end of the file: (size, last offset, max timestamp).
    fn check_batch_at(&self, position: u64, left: usize) -> Result<(u32, u64, i64), LogError> {
        let corrupt = |e| LogError::corrupt(position, e);
        let max = left.min(self.config.max_batch_bytes() as usize);
        let mut prefix = [0u8; LOG_OVERHEAD];
        let prefix = &mut prefix[..LOG_OVERHEAD.min(left)];
        self.log.read_exact_at(prefix, position)?;
        // The length is capped by the bytes present before anything is taken.
        let len = batch_size_from_prefix(prefix, max).map_err(corrupt)?;
        let mut buf = self.source.take(len)?;
        self.log.read_exact_at(&mut buf, position)?;
        let batch = BatchRef::parse(&buf).map_err(corrupt)?;
        batch.validate_records().map_err(corrupt)?;
        if batch.base_offset() != self.tail.next_offset {
            return Err(corrupt(DecodeError::Field {
                field: "base offset (expected the next offset)",
                value: batch.base_offset() as i64,
            }));
        }
        if batch.last_offset() >= MAX_OFFSET {
            return Err(corrupt(DecodeError::Field {
                field: "last offset (the next offset would pass i64::MAX)",
                value: batch.last_offset() as i64,
            }));
        }
        if batch.last_offset() - self.base_offset > u64::from(u32::MAX) {
            return Err(corrupt(DecodeError::Field {
                field: "last offset (beyond the segment's u32 range)",
                value: batch.last_offset() as i64,
            }));
        }
        Ok((len as u32, batch.last_offset(), batch.max_timestamp()))
    }
}
