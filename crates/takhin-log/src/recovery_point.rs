//! The recovery point checkpoint (Kafka's `recovery-point-offset-checkpoint`):
//! the offset below which every segment is sealed and synced, so that
//! `Log::open` need not rescan those segments.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use crate::durable::sync_dir;

/// The checkpoint's file name in the log directory.
pub const RECOVERY_POINT_FILE: &str = "recovery-point";
/// Written first, then renamed over [`RECOVERY_POINT_FILE`].
const TEMPORARY: &str = "recovery-point.tmp";
const MAGIC: &[u8; 4] = b"TKRP";
/// Magic, the offset (u64 BE), CRC-32C of the first 12 bytes (u32 BE).
const LEN: usize = 16;

/// The stored recovery point; 0 (rescan everything) if there is none or it
/// does not check out, which is always safe.
pub(crate) fn read(dir: &Path) -> io::Result<u64> {
    let bytes = match fs::read(dir.join(RECOVERY_POINT_FILE)) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(error),
    };
    let Ok(bytes) = <[u8; LEN]>::try_from(bytes.as_slice()) else {
        return Ok(0);
    };
    let crc = u32::from_be_bytes(bytes[12..].try_into().expect("4 bytes"));
    if &bytes[..4] != MAGIC || crc != crc32c::crc32c(&bytes[..12]) {
        return Ok(0);
    }
    Ok(u64::from_be_bytes(
        bytes[4..12].try_into().expect("8 bytes"),
    ))
}

/// Stores `offset` durably: written to a temporary file, synced, renamed
/// over the checkpoint, and the directory synced. A crash at any point
/// leaves the old checkpoint or the new one.
pub(crate) fn write(dir: &Path, offset: u64) -> io::Result<()> {
    let mut bytes = [0u8; LEN];
    bytes[..4].copy_from_slice(MAGIC);
    bytes[4..12].copy_from_slice(&offset.to_be_bytes());
    let crc = crc32c::crc32c(&bytes[..12]);
    bytes[12..].copy_from_slice(&crc.to_be_bytes());
    let temporary = dir.join(TEMPORARY);
    let mut file = fs::File::create(&temporary)?;
    file.write_all(&bytes)?;
    file.sync_data()?;
    drop(file);
    fs::rename(&temporary, dir.join(RECOVERY_POINT_FILE))?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_distrusts_damage() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()).unwrap(), 0);
        write(dir.path(), 52_811).unwrap();
        assert_eq!(read(dir.path()).unwrap(), 52_811);
        let path = dir.path().join(RECOVERY_POINT_FILE);
        let mut bytes = fs::read(&path).unwrap();
        bytes[11] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(
            read(dir.path()).unwrap(),
            0,
            "a damaged checkpoint means rescan"
        );
        fs::write(&path, b"short").unwrap();
        assert_eq!(read(dir.path()).unwrap(), 0);
    }
}
