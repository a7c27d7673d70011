//! Making directory changes durable: POSIX persists a created, renamed or
//! removed name only once the directory itself is synced.

use std::fs::File;
use std::io;
use std::path::Path;

/// Syncs the directory `dir`, so that files created in it, renamed into it
/// or removed from it stay so after a power loss.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
