//! Truncation: cut a segment back to an offset, or delete it.

use std::os::unix::fs::FileExt;
use std::{fs, io};

use super::Repair;
use crate::batch::BatchRef;
use crate::segment_name::{INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX};
use crate::{BufferSource, LogError, Segment, batch};

impl<B: BufferSource> Segment<B> {
    /// Removes every record at `offset` or above, so that `offset` becomes
    /// the next offset. A batch that straddles `offset` is cut in place: its
    /// header (count, last offset delta, max timestamp, length, CRC) is
    /// rewritten. The indexes are rebuilt.
    ///
    /// # Errors
    ///
    /// [`LogError::OffsetOutOfRange`] outside `base_offset..=next_offset`;
    /// [`LogError::Io`], [`LogError::Corrupt`] or a buffer error otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use takhin_log::{LogConfig, Record, Segment};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let mut segment = Segment::create(dir.path(), 0, LogConfig::default())?;
    /// let records = [Record::new(1, None, Some(b"a")), Record::new(2, None, Some(b"b"))];
    /// segment.append_batch(&records)?;
    /// segment.truncate_to(1)?;
    /// assert_eq!(segment.next_offset(), 1);
    /// assert_eq!(segment.append(&Record::new(3, None, Some(b"c")))?, 1);
    /// # Ok::<(), takhin_log::LogError>(())
    /// ```
    pub fn truncate_to(&mut self, offset: u64) -> Result<(), LogError> {
        if offset == self.tail.next_offset {
            return Ok(());
        }
        let (position, len) = self.locate(offset)?;
        let mut buf = self.source.take(len)?;
        self.log.read_exact_at(&mut buf, u64::from(position))?;
        let corrupt = |e| LogError::corrupt(u64::from(position), e);
        let batch = BatchRef::parse(&buf).map_err(corrupt)?;
        let base = batch.base_offset();
        let mut new_len = u64::from(position);
        if offset > base {
            let kept = batch::cut_before(&mut buf, offset).map_err(corrupt)?;
            self.log.write_all_at(&buf[..kept], u64::from(position))?;
            new_len += kept as u64;
        }
        drop(buf);
        self.log.set_len(new_len)?;
        self.recover(Repair::TornTail)?;
        // What was cut must not come back after a power loss.
        self.flush()
    }

    /// Deletes the segment's three files, consuming it. The data file goes
    /// first: a crash after it leaves only index files, which `Log::open`
    /// removes as orphans, and a crash before it leaves the whole segment.
    /// The caller syncs the directory.
    pub(crate) fn delete(self) -> Result<(), LogError> {
        fs::remove_file(self.path(LOG_SUFFIX))?;
        for suffix in [INDEX_SUFFIX, TIME_INDEX_SUFFIX] {
            match fs::remove_file(self.path(suffix)) {
                Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error.into()),
                _ => {}
            }
        }
        Ok(())
    }
}
