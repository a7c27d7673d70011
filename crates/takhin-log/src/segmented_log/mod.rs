//! [`Log`]: a directory of rolling segments; appending, rolling, reading
//! and truncating. Opening (and what it checks) is in `open`.

mod open;

use std::path::{Path, PathBuf};

use mempool::BufferPool;

use crate::dir_lock::DirLock;
use crate::segment::BaseOffset;
use crate::{
    BufferSource, Compression, Fetch, LogConfig, LogError, Record, Segment, batch, compression,
    durable, recovery_point,
};

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
    /// The stored recovery point: segments that end at or below it are
    /// sealed and synced.
    recovery_point: u64,
    /// Held for the life of the log.
    _lock: DirLock,
}

impl<B: BufferSource> Log<B> {
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
    /// first rolling to a new segment if the batch (compressed, with
    /// [`LogConfig::with_compression`]) would take the active one past
    /// [`LogConfig::segment_bytes`]. Rolling syncs the old segment.
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
        match self.config.compression() {
            Compression::None => self.active_for(len)?.append_encoded_len(records, len),
            // Compressed before the roll, which goes by the bytes written. A
            // roll keeps the next offset, so the batch's base offset holds.
            codec => {
                let base = self.next_offset();
                let (buf, len) = compression::encode(records, len, base, codec, self.source)?;
                self.active_for(len)?.append_encoded(
                    &buf[..len],
                    records.len() as u64,
                    BaseOffset::Encoded,
                )
            }
        }
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
    /// offset, then stores the new recovery point. Does nothing if the
    /// active segment is empty. A roll that fails removes the files it
    /// created, so the next one can succeed.
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
        // Creating syncs the directory; a failure removes what it created.
        self.segments
            .push(Segment::create_with(&dir, next, config, source)?);
        // Every segment below the new one is sealed and synced now. The
        // checkpoint only saves work at the next open, so failing to write
        // it does not fail the roll: the next roll tries again.
        if recovery_point::write(&dir, next).is_ok() {
            self.recovery_point = next;
        }
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
        // The segment that will be the last one is no longer sealed: the
        // last that starts below `offset`, or the first.
        let active_base = self
            .segments
            .iter()
            .rev()
            .find(|s| s.base_offset() < offset)
            .unwrap_or(&self.segments[0])
            .base_offset();
        if self.recovery_point > active_base {
            recovery_point::write(&self.dir, active_base)?;
            self.recovery_point = active_base;
        }
        let mut deleted = false;
        while self.segments.len() > 1
            && self
                .segments
                .last()
                .is_some_and(|s| s.base_offset() >= offset)
        {
            self.segments.pop().expect("checked above").delete()?;
            deleted = true;
        }
        if deleted {
            // The deletions must be durable before the cut: segments coming
            // back after a power loss would follow a shortened one.
            durable::sync_dir(&self.dir)?;
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

    /// The stored recovery point: every segment that ends at or below it
    /// was sealed and synced, so [`Log::open`] does not rescan it. It moves
    /// to the new segment's base offset at each roll.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mut log = takhin_log::Log::open(dir.path(), Default::default())?;
    /// assert_eq!(log.recovery_point(), 0);
    /// log.append(&takhin_log::Record::new(0, None, None))?;
    /// log.roll()?;
    /// assert_eq!(log.recovery_point(), 1);
    /// # Ok::<(), takhin_log::LogError>(())
    /// ```
    pub fn recovery_point(&self) -> u64 {
        self.recovery_point
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
