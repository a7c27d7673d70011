//! Reading: locate a batch through the sparse offset index, fetch whole
//! batches, and search by timestamp.

use std::os::unix::fs::FileExt;

use crate::batch::{self, BATCH_HEADER_LEN, HeaderSummary, LOG_OVERHEAD, batch_size_from_prefix};
use crate::{BufferSource, DecodeError, Fetch, LogError, Segment};

impl<B: BufferSource> Segment<B> {
    /// Reads the batch that holds `offset`; `Ok(None)` at or past the end.
    /// The fetch's first record is the one at `offset`.
    ///
    /// # Errors
    ///
    /// [`LogError::OffsetOutOfRange`] below the base offset;
    /// [`LogError::Io`], [`LogError::Corrupt`] or a buffer error otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use takhin_log::{LogConfig, Record, Segment};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let mut segment = Segment::create(dir.path(), 0, LogConfig::default())?;
    /// segment.append_batch(&[Record::new(1, None, Some(b"a")), Record::new(2, None, Some(b"b"))])?;
    /// let fetch = segment.read(1)?.unwrap();
    /// assert_eq!(fetch.records().next().unwrap()?.value, Some(&b"b"[..]));
    /// assert!(segment.read(2)?.is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read(&self, offset: u64) -> Result<Option<Fetch<B::Buf>>, LogError> {
        if offset >= self.tail.next_offset && offset >= self.base_offset {
            return Ok(None);
        }
        self.read_range(offset, 0).map(Some)
    }

    /// Reads whole batches from the one holding `offset`, up to `max_bytes`
    /// in total, but always at least that first batch (as Kafka fetches
    /// do). At the end offset it returns an empty fetch.
    ///
    /// Costs one index binary search, one positional read per batch header
    /// scanned from the indexed position, and one read of the data.
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
    /// for i in 0..10 {
    ///     segment.append(&Record::new(i, None, Some(&[0; 100])))?;
    /// }
    /// let fetch = segment.read_range(3, 400)?;
    /// let offsets: Vec<u64> = fetch.records().map(|r| r.map(|r| r.offset)).collect::<Result<_, _>>()?;
    /// assert_eq!(offsets, [3, 4]); // each batch is 172 bytes
    /// assert!(segment.read_range(10, 400)?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_range(&self, offset: u64, max_bytes: usize) -> Result<Fetch<B::Buf>, LogError> {
        if offset == self.tail.next_offset {
            return Ok(Fetch::empty(offset));
        }
        let (position, first_len) = self.locate(offset)?;
        let left = (self.tail.size - position) as usize;
        let want = max_bytes.clamp(first_len, left);
        let mut buf = self.source.take(want)?;
        self.log.read_exact_at(&mut buf, u64::from(position))?;
        // Keep whole batches only.
        let mut len = 0;
        while want - len >= LOG_OVERHEAD {
            match batch_size_from_prefix(&buf[len..], want - len) {
                Ok(n) => len += n,
                Err(_) => break,
            }
        }
        Ok(Fetch::new(buf, len.max(first_len), offset))
    }

    /// Finds the batch holding `offset`: (position, size).
    pub(super) fn locate(&self, offset: u64) -> Result<(u32, usize), LogError> {
        if offset < self.base_offset || offset >= self.tail.next_offset {
            return Err(LogError::OffsetOutOfRange {
                offset,
                start: self.base_offset,
                end: self.tail.next_offset,
            });
        }
        let mut position = self.offset_index.lookup((offset - self.base_offset) as u32);
        loop {
            let header = self.read_header(position)?;
            if header.last_offset >= offset {
                return Ok((position, header.len));
            }
            position += header.len as u32;
        }
    }

    /// Reads the fixed header of the batch at `position`. Headers below
    /// `size` were checked on append or recovery; a failure here means the
    /// file changed underneath us.
    fn read_header(&self, position: u32) -> Result<HeaderSummary, LogError> {
        let corrupt = |e| LogError::corrupt(u64::from(position), e);
        let left = (self.tail.size - position) as usize;
        if left < BATCH_HEADER_LEN {
            return Err(corrupt(DecodeError::Truncated {
                needed: BATCH_HEADER_LEN,
                available: left,
            }));
        }
        let mut header = [0u8; BATCH_HEADER_LEN];
        self.log.read_exact_at(&mut header, u64::from(position))?;
        batch::header_summary(&header, left).map_err(corrupt)
    }

    /// The offset of the first record whose timestamp is at least
    /// `timestamp`, or `None` if there is none.
    ///
    /// The time index gives the first offset that can qualify; batches are
    /// scanned from there by header (max timestamp), and only the first
    /// matching batch is decoded (decompressed into a buffer from the
    /// segment's source, if it is compressed).
    ///
    /// # Errors
    ///
    /// [`LogError::Io`], [`LogError::Corrupt`] or a buffer error.
    ///
    /// # Examples
    ///
    /// ```
    /// use takhin_log::{LogConfig, Record, Segment};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let mut segment = Segment::create(dir.path(), 0, LogConfig::default())?;
    /// segment.append_batch(&[Record::new(10, None, None), Record::new(20, None, None)])?;
    /// segment.append(&Record::new(30, None, None))?;
    /// assert_eq!(segment.find_offset_by_timestamp(15)?, Some(1));
    /// assert_eq!(segment.find_offset_by_timestamp(30)?, Some(2));
    /// assert_eq!(segment.find_offset_by_timestamp(31)?, None);
    /// # Ok::<(), takhin_log::LogError>(())
    /// ```
    pub fn find_offset_by_timestamp(&self, timestamp: i64) -> Result<Option<u64>, LogError> {
        if self
            .tail
            .max_timestamp
            .is_none_or(|(max, _)| max < timestamp)
        {
            return Ok(None);
        }
        let start = self
            .time_index
            .lookup(timestamp)
            .map_or(self.base_offset, |rel| self.base_offset + u64::from(rel));
        if start >= self.tail.next_offset {
            return Ok(None);
        }
        let (mut position, _) = self.locate(start)?;
        while position < self.tail.size {
            let header = self.read_header(position)?;
            if header.max_timestamp >= timestamp {
                if let Some(offset) = self.first_at_or_after(position, header, timestamp, start)? {
                    return Ok(Some(offset));
                }
            }
            position += header.len as u32;
        }
        Ok(None)
    }

    /// The first record at or after `start` with a timestamp of at least
    /// `timestamp` in the batch at `position`, decompressed if it is.
    fn first_at_or_after(
        &self,
        position: u32,
        header: HeaderSummary,
        timestamp: i64,
        start: u64,
    ) -> Result<Option<u64>, LogError> {
        let corrupt = |e| LogError::corrupt(u64::from(position), e);
        let fetch = self.read_range(header.base_offset, 0)?;
        let Some(batch) = fetch.batches().next() else {
            return Ok(None);
        };
        // `decompress` knows no position: give it this batch's.
        let decoded = match batch.map_err(corrupt)?.decompress(self.source) {
            Err(LogError::Corrupt { source, .. }) => return Err(corrupt(source)),
            decoded => decoded?,
        };
        for record in decoded.records() {
            let record = record.map_err(corrupt)?;
            if record.timestamp >= timestamp && record.offset >= start {
                return Ok(Some(record.offset));
            }
        }
        Ok(None)
    }
}
