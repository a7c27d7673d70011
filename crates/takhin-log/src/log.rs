//! [`Log`]: a directory of rolling segments.

use std::fs;
use std::path::{Path, PathBuf};

use mempool::BufferPool;

use crate::segment::LOG_SUFFIX;
use crate::{BufferSource, Fetch, LogConfig, LogError, Record, Segment, batch};

/// A log: a directory of [`Segment`]s in offset order, appending to the
/// last one and rolling to a new one when it would pass
/// [`LogConfig::segment_bytes`].
///
/// ```text
/// dir/00000000000000000000.{log,index,timeindex}   sealed
/// dir/00000000000000052811.{log,index,timeindex}   active (appends go here)
/// ```
///
/// # Examples
///
/// ```
/// use takhin_log::{Log, LogConfig, Record};
///
/// let dir = tempfile::tempdir()?;
/// let config = LogConfig::default().with_segment_bytes(1024);
/// let mut log = Log::open(dir.path(), config)?;
/// for i in 0..20 {
///     log.append(&Record::new(i, None, Some(&[1; 100])))?;
/// }
/// assert!(log.segments().len() > 1);
/// drop(log);
///
/// let log = Log::open(dir.path(), config)?;
/// assert_eq!(log.next_offset(), 20);
/// let fetch = log.read(19)?.unwrap();
/// assert_eq!(fetch.records().next().unwrap()?.timestamp, 19);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Log<B: BufferSource = &'static BufferPool> {
    dir: PathBuf,
    config: LogConfig,
    source: B,
    /// Never empty; sorted by base offset; each one's next offset is the
    /// following one's base offset.
    segments: Vec<Segment<B>>,
}

impl Log {
    /// Opens the log in `dir` (created if missing) using the global pool;
    /// see [`Log::open_with`].
    ///
    /// # Errors
    ///
    /// As [`Log::open_with`].
    ///
    /// # Examples
    ///
    /// See [`Log`].
    pub fn open(dir: &Path, config: LogConfig) -> Result<Self, LogError> {
        Self::open_with(dir, config, mempool::global())
    }
}

impl<B: BufferSource> Log<B> {
    /// Opens the log in `dir`, creating the directory and a first segment
    /// at offset 0 if there is none, taking buffers from `source`.
    ///
    /// Every segment is opened with [`Segment::open_with`], which checks
    /// and repairs it. If a segment ends short of the next one's base offset
    /// (its tail was torn), the later segments are deleted: they would leave
    /// a gap in the offsets.
    ///
    /// # Errors
    ///
    /// [`LogError::BadFileName`] for a `.log` file whose name is not a
    /// 20-digit offset; [`LogError::Io`] and the errors of segment opening.
    ///
    /// # Examples
    ///
    /// ```
    /// use takhin_log::{Log, LogConfig, VecBuffers};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let log = Log::open_with(dir.path(), LogConfig::default(), VecBuffers)?;
    /// assert_eq!((log.start_offset(), log.next_offset()), (0, 0));
    /// # Ok::<(), takhin_log::LogError>(())
    /// ```
    pub fn open_with(dir: &Path, config: LogConfig, source: B) -> Result<Self, LogError> {
        fs::create_dir_all(dir)?;
        let mut bases = Vec::new();
        for entry in fs::read_dir(dir)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            let Some(stem) = name
                .strip_suffix(LOG_SUFFIX)
                .and_then(|s| s.strip_suffix('.'))
            else {
                continue;
            };
            match stem.parse::<u64>() {
                Ok(base) if stem.len() == 20 => bases.push(base),
                _ => {
                    return Err(LogError::BadFileName {
                        name: name.into_owned(),
                    });
                }
            }
        }
        bases.sort_unstable();
        let mut segments: Vec<Segment<B>> = Vec::with_capacity(bases.len().max(1));
        let mut bases = bases.into_iter();
        for base in bases.by_ref() {
            if let Some(last) = segments.last() {
                if last.next_offset() != base {
                    // A torn earlier segment: later ones would leave a gap.
                    Segment::open_with(dir, base, config, source)?.delete()?;
                    continue;
                }
            }
            segments.push(Segment::open_with(dir, base, config, source)?);
        }
        if segments.is_empty() {
            segments.push(Segment::create_with(dir, 0, config, source)?);
        }
        Ok(Log {
            dir: dir.to_path_buf(),
            config,
            source,
            segments,
        })
    }

    fn active(&mut self) -> &mut Segment<B> {
        self.segments
            .last_mut()
            .expect("a log always has a segment")
    }

    /// Appends one record and returns its offset.
    ///
    /// # Errors
    ///
    /// As [`Log::append_batch`].
    ///
    /// # Examples
    ///
    /// See [`Log`].
    pub fn append(&mut self, record: &Record<'_>) -> Result<u64, LogError> {
        self.append_batch(std::slice::from_ref(record))
    }

    /// Appends `records` as one batch and returns the first one's offset,
    /// first rolling to a new segment if the batch would take the active one
    /// past [`LogConfig::segment_bytes`]. Rolling syncs the old segment.
    ///
    /// # Errors
    ///
    /// As [`Segment::append_batch`], plus the errors of creating a segment.
    ///
    /// # Examples
    ///
    /// ```
    /// use takhin_log::{Log, LogConfig, Record};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let mut log = Log::open(dir.path(), LogConfig::default())?;
    /// let batch = [Record::new(0, None, Some(b"a")), Record::new(0, None, Some(b"b"))];
    /// assert_eq!(log.append_batch(&batch)?, 0);
    /// assert_eq!(log.append_batch(&batch)?, 2);
    /// # Ok::<(), takhin_log::LogError>(())
    /// ```
    pub fn append_batch(&mut self, records: &[Record<'_>]) -> Result<u64, LogError> {
        let len = batch::encoded_len(records)?;
        self.active_for(len)?.append_encoded_len(records, len)
    }

    /// The segment a batch of `len` bytes goes to, rolling first if it would
    /// take the active one past [`LogConfig::segment_bytes`].
    pub(crate) fn active_for(&mut self, len: usize) -> Result<&mut Segment<B>, LogError> {
        let active = self.active();
        if active.size() > 0
            && u64::from(active.size()) + len as u64 > u64::from(self.config.segment_bytes())
        {
            self.roll()?;
        }
        Ok(self.active())
    }

    /// Seals the active segment (syncs it) and starts a new one at the next
    /// offset. Does nothing if the active segment is empty.
    ///
    /// # Errors
    ///
    /// [`LogError::Io`] if the sync or the file creation fails.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mut log = takhin_log::Log::open(dir.path(), Default::default())?;
    /// log.append(&takhin_log::Record::new(0, None, None))?;
    /// log.roll()?;
    /// assert_eq!(log.segments()[1].base_offset(), 1);
    /// # Ok::<(), takhin_log::LogError>(())
    /// ```
    pub fn roll(&mut self) -> Result<(), LogError> {
        let (dir, config, source) = (self.dir.clone(), self.config, self.source);
        let active = self.active();
        if active.size() == 0 {
            return Ok(());
        }
        active.flush()?;
        let next = active.next_offset();
        self.segments
            .push(Segment::create_with(&dir, next, config, source)?);
        Ok(())
    }

    fn segment_for(&self, offset: u64) -> Result<&Segment<B>, LogError> {
        let idx = self.segments.partition_point(|s| s.base_offset() <= offset);
        match idx.checked_sub(1) {
            Some(i) => Ok(&self.segments[i]),
            None => Err(LogError::OffsetOutOfRange {
                offset,
                start: self.start_offset(),
                end: self.next_offset(),
            }),
        }
    }

    /// Reads the batch that holds `offset`; `Ok(None)` at or past the end.
    ///
    /// # Errors
    ///
    /// [`LogError::OffsetOutOfRange`] below the start offset; otherwise as
    /// [`Segment::read`].
    ///
    /// # Examples
    ///
    /// See [`Log`].
    pub fn read(&self, offset: u64) -> Result<Option<Fetch<B::Buf>>, LogError> {
        if offset >= self.next_offset() {
            return Ok(None);
        }
        self.segment_for(offset)?.read(offset)
    }

    /// Reads whole batches from the one holding `offset`, up to `max_bytes`
    /// (but at least one batch), from a single segment.
    ///
    /// # Errors
    ///
    /// [`LogError::OffsetOutOfRange`] outside `start_offset..=next_offset`;
    /// otherwise as [`Segment::read_range`].
    ///
    /// # Examples
    ///
    /// See the crate docs.
    pub fn read_range(&self, offset: u64, max_bytes: usize) -> Result<Fetch<B::Buf>, LogError> {
        self.segment_for(offset)?.read_range(offset, max_bytes)
    }

    /// The offset of the first record whose timestamp is at least
    /// `timestamp`, or `None`.
    ///
    /// # Errors
    ///
    /// As [`Segment::find_offset_by_timestamp`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mut log = takhin_log::Log::open(dir.path(), Default::default())?;
    /// log.append(&takhin_log::Record::new(100, None, None))?;
    /// log.roll()?;
    /// log.append(&takhin_log::Record::new(200, None, None))?;
    /// assert_eq!(log.find_offset_by_timestamp(150)?, Some(1));
    /// # Ok::<(), takhin_log::LogError>(())
    /// ```
    pub fn find_offset_by_timestamp(&self, timestamp: i64) -> Result<Option<u64>, LogError> {
        for segment in &self.segments {
            if segment.max_timestamp().is_some_and(|max| max >= timestamp) {
                if let Some(offset) = segment.find_offset_by_timestamp(timestamp)? {
                    return Ok(Some(offset));
                }
            }
        }
        Ok(None)
    }

    /// Removes every record at `offset` or above; segments that start at or
    /// after it are deleted (the first segment is only emptied).
    ///
    /// # Errors
    ///
    /// [`LogError::OffsetOutOfRange`] outside `start_offset..=next_offset`;
    /// otherwise as [`Segment::truncate_to`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mut log = takhin_log::Log::open(dir.path(), Default::default())?;
    /// for i in 0..3 {
    ///     log.append(&takhin_log::Record::new(i, None, None))?;
    ///     log.roll()?;
    /// }
    /// log.truncate_to(1)?;
    /// assert_eq!((log.next_offset(), log.segments().len()), (1, 1));
    /// # Ok::<(), takhin_log::LogError>(())
    /// ```
    pub fn truncate_to(&mut self, offset: u64) -> Result<(), LogError> {
        let (start, end) = (self.start_offset(), self.next_offset());
        if offset < start || offset > end {
            return Err(LogError::OffsetOutOfRange { offset, start, end });
        }
        while self.segments.len() > 1
            && self
                .segments
                .last()
                .is_some_and(|s| s.base_offset() >= offset)
        {
            self.segments.pop().expect("checked above").delete()?;
        }
        self.active().truncate_to(offset)
    }

    /// Syncs the active segment (sealed ones were synced when they rolled).
    ///
    /// # Errors
    ///
    /// [`LogError::Io`] if a sync fails.
    ///
    /// # Examples
    ///
    /// See the crate docs.
    pub fn flush(&mut self) -> Result<(), LogError> {
        self.active().flush()
    }

    /// The first offset held.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let log = takhin_log::Log::open(dir.path(), Default::default())?;
    /// assert_eq!(log.start_offset(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start_offset(&self) -> u64 {
        self.segments[0].base_offset()
    }

    /// The offset the next record gets.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mut log = takhin_log::Log::open(dir.path(), Default::default())?;
    /// log.append(&takhin_log::Record::new(0, None, None))?;
    /// assert_eq!(log.next_offset(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn next_offset(&self) -> u64 {
        self.segments
            .last()
            .expect("a log always has a segment")
            .next_offset()
    }

    /// The segments, oldest first.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let log = takhin_log::Log::open(dir.path(), Default::default())?;
    /// assert_eq!(log.segments()[0].base_offset(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn segments(&self) -> &[Segment<B>] {
        &self.segments
    }

    /// Total bytes in all data files.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mut log = takhin_log::Log::open(dir.path(), Default::default())?;
    /// log.append(&takhin_log::Record::new(0, None, None))?;
    /// assert_eq!(log.size_bytes(), 68); // 61-byte header, 7-byte record
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn size_bytes(&self) -> u64 {
        self.segments.iter().map(|s| u64::from(s.size())).sum()
    }

    /// The directory the log lives in.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let log = takhin_log::Log::open(dir.path(), Default::default())?;
    /// assert_eq!(log.dir(), dir.path());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
