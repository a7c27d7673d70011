//! The two sparse indexes of a segment, kept in memory for binary search and
//! mirrored to `.index` and `.timeindex` files in Kafka's layout.
//!
//! ```text
//! .index      8 bytes per entry: relative offset u32 | file position u32
//! .timeindex 12 bytes per entry: timestamp i64       | relative offset u32
//! ```
//!
//! Both follow Kafka: an offset entry holds the *last* offset of the batch
//! that starts at the position; a time entry says "every record up to this
//! offset has a timestamp at most this".

use std::fs::File;
use std::os::unix::fs::FileExt;

use crate::{BufferSource, LogError};

/// One index entry type: its size on disk and how it is written.
pub(crate) trait IndexEntry: Copy {
    const SIZE: usize;
    fn write_to(&self, out: &mut [u8]);
    /// Decodes the first [`SIZE`](Self::SIZE) bytes of `bytes`.
    fn read_from(bytes: &[u8]) -> Self;
}

/// `(relative last offset, file position)` of one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OffsetEntry {
    pub(crate) relative_offset: u32,
    pub(crate) position: u32,
}

/// `(max timestamp so far, relative offset where it was reached)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeEntry {
    pub(crate) timestamp: i64,
    pub(crate) relative_offset: u32,
}

impl IndexEntry for OffsetEntry {
    const SIZE: usize = 8;
    fn write_to(&self, out: &mut [u8]) {
        out[..4].copy_from_slice(&self.relative_offset.to_be_bytes());
        out[4..8].copy_from_slice(&self.position.to_be_bytes());
    }
    fn read_from(bytes: &[u8]) -> Self {
        OffsetEntry {
            relative_offset: u32::from_be_bytes(bytes[..4].try_into().expect("4 bytes")),
            position: u32::from_be_bytes(bytes[4..8].try_into().expect("4 bytes")),
        }
    }
}

impl IndexEntry for TimeEntry {
    const SIZE: usize = MAX_ENTRY_SIZE;
    fn write_to(&self, out: &mut [u8]) {
        out[..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..12].copy_from_slice(&self.relative_offset.to_be_bytes());
    }
    fn read_from(bytes: &[u8]) -> Self {
        TimeEntry {
            timestamp: i64::from_be_bytes(bytes[..8].try_into().expect("8 bytes")),
            relative_offset: u32::from_be_bytes(bytes[8..12].try_into().expect("4 bytes")),
        }
    }
}

/// An index file and its entries in memory. Entries are written at their
/// position (`index * SIZE`), never appended, so a write that fails half
/// way is overwritten by the next one and cannot misalign the file.
#[derive(Debug)]
pub(crate) struct IndexFile<E> {
    file: File,
    entries: Vec<E>,
    /// A failed write may have left bytes past the last entry; `sync` cuts
    /// them, so that a sealed index file holds whole entries only.
    stale_tail: bool,
}

/// The largest [`IndexEntry::SIZE`]: a time index entry.
const MAX_ENTRY_SIZE: usize = 12;
const _: () = assert!(OffsetEntry::SIZE <= MAX_ENTRY_SIZE);

/// How many entries `rewrite` encodes per pooled buffer.
const REWRITE_CHUNK_ENTRIES: usize = 4096;

impl<E: IndexEntry> IndexFile<E> {
    pub(crate) fn new(file: File) -> Self {
        IndexFile {
            file,
            entries: Vec::new(),
            stale_tail: false,
        }
    }

    pub(crate) fn entries(&self) -> &[E] {
        &self.entries
    }

    fn file_len(&self) -> u64 {
        (self.entries.len() * E::SIZE) as u64
    }

    /// Writes one entry after the last, encoded on the stack, and keeps it.
    pub(crate) fn push(&mut self, entry: E) -> Result<(), LogError> {
        let mut buf = [0u8; MAX_ENTRY_SIZE];
        let buf = &mut buf[..E::SIZE];
        entry.write_to(buf);
        if let Err(error) = self.file.write_all_at(buf, self.file_len()) {
            self.cut_stale_tail();
            return Err(error.into());
        }
        self.entries.push(entry);
        Ok(())
    }

    /// Forgets the last entry (its append failed further on).
    pub(crate) fn pop(&mut self) {
        self.entries.pop();
        self.cut_stale_tail();
    }

    /// Cuts the file back to its entries after a failed write; if that
    /// fails too, the next push overwrites the bytes and `sync` retries.
    fn cut_stale_tail(&mut self) {
        self.stale_tail = self.file.set_len(self.file_len()).is_err();
    }

    /// Replaces the file's content with `entries`.
    pub(crate) fn rewrite(
        &mut self,
        entries: Vec<E>,
        source: impl BufferSource,
    ) -> Result<(), LogError> {
        self.file.set_len(0)?;
        self.entries.clear();
        self.stale_tail = false;
        let mut position = 0;
        for chunk in entries.chunks(REWRITE_CHUNK_ENTRIES) {
            let mut buf = source.take(chunk.len() * E::SIZE)?;
            for (entry, out) in chunk.iter().zip(buf.chunks_exact_mut(E::SIZE)) {
                entry.write_to(out);
            }
            if let Err(error) = self.file.write_all_at(&buf, position) {
                self.stale_tail = true;
                return Err(error.into());
            }
            position += buf.len() as u64;
        }
        self.entries = entries;
        Ok(())
    }

    /// Reads the file's entries into memory, as written by a sealed
    /// segment; `None` if its length is not a whole number of entries.
    pub(crate) fn load(&mut self) -> Result<Option<&[E]>, LogError> {
        let len = self.file.metadata()?.len();
        if len % E::SIZE as u64 != 0 {
            return Ok(None);
        }
        let mut bytes = vec![0u8; len as usize];
        self.file.read_exact_at(&mut bytes, 0)?;
        self.entries = bytes.chunks_exact(E::SIZE).map(E::read_from).collect();
        Ok(Some(&self.entries))
    }

    /// Cuts what failed writes left past the last entry, then syncs.
    pub(crate) fn sync(&mut self) -> Result<(), LogError> {
        if self.stale_tail {
            self.file.set_len(self.file_len())?;
            self.stale_tail = false;
        }
        Ok(self.file.sync_data()?)
    }
}

impl IndexFile<OffsetEntry> {
    /// Position of the last indexed batch whose last offset is at most
    /// `relative`, or 0; the batch holding `relative` starts there or later.
    pub(crate) fn lookup(&self, relative: u32) -> u32 {
        let idx = self
            .entries
            .partition_point(|e| e.relative_offset <= relative);
        idx.checked_sub(1).map_or(0, |i| self.entries[i].position)
    }
}

impl IndexFile<TimeEntry> {
    /// The first relative offset that can hold a timestamp `>= timestamp`:
    /// just after the last entry whose timestamp is below it.
    pub(crate) fn lookup(&self, timestamp: i64) -> Option<u32> {
        let idx = self.entries.partition_point(|e| e.timestamp < timestamp);
        idx.checked_sub(1)
            .map(|i| self.entries[i].relative_offset + 1)
    }
}
