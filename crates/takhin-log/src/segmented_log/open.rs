//! Opening a log directory: take the lock, read and check the file names,
//! remove orphaned index files, open each segment (trusting those below the
//! recovery point), and check that the segments' offsets follow on.

use std::fs;
use std::path::Path;

use super::Log;
use crate::dir_lock::DirLock;
use crate::segment_name::{LOG_SUFFIX, SegmentFile, parse_segment_file_name};
use crate::{BufferSource, LogConfig, LogError, Segment, durable, recovery_point};

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
    /// Opening:
    /// 1. checks `config` ([`LogConfig::validate`]) and takes the directory
    ///    lock, a `flock` on `dir/.lock` held until the log is dropped;
    /// 2. reads the file names: a file with a segment suffix (`.log`,
    ///    `.index`, `.timeindex`) must be named by 20 ASCII digits of an
    ///    offset up to [`MAX_OFFSET`](crate::MAX_OFFSET); other files are
    ///    left alone. Index files without a data file (a crash inside a
    ///    deletion) are removed;
    /// 3. opens each segment. One that ends at or below the recovery point
    ///    ([`Log::recovery_point`]) was sealed and synced: its index files
    ///    are trusted and only its last batch headers are walked. Other
    ///    sealed segments are checked batch by batch. Either way a bad batch
    ///    in a sealed segment is an error, never a cut: its records were
    ///    acknowledged. Only the last (active) segment's torn tail is cut,
    ///    as [`Segment::open_with`] does;
    /// 4. checks that each segment ends where the next one starts.
    ///
    /// Nothing is ever deleted but orphaned index files and a torn tail.
    ///
    /// # Errors
    ///
    /// [`LogError::InvalidConfig`]; [`LogError::Locked`] if another `Log`
    /// has the directory open; [`LogError::BadFileName`] for a stray or
    /// hostile file name; [`LogError::CorruptSegment`] for a bad batch in a
    /// sealed segment; [`LogError::Overlap`] and [`LogError::Gap`] if two
    /// segments do not follow on (each names both files);
    /// [`LogError::Buffer`] if `source` cannot hand out a buffer as large as
    /// a stored batch (a pool whose largest buffer is below
    /// `max_batch_bytes`: nothing is cut, open with a larger pool);
    /// [`LogError::Io`] otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use takhin_log::{Log, LogConfig, LogError, VecBuffers};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let log = Log::open_with(dir.path(), LogConfig::default(), VecBuffers)?;
    /// assert_eq!((log.start_offset(), log.next_offset()), (0, 0));
    /// // One writer per directory.
    /// assert!(matches!(Log::open(dir.path(), LogConfig::default()), Err(LogError::Locked { .. })));
    /// # Ok::<(), takhin_log::LogError>(())
    /// ```
    pub fn open_with(dir: &Path, config: LogConfig, source: B) -> Result<Self, LogError> {
        config.validate()?;
        fs::create_dir_all(dir)?;
        let lock = DirLock::acquire(dir)?;
        let bases = segment_bases(dir)?;
        let recovery_point = recovery_point::read(dir)?;
        let mut segments: Vec<Segment<B>> = Vec::with_capacity(bases.len().max(1));
        for (i, &base) in bases.iter().enumerate() {
            let segment = match bases.get(i + 1) {
                Some(&next) => {
                    Segment::open_sealed(dir, base, config, source, next <= recovery_point)?
                }
                None => Segment::open_with(dir, base, config, source)?,
            };
            if let Some(&next) = bases.get(i + 1) {
                follows_on(&segment, next, dir)?;
            }
            segments.push(segment);
        }
        if segments.is_empty() {
            segments.push(Segment::create_with(dir, 0, config, source)?);
        }
        Ok(Log {
            dir: dir.to_path_buf(),
            config,
            source,
            segments,
            recovery_point,
            _lock: lock,
        })
    }
}

/// The base offsets of the data files in `dir`, sorted, after checking
/// every segment file name and removing index files that have no data file.
fn segment_bases(dir: &Path) -> Result<Vec<u64>, LogError> {
    let mut bases = Vec::new();
    let mut index_files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        match parse_segment_file_name(&name) {
            None => {}
            Some(Ok((base, SegmentFile::Data))) => bases.push(base),
            Some(Ok((base, _))) => index_files.push((base, name.into_owned())),
            Some(Err(())) => {
                return Err(LogError::BadFileName {
                    name: name.into_owned(),
                });
            }
        }
    }
    bases.sort_unstable();
    let mut removed = false;
    for (base, name) in index_files {
        if bases.binary_search(&base).is_err() {
            fs::remove_file(dir.join(name))?;
            removed = true;
        }
    }
    if removed {
        durable::sync_dir(dir)?;
    }
    Ok(bases)
}

/// Checks that `segment` ends where the segment based at `next` starts.
fn follows_on<B: BufferSource>(
    segment: &Segment<B>,
    next: u64,
    dir: &Path,
) -> Result<(), LogError> {
    let (earlier, later) = (
        segment.path(LOG_SUFFIX),
        dir.join(crate::segment_file_name(next, LOG_SUFFIX)),
    );
    let next_offset = segment.next_offset();
    match next_offset.cmp(&next) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Greater => Err(LogError::Overlap {
            earlier,
            later,
            next_offset,
        }),
        std::cmp::Ordering::Less => Err(LogError::Gap {
            earlier,
            later,
            next_offset,
        }),
    }
}
