//! [`Segment`]: the type, its files, its constructors and its accessors.
//!
//! Each job a segment does lives in its own file, read in this order:
//! `index_policy` (which batches earn index entries), `recovery` (reopening
//! by checking every batch), `sealed` (reopening below the recovery point),
//! `append`, `read` and `truncate`.

mod append;
mod index_policy;
mod read;
mod recovery;
mod sealed;
mod truncate;

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use mempool::BufferPool;

use crate::index::{IndexFile, OffsetEntry, TimeEntry};
use crate::segment_name::{INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, segment_file_name};
use crate::{BufferSource, LogConfig, LogError, durable};
use index_policy::Tail;

pub(crate) use append::BaseOffset;
pub use recovery::Recovery;
use recovery::Repair;

/// The largest offset a log can reach: Kafka offsets are `i64`, and the
/// next offset must be one too, so records get offsets below `i64::MAX`.
pub const MAX_OFFSET: u64 = i64::MAX as u64;

/// Whether [`Segment::with_files`] makes new files or opens existing ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Files {
    Create,
    Open,
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
/// decode in place ([`Fetch`](crate::Fetch)). Writes are not buffered in user space, so a
/// crashed process loses nothing that `append` returned; [`Segment::flush`]
/// makes it survive a power loss too. An append that fails leaves the
/// segment as it was. Reopening scans and checks every batch, cuts a torn or
/// corrupt tail and rebuilds both indexes ([`Recovery`]). A `Segment` takes
/// no lock: use it through a [`Log`](crate::Log), or make sure yourself that
/// one process writes it.
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
    /// What the files hold; advanced only when every write of a batch
    /// succeeded.
    tail: Tail,
    /// The data file may hold bytes past `tail.size` from a failed append
    /// whose cut failed too; the next append or flush cuts them first.
    stale_bytes: bool,
    offset_index: IndexFile<OffsetEntry>,
    time_index: IndexFile<TimeEntry>,
    recovery: Recovery,
}

impl Segment {
    /// Creates an empty segment in `dir` whose first offset is
    /// `base_offset`, using the global pool.
    ///
    /// # Errors
    ///
    /// [`LogError::Io`] if a data file of that name exists or a file cannot
    /// be created (what was created is removed again);
    /// [`LogError::OffsetOverflow`] above [`MAX_OFFSET`];
    /// [`LogError::InvalidConfig`].
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
    /// [`LogError::Io`] if the files cannot be opened, read or repaired;
    /// [`LogError::OffsetOverflow`] above [`MAX_OFFSET`];
    /// [`LogError::InvalidConfig`]; a buffer error if the source cannot hand
    /// out a buffer as large as a stored batch (nothing is cut then).
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
    /// [`LogError::Io`] if a data file of that name exists or a file cannot
    /// be created (what was created is removed again);
    /// [`LogError::OffsetOverflow`] above [`MAX_OFFSET`];
    /// [`LogError::InvalidConfig`].
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
        Self::with_files(dir, base_offset, config, source, Files::Create)
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
    /// [`LogError::Io`] if the files cannot be opened, read or repaired;
    /// [`LogError::OffsetOverflow`] above [`MAX_OFFSET`];
    /// [`LogError::InvalidConfig`]; a buffer error if the source cannot hand
    /// out a buffer as large as a stored batch (nothing is cut then).
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
        let mut segment = Self::with_files(dir, base_offset, config, source, Files::Open)?;
        segment.recover(Repair::TornTail)?;
        Ok(segment)
    }

    fn with_files(
        dir: &Path,
        base_offset: u64,
        config: LogConfig,
        source: B,
        files: Files,
    ) -> Result<Self, LogError> {
        config.validate()?;
        if base_offset > MAX_OFFSET {
            return Err(LogError::OffsetOverflow {
                offset: base_offset,
                limit: MAX_OFFSET,
            });
        }
        let path = |suffix| dir.join(segment_file_name(base_offset, suffix));
        let create = matches!(files, Files::Create);
        let mut options = OpenOptions::new();
        options.read(true).write(true);
        if create {
            options.create_new(true);
        } else {
            options.create(true).truncate(false);
        }
        let log = options.open(path(LOG_SUFFIX))?;
        // Index files only mirror the data file: a new segment replaces
        // whatever a crash or a failed roll left under its name.
        let mut index_options = OpenOptions::new();
        index_options
            .read(true)
            .write(true)
            .create(true)
            .truncate(create);
        let opened = index_options.open(path(INDEX_SUFFIX)).and_then(|index| {
            let time_index = index_options.open(path(TIME_INDEX_SUFFIX))?;
            if create {
                durable::sync_dir(dir)?;
            }
            Ok((index, time_index))
        });
        let (index, time_index) = match opened {
            Ok(files) => files,
            Err(error) => {
                if create {
                    // Data file first: without it the others are orphans
                    // that `Log::open` removes.
                    for suffix in [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX] {
                        let _ = fs::remove_file(path(suffix));
                    }
                }
                return Err(error.into());
            }
        };
        Ok(Segment {
            dir: dir.to_path_buf(),
            base_offset,
            config,
            source,
            log,
            tail: Tail::empty(base_offset),
            stale_bytes: false,
            offset_index: IndexFile::new(index),
            time_index: IndexFile::new(time_index),
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
        if self.stale_bytes {
            self.cut_stale_bytes()?;
        }
        self.log.sync_data()?;
        self.offset_index.sync()?;
        self.time_index.sync()
    }

    /// The path of one of the segment's files.
    pub(crate) fn path(&self, suffix: &str) -> PathBuf {
        self.dir.join(segment_file_name(self.base_offset, suffix))
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
        self.tail.next_offset
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
        self.tail.size
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
        self.tail.max_timestamp.map(|(ts, _)| ts)
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
