//! [`Segment`]: one data file of v2 batches plus its offset and time
//! indexes, named by base offset.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use mempool::BufferPool;

use crate::batch::{self, BATCH_HEADER_LEN, BatchRef, LOG_OVERHEAD, batch_size_from_prefix};
use crate::index::{IndexFile, OffsetEntry, TimeEntry};
use crate::{BufferSource, DecodeError, Fetch, LogConfig, LogError, Record};

/// Extension of the data file.
pub const LOG_SUFFIX: &str = "log";
/// Extension of the offset index.
pub const INDEX_SUFFIX: &str = "index";
/// Extension of the time index.
pub const TIME_INDEX_SUFFIX: &str = "timeindex";

/// The file name Kafka gives a segment file: the base offset in 20 zero
/// padded digits, then the extension.
///
/// # Examples
///
/// ```
/// assert_eq!(takhin_log::segment_file_name(42, "log"), "00000000000000000042.log");
/// ```
pub fn segment_file_name(base_offset: u64, suffix: &str) -> String {
    format!("{base_offset:020}.{suffix}")
}

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
}

/// One segment of a log: a data file of Kafka v2 record batches, plus an
/// offset index and a time index, all named by the segment's base offset.
///
/// ```text
/// 00000000000000001000.log        batches, back to back
/// 00000000000000001000.index      (last offset - 1000, position) per indexed batch
/// 00000000000000001000.timeindex  (max timestamp so far, offset - 1000)
/// ```
///
/// Appends encode into a buffer from the segment's [`BufferSource`] and write
/// it with one positional write; reads fill a buffer from the same source and
/// decode in place ([`Fetch`]). Writes are not buffered in user space, so a
/// crashed process loses nothing that `append` returned; [`Segment::flush`]
/// makes it survive a power loss too. Reopening scans and checks every batch,
/// cuts a torn or corrupt tail and rebuilds both indexes ([`Recovery`]).
///
/// `B` defaults to `&'static BufferPool`, the global pool. Pass [`VecBuffers`]
/// or a local pool to [`Segment::create_with`] / [`Segment::open_with`] to
/// change it.
///
/// [`VecBuffers`]: crate::VecBuffers
///
/// # Examples
///
/// ```
/// use takhin_log::{LogConfig, Record, Segment};
///
/// let dir = tempfile::tempdir()?;
/// let mut segment = Segment::create(dir.path(), 100, LogConfig::default())?;
/// assert_eq!(segment.append(&Record::new(7, Some(b"k"), Some(b"v")))?, 100);
/// segment.flush()?;
/// drop(segment);
///
/// let segment = Segment::open(dir.path(), 100, LogConfig::default())?;
/// assert_eq!(segment.next_offset(), 101);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Segment<B: BufferSource = &'static BufferPool> {
    dir: PathBuf,
    base_offset: u64,
    config: LogConfig,
    source: B,
    log: File,
    size: u32,
    next_offset: u64,
    offset_index: IndexFile<OffsetEntry>,
    time_index: IndexFile<TimeEntry>,
    bytes_since_index: u32,
    /// Largest timestamp so far and the last offset of its batch.
    max_timestamp: Option<(i64, u64)>,
    /// Timestamp of the last time index entry; entries strictly increase.
    last_indexed_timestamp: Option<i64>,
    recovery: Recovery,
}

impl Segment {
    /// Creates an empty segment in `dir` whose first offset is
    /// `base_offset`, using the global pool.
    ///
    /// # Errors
    ///
    /// [`LogError::Io`] if a file of that name exists or cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let segment = takhin_log::Segment::create(dir.path(), 0, Default::default())?;
    /// assert!(dir.path().join("00000000000000000000.log").exists());
    /// # Ok::<(), takhin_log::LogError>(())
    /// ```
    pub fn create(dir: &Path, base_offset: u64, config: LogConfig) -> Result<Self, LogError> {
        Self::create_with(dir, base_offset, config, mempool::global())
    }

    /// Opens an existing segment using the global pool, checking every batch
    /// and cutting a torn or corrupt tail; see [`Segment::open_with`].
    ///
    /// # Errors
    ///
    /// [`LogError::Io`] if the files cannot be opened, read or repaired.
    ///
    /// # Examples
    ///
    /// See [`Segment`].
    pub fn open(dir: &Path, base_offset: u64, config: LogConfig) -> Result<Self, LogError> {
        Self::open_with(dir, base_offset, config, mempool::global())
    }
}

impl<B: BufferSource> Segment<B> {
    /// As [`Segment::create`], taking buffers from `source`.
    ///
    /// # Errors
    ///
    /// [`LogError::Io`] if a file of that name exists or cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let pool = mempool::BufferPool::new();
    /// let segment = takhin_log::Segment::create_with(dir.path(), 0, Default::default(), &pool)?;
    /// assert_eq!(segment.size(), 0);
    /// # Ok::<(), takhin_log::LogError>(())
    /// ```
    pub fn create_with(
        dir: &Path,
        base_offset: u64,
        config: LogConfig,
        source: B,
    ) -> Result<Self, LogError> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create_new(true);
        Self::with_files(dir, base_offset, config, source, &options)
    }

    /// As [`Segment::open`], taking buffers from `source`.
    ///
    /// Reads the data file batch by batch from the start. A batch is kept if
    /// its length fits in the file and in `max_batch_bytes`, its magic is 2,
    /// its CRC-32C matches, its records decode and its base offset follows
    /// the previous batch. The file is cut at the first batch that fails, and
    /// both index files are rewritten from the kept batches.
    ///
    /// # Errors
    ///
    /// [`LogError::Io`] if the files cannot be opened, read or repaired.
    ///
    /// # Examples
    ///
    /// ```
    /// use takhin_log::{LogConfig, Record, Segment, VecBuffers};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let mut segment = Segment::create(dir.path(), 0, LogConfig::default())?;
    /// segment.append(&Record::new(0, None, Some(b"v")))?;
    /// drop(segment);
    /// // A torn tail: half a batch header.
    /// let path = dir.path().join("00000000000000000000.log");
    /// let mut bytes = std::fs::read(&path)?;
    /// bytes.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
    /// std::fs::write(&path, &bytes)?;
    ///
    /// let segment = Segment::open_with(dir.path(), 0, LogConfig::default(), VecBuffers)?;
    /// assert_eq!(segment.next_offset(), 1);
    /// assert_eq!(segment.recovery().truncated_bytes, 10);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_with(
        dir: &Path,
        base_offset: u64,
        config: LogConfig,
        source: B,
    ) -> Result<Self, LogError> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        let mut segment = Self::with_files(dir, base_offset, config, source, &options)?;
        segment.recover()?;
        Ok(segment)
    }

    fn with_files(
        dir: &Path,
        base_offset: u64,
        config: LogConfig,
        source: B,
        options: &OpenOptions,
    ) -> Result<Self, LogError> {
        let log = options.open(dir.join(segment_file_name(base_offset, LOG_SUFFIX)))?;
        let mut index_options = options.clone();
        index_options.append(true);
        let index = index_options.open(dir.join(segment_file_name(base_offset, INDEX_SUFFIX)))?;
        let time_index =
            index_options.open(dir.join(segment_file_name(base_offset, TIME_INDEX_SUFFIX)))?;
        Ok(Segment {
            dir: dir.to_path_buf(),
            base_offset,
            config,
            source,
            log,
            size: 0,
            next_offset: base_offset,
            offset_index: IndexFile::new(index),
            time_index: IndexFile::new(time_index),
            bytes_since_index: 0,
            max_timestamp: None,
            last_indexed_timestamp: None,
            recovery: Recovery::default(),
        })
    }

    /// Rebuilds size, next offset and both indexes from the data file,
    /// cutting it at the first batch that does not check out.
    fn recover(&mut self) -> Result<(), LogError> {
        let file_len = self.log.metadata()?.len();
        let limit = file_len.min(u64::from(u32::MAX));
        let mut offsets = Vec::new();
        let mut times = Vec::new();
        self.size = 0;
        self.next_offset = self.base_offset;
        self.bytes_since_index = 0;
        self.max_timestamp = None;
        self.last_indexed_timestamp = None;
        let mut recovery = Recovery::default();
        loop {
            let position = u64::from(self.size);
            let left = (limit - position) as usize;
            if left == 0 {
                break;
            }
            match self.check_batch_at(position, left) {
                Ok((len, last_offset, max_timestamp)) => {
                    let entry = self.note_batch(len, last_offset, max_timestamp);
                    if let Some((offset_entry, time_entry)) = entry {
                        offsets.push(offset_entry);
                        times.extend(time_entry);
                    }
                    recovery.valid_batches += 1;
                }
                Err(LogError::Corrupt { source, .. }) => {
                    recovery.reason = Some(source);
                    break;
                }
                Err(other) => return Err(other),
            }
        }
        if u64::from(self.size) < file_len {
            recovery.truncated_bytes = file_len - u64::from(self.size);
            recovery.reason.get_or_insert(DecodeError::Truncated {
                needed: BATCH_HEADER_LEN,
                available: 0,
            });
            // No sync: the cut is idempotent, a crash before it reaches the
            // disk only means the next open cuts again.
            self.log.set_len(u64::from(self.size))?;
        }
        self.offset_index.rewrite(offsets, self.source)?;
        self.time_index.rewrite(times, self.source)?;
        self.recovery = recovery;
        Ok(())
    }

    /// Reads and fully checks the batch at `position` with `left` bytes to
    /// the end of the file: (size, last offset, max timestamp).
    fn check_batch_at(&self, position: u64, left: usize) -> Result<(u32, u64, i64), LogError> {
        let corrupt = |e| LogError::corrupt(position, e);
        let max = left.min(self.config.max_batch_bytes() as usize);
        let prefix_len = LOG_OVERHEAD.min(left);
        let mut prefix = self.source.take(prefix_len)?;
        self.log.read_exact_at(&mut prefix, position)?;
        // The length is capped by the bytes present before anything is taken.
        let len = batch_size_from_prefix(&prefix, max).map_err(corrupt)?;
        drop(prefix);
        let mut buf = self.source.take(len)?;
        self.log.read_exact_at(&mut buf, position)?;
        let batch = BatchRef::parse(&buf).map_err(corrupt)?;
        batch.validate_records().map_err(corrupt)?;
        if batch.base_offset() != self.next_offset {
            return Err(corrupt(DecodeError::Field {
                field: "base offset (expected the next offset)",
                value: batch.base_offset() as i64,
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

    /// Advances size and next offset over a batch just written or checked,
    /// and returns the index entries it earns, as Kafka decides them.
    fn note_batch(
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
    /// The batch is encoded into one buffer from the segment's source and
    /// written with a single positional write. If the write fails, the
    /// segment is unchanged and the next append overwrites the partial bytes.
    ///
    /// # Errors
    ///
    /// [`LogError::EmptyBatch`] for no records; [`LogError::TooLarge`] if
    /// the batch exceeds `max_batch_bytes` or the segment would pass 4 GiB or
    /// 2^32 offsets; [`LogError::Io`] or a buffer error otherwise.
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

    pub(crate) fn append_encoded_len(
        &mut self,
        records: &[Record<'_>],
        len: usize,
    ) -> Result<u64, LogError> {
        let max_timestamp = records
            .iter()
            .map(|r| r.timestamp)
            .max()
            .unwrap_or(i64::MIN);
        let source = self.source;
        if self.config.compression() != crate::Compression::None {
            let (mut buf, len) =
                crate::compression::encode(records, len, self.config.compression(), source)?;
            return self.append_with(len, records.len() as u64, max_timestamp, |log, at, base| {
                buf[..8].copy_from_slice(&base.to_be_bytes());
                Ok(log.write_all_at(&buf[..len], at)?)
            });
        }
        self.append_with(
            len,
            records.len() as u64,
            max_timestamp,
            |log, position, base| {
                let mut buf = source.take(len)?;
                batch::encode(&mut buf, base, records);
                Ok(log.write_all_at(&buf, position)?)
            },
        )
    }

    /// Appends a batch of `len` bytes holding `count` offsets: checks the
    /// limits, lets `write` put the bytes at (file, position, base offset),
    /// then advances the segment and its indexes. If `write` fails, the
    /// segment is unchanged and the next append overwrites the partial bytes.
    pub(crate) fn append_with(
        &mut self,
        len: usize,
        count: u64,
        max_timestamp: i64,
        write: impl FnOnce(&File, u64, u64) -> Result<(), LogError>,
    ) -> Result<u64, LogError> {
        let max_batch = self.config.max_batch_bytes();
        if len > max_batch as usize {
            return Err(LogError::TooLarge {
                what: "batch",
                size: len as u64,
                limit: u64::from(max_batch),
            });
        }
        let new_size = u64::from(self.size) + len as u64;
        let last_offset = self.next_offset + count - 1;
        if new_size > u64::from(u32::MAX) || last_offset - self.base_offset > u64::from(u32::MAX) {
            return Err(LogError::TooLarge {
                what: "segment",
                size: new_size,
                limit: u64::from(u32::MAX),
            });
        }
        let base = self.next_offset;
        write(&self.log, u64::from(self.size), base)?;
        if let Some((offset_entry, time_entry)) =
            self.note_batch(len as u32, last_offset, max_timestamp)
        {
            self.offset_index.push(offset_entry, self.source)?;
            if let Some(time_entry) = time_entry {
                self.time_index.push(time_entry, self.source)?;
            }
        }
        Ok(base)
    }

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
        if offset >= self.next_offset && offset >= self.base_offset {
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
        if offset == self.next_offset {
            return Ok(Fetch::empty(offset));
        }
        let (position, first_len) = self.locate(offset)?;
        let left = (self.size - position) as usize;
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
    fn locate(&self, offset: u64) -> Result<(u32, usize), LogError> {
        if offset < self.base_offset || offset >= self.next_offset {
            return Err(LogError::OffsetOutOfRange {
                offset,
                start: self.base_offset,
                end: self.next_offset,
            });
        }
        let mut position = self.offset_index.lookup((offset - self.base_offset) as u32);
        let mut header = self.source.take(BATCH_HEADER_LEN)?;
        loop {
            let (len, batch_last_offset, _) = self.read_header(&mut header, position)?;
            if batch_last_offset >= offset {
                return Ok((position, len));
            }
            position += len as u32;
        }
    }

    /// Reads the fixed header at `position` into `header`: (size, last
    /// offset, max timestamp). Headers below `size` were checked on append
    /// or recovery; a failure here means the file changed underneath us.
    fn read_header(&self, header: &mut [u8], position: u32) -> Result<(usize, u64, i64), LogError> {
        let corrupt = |e| LogError::corrupt(u64::from(position), e);
        let left = (self.size - position) as usize;
        if left < BATCH_HEADER_LEN {
            return Err(corrupt(DecodeError::Truncated {
                needed: BATCH_HEADER_LEN,
                available: left,
            }));
        }
        self.log.read_exact_at(header, u64::from(position))?;
        let len = batch_size_from_prefix(header, left).map_err(corrupt)?;
        let get = |at: usize, n: usize| {
            header[at..at + n]
                .iter()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
        };
        let last_offset = get(0, 8) + get(23, 4);
        Ok((len, last_offset, get(35, 8) as i64))
    }

    /// The offset of the first record whose timestamp is at least
    /// `timestamp`, or `None` if there is none.
    ///
    /// The time index gives the first offset that can qualify; batches are
    /// scanned from there by header (max timestamp), and only the first
    /// matching batch is decoded.
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
        if self.max_timestamp.is_none_or(|(max, _)| max < timestamp) {
            return Ok(None);
        }
        let start = self
            .time_index
            .lookup(timestamp)
            .map_or(self.base_offset, |rel| self.base_offset + u64::from(rel));
        if start >= self.next_offset {
            return Ok(None);
        }
        let (mut position, _) = self.locate(start)?;
        let mut header = self.source.take(BATCH_HEADER_LEN)?;
        while position < self.size {
            let (len, _, max_ts) = self.read_header(&mut header, position)?;
            if max_ts >= timestamp {
                let fetch = self.read_range(self.offset_at(position)?, 0)?;
                let corrupt = |e| LogError::corrupt(u64::from(position), e);
                for batch in fetch.batches().take(1) {
                    let decoded = batch.map_err(corrupt)?.decompress(self.source)?;
                    for record in decoded.records() {
                        let record = record.map_err(corrupt)?;
                        if record.timestamp >= timestamp && record.offset >= start {
                            return Ok(Some(record.offset));
                        }
                    }
                }
            }
            position += len as u32;
        }
        Ok(None)
    }

    fn offset_at(&self, position: u32) -> Result<u64, LogError> {
        let mut prefix = self.source.take(8)?;
        self.log.read_exact_at(&mut prefix, u64::from(position))?;
        Ok(u64::from_be_bytes(prefix[..8].try_into().expect("8 bytes")))
    }

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
        if offset == self.next_offset {
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
        self.recover()
    }

    /// Makes everything appended so far durable (`fdatasync` on the data
    /// file and both indexes).
    ///
    /// # Errors
    ///
    /// [`LogError::Io`] if a sync fails.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mut segment = takhin_log::Segment::create(dir.path(), 0, Default::default())?;
    /// segment.append(&takhin_log::Record::new(0, None, Some(b"v")))?;
    /// segment.flush()?;
    /// # Ok::<(), takhin_log::LogError>(())
    /// ```
    pub fn flush(&mut self) -> Result<(), LogError> {
        self.log.sync_data()?;
        self.offset_index.sync()?;
        self.time_index.sync()
    }

    /// Deletes the segment's three files, consuming it.
    pub(crate) fn delete(self) -> Result<(), LogError> {
        for suffix in [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX] {
            fs::remove_file(self.dir.join(segment_file_name(self.base_offset, suffix)))?;
        }
        Ok(())
    }

    /// The first offset this segment can hold.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let segment = takhin_log::Segment::create(dir.path(), 9, Default::default())?;
    /// assert_eq!(segment.base_offset(), 9);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn base_offset(&self) -> u64 {
        self.base_offset
    }

    /// The offset the next appended record gets.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mut segment = takhin_log::Segment::create(dir.path(), 0, Default::default())?;
    /// segment.append(&takhin_log::Record::new(0, None, None))?;
    /// assert_eq!(segment.next_offset(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn next_offset(&self) -> u64 {
        self.next_offset
    }

    /// The data file's size in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mut segment = takhin_log::Segment::create(dir.path(), 0, Default::default())?;
    /// segment.append(&takhin_log::Record::new(0, None, None))?;
    /// assert_eq!(segment.size(), 68); // 61-byte header, 7-byte record
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn size(&self) -> u32 {
        self.size
    }

    /// The largest record timestamp in the segment, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mut segment = takhin_log::Segment::create(dir.path(), 0, Default::default())?;
    /// assert_eq!(segment.max_timestamp(), None);
    /// segment.append(&takhin_log::Record::new(42, None, None))?;
    /// assert_eq!(segment.max_timestamp(), Some(42));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_timestamp(&self) -> Option<i64> {
        self.max_timestamp.map(|(ts, _)| ts)
    }

    /// The number of entries in the offset index and the time index.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let config = takhin_log::LogConfig::default().with_index_interval_bytes(0);
    /// let mut segment = takhin_log::Segment::create(dir.path(), 0, config)?;
    /// for _ in 0..3 {
    ///     segment.append(&takhin_log::Record::new(0, None, None))?;
    /// }
    /// assert_eq!(segment.index_entries(), (2, 1)); // the first batch is never indexed
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn index_entries(&self) -> (usize, usize) {
        (
            self.offset_index.entries().len(),
            self.time_index.entries().len(),
        )
    }

    /// What the last open or truncation found; all zero for a new segment.
    ///
    /// # Examples
    ///
    /// See [`Recovery`].
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// The configuration the segment was opened with.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let segment = takhin_log::Segment::create(dir.path(), 0, Default::default())?;
    /// assert_eq!(*segment.config(), takhin_log::LogConfig::default());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn config(&self) -> &LogConfig {
        &self.config
    }
}
