//! The directory lock: a `.lock` file that a [`Log`](crate::Log) holds
//! `flock`ed for its whole life, as Kafka does, so that a second writer
//! cannot "repair" what the first one is still writing.

use std::fs::{File, OpenOptions};
use std::path::Path;

use rustix::fs::{FlockOperation, flock};

use crate::LogError;

/// The lock file's name in the log directory.
pub const LOCK_FILE: &str = ".lock";

/// An exclusive `flock` on a log directory's [`LOCK_FILE`], released when
/// dropped (or when the process dies, however it dies).
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    /// Takes the lock without waiting.
    ///
    /// `flock` locks belong to the open file, so a second `Log` in the same
    /// process is refused like one in another process.
    pub(crate) fn acquire(dir: &Path) -> Result<Self, LogError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(LOCK_FILE))?;
        flock(&file, FlockOperation::NonBlockingLockExclusive).map_err(|error| {
            LogError::Locked {
                dir: dir.to_path_buf(),
                source: error.into(),
            }
        })?;
        Ok(DirLock { _file: file })
    }
}
