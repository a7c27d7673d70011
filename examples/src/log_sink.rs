//! A [`FrameSink`] that appends each frame to a `takhin-log` storage log and
//! replies with the record's offset.

use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use mempool::PooledBuf;
use takhin_log::{Log, LogConfig, LogError, Record};

use crate::frame_server::FrameSink;

/// Appends every frame, as the value of one record, to a storage log, and
/// answers with the record's offset as 8 big-endian bytes.
///
/// The frame's pooled buffer is encoded into the log's (pooled) batch buffer
/// and dropped when `handle` returns: Go's `defer PutBuffer`. Clones share
/// the log, so a caller can keep one to read what the server appended.
#[derive(Debug, Clone)]
pub struct LogAppend {
    log: Arc<Mutex<Log>>,
}

impl LogAppend {
    /// Opens (or creates) the log in `dir`.
    ///
    /// # Errors
    ///
    /// Whatever [`Log::open`] returns.
    pub fn open(dir: &Path) -> Result<Self, LogError> {
        Ok(Self {
            log: Arc::new(Mutex::new(Log::open(dir, LogConfig::default())?)),
        })
    }

    /// Runs `f` on the log, under its lock.
    pub fn with_log<R>(&self, f: impl FnOnce(&mut Log) -> R) -> R {
        // An append that panicked left the log as its recovery would.
        f(&mut self.log.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl FrameSink for LogAppend {
    fn handle(&self, frame: PooledBuf<'static>, reply: &mut PooledBuf<'static>) -> io::Result<()> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let offset = self
            .with_log(|log| log.append(&Record::new(now, None, Some(&frame))))
            .map_err(io::Error::other)?;
        reply.write_all(&offset.to_be_bytes())
    }
}
