//! Appending: encode records into one pooled buffer (compressed if the
//! configuration says so), or take a client's batch as it is, then write
//! the batch at the segment's end and index it.

use std::os::unix::fs::FileExt;

use super::MAX_OFFSET;
use super::index_policy::Entries;
use crate::batch::{BASE_OFFSET_LEN, base_offset_field};
use crate::{BufferSource, Compression, LogError, Record, Segment, batch, compression};

/// Where the batch given to [`Segment::write_batch`] gets its base offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BaseOffset {
    /// The bytes hold the segment's next offset already (batches we encode).
    Encoded,
    /// A client's batch: its base offset field is replaced by the next
    /// offset as it is written, so that the batch is not copied.
    Rewritten,
}

impl<B: BufferSource> Segment<B> {
    /// Appends one record as a batch of one and returns its offset.
    ///
    /// # Errors
    ///
    /// As [`Segment::append_batch`].
    ///
    /// # Examples
    ///
    /// See [`Segment`].
    pub fn append(&mut self, record: &Record<'_>) -> Result<u64, LogError> {
        self.append_batch(std::slice::from_ref(record))
    }

    /// Appends `records` as one v2 batch and returns the offset of the first.
    ///
    /// The batch is encoded into one buffer from the segment's source (and
    /// compressed into a second, with the codec of
    /// [`LogConfig::with_compression`](crate::LogConfig::with_compression))
    /// and written with a single positional write, then indexed. If any write
    /// fails, the segment is left as it was (the data file is cut back), so
    /// retrying the append writes no duplicate.
    ///
    /// # Errors
    ///
    /// [`LogError::EmptyBatch`] for no records; [`LogError::TooLarge`] if
    /// the batch (compressed, if it is) exceeds `max_batch_bytes` or the
    /// segment would pass 4 GiB or
    /// 2^32 offsets; [`LogError::OffsetOverflow`] if a record's offset would
    /// reach [`MAX_OFFSET`](crate::MAX_OFFSET); [`LogError::Io`] or a buffer
    /// error otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use takhin_log::{LogConfig, Record, Segment};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let mut segment = Segment::create(dir.path(), 0, LogConfig::default())?;
    /// let records = [Record::new(1, None, Some(b"a")), Record::new(2, None, Some(b"b"))];
    /// assert_eq!(segment.append_batch(&records)?, 0);
    /// assert_eq!(segment.append_batch(&records)?, 2);
    /// assert!(segment.append_batch(&[]).is_err());
    /// # Ok::<(), takhin_log::LogError>(())
    /// ```
    pub fn append_batch(&mut self, records: &[Record<'_>]) -> Result<u64, LogError> {
        let len = batch::encoded_len(records)?;
        self.append_encoded_len(records, len)
    }

    /// Encodes `records` (whose encoded size `len` the caller computed with
    /// `batch::encoded_len`) into one buffer, compresses it if configured,
    /// and writes it.
    pub(crate) fn append_encoded_len(
        &mut self,
        records: &[Record<'_>],
        len: usize,
    ) -> Result<u64, LogError> {
        let base = self.tail.next_offset;
        let count = records.len() as u64;
        match self.config.compression() {
            Compression::None => {
                self.check_room(len, count)?;
                let mut buf = self.source.take(len)?;
                batch::encode(&mut buf, base, records);
                self.write_batch(&buf, BaseOffset::Encoded)?;
                Ok(base)
            }
            codec => {
                let (buf, len) = compression::encode(records, len, base, codec, self.source)?;
                self.append_encoded(&buf[..len], count, BaseOffset::Encoded)
            }
        }
    }

    /// Appends a batch encoded elsewhere that holds `count` offsets: checks
    /// it fits ([`check_room`](Self::check_room)), then writes it.
    pub(crate) fn append_encoded(
        &mut self,
        bytes: &[u8],
        count: u64,
        base_offset: BaseOffset,
    ) -> Result<u64, LogError> {
        let base = self.tail.next_offset;
        self.check_room(bytes.len(), count)?;
        self.write_batch(bytes, base_offset)?;
        Ok(base)
    }

    /// Checks that a batch of `len` bytes and `count` records fits the batch
    /// limit, Kafka's `i64` offsets, and the segment's `u32` positions and
    /// relative offsets.
    pub(crate) fn check_room(&self, len: usize, count: u64) -> Result<(), LogError> {
        let max_batch = self.config.max_batch_bytes();
        if len > max_batch as usize {
            return Err(LogError::TooLarge {
                what: "batch",
                size: len as u64,
                limit: u64::from(max_batch),
            });
        }
        // `count` is at most i32::MAX and next_offset at most MAX_OFFSET.
        let end = self.tail.next_offset + count;
        if end > MAX_OFFSET {
            return Err(LogError::OffsetOverflow {
                offset: end - 1,
                limit: MAX_OFFSET,
            });
        }
        let new_size = u64::from(self.tail.size) + len as u64;
        if new_size > u64::from(u32::MAX) || end - 1 - self.base_offset > u64::from(u32::MAX) {
            return Err(LogError::TooLarge {
                what: "segment",
                size: new_size,
                limit: u64::from(u32::MAX),
            });
        }
        Ok(())
    }

    /// Writes one checked batch, which [`check_room`](Self::check_room)
    /// accepted, at the end of the data file with the next offset as its
    /// base offset (as `base_offset` says), then its index entries.
    ///
    /// Either every write succeeds and the batch is committed, or the
    /// segment is left as it was: the data file is cut back and the index
    /// entries are not kept, so a caller that retries writes no duplicate.
    pub(crate) fn write_batch(
        &mut self,
        bytes: &[u8],
        base_offset: BaseOffset,
    ) -> Result<(), LogError> {
        let mut header = batch::header_summary(bytes, bytes.len())
            .map_err(|e| LogError::corrupt(u64::from(self.tail.size), e))?;
        let base = self.tail.next_offset;
        match base_offset {
            BaseOffset::Encoded => debug_assert_eq!(header.base_offset, base),
            BaseOffset::Rewritten => {
                header.last_offset = base + (header.last_offset - header.base_offset);
                header.base_offset = base;
            }
        }
        if self.stale_bytes {
            self.cut_stale_bytes()?;
        }
        let mut tail = self.tail;
        let entries = tail.note_batch(
            self.base_offset,
            self.config.index_interval_bytes(),
            bytes.len() as u32,
            header.last_offset,
            header.max_timestamp,
        );
        match self.write_batch_and_entries(bytes, base_offset, entries) {
            Ok(()) => {
                self.tail = tail;
                Ok(())
            }
            Err(error) => {
                // The bytes would come back on reopen: cut them now, or
                // before the next append if that fails too.
                self.stale_bytes = true;
                let _ = self.cut_stale_bytes();
                Err(error)
            }
        }
    }

    fn write_batch_and_entries(
        &mut self,
        bytes: &[u8],
        base_offset: BaseOffset,
        entries: Entries,
    ) -> Result<(), LogError> {
        let position = u64::from(self.tail.size);
        match base_offset {
            BaseOffset::Encoded => self.log.write_all_at(bytes, position)?,
            BaseOffset::Rewritten => {
                // The rest first: a crash between the two writes leaves
                // zeros (a hole) for the base offset, so recovery cuts the
                // batch, unless 0 is its offset, and then it is whole.
                let rest = &bytes[BASE_OFFSET_LEN..];
                self.log
                    .write_all_at(rest, position + BASE_OFFSET_LEN as u64)?;
                let field = base_offset_field(self.tail.next_offset);
                self.log.write_all_at(&field, position)?;
            }
        }
        if let Some((offset_entry, time_entry)) = entries {
            self.offset_index.push(offset_entry)?;
            if let Some(time_entry) = time_entry {
                if let Err(error) = self.time_index.push(time_entry) {
                    self.offset_index.pop();
                    return Err(error);
                }
            }
        }
        Ok(())
    }

    /// Cuts the data file back to the committed size.
    pub(super) fn cut_stale_bytes(&mut self) -> Result<(), LogError> {
        self.log.set_len(u64::from(self.tail.size))?;
        self.stale_bytes = false;
        Ok(())
    }
}
