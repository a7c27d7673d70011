//! [`Segment`]: the type, its files, its constructors and its accessors.
//!
//! Each job a segment does lives in its own file, read in this order:
//! `index_policy` (which batches earn index entries), `recovery` (reopening),
//! `append`, `read` and `truncate`.

mod append;
mod index_policy;
mod read;
mod recovery;
mod truncate;

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use mempool::BufferPool;

use crate::index::{IndexFile, OffsetEntry, TimeEntry};
use crate::segment_name::{INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, segment_file_name};
use crate::{BufferSource, LogConfig, LogError};

pub use recovery::Recovery;

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
/// decode in place ([`Fetch`](crate::Fetch)). Writes are not buffered in user space, so a
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
        config.validate()?;
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
