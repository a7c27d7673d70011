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
use std::io::Write;

use crate::{BufferSource, LogError};

/// One index entry type: its size on disk and how it is written.
pub(crate) trait IndexEntry: Copy {
    const SIZE: usize;
    fn write_to(&self, out: &mut [u8]);
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
}

impl IndexEntry for TimeEntry {
    const SIZE: usize = MAX_ENTRY_SIZE;
    fn write_to(&self, out: &mut [u8]) {
        out[..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..12].copy_from_slice(&self.relative_offset.to_be_bytes());
    }
}

/// An index file and its entries in memory.
#[derive(Debug)]
pub(crate) struct IndexFile<E> {
    file: File,
    entries: Vec<E>,
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
        }
    }

    pub(crate) fn entries(&self) -> &[E] {
        &self.entries
    }

    /// Appends one entry, encoded on the stack.
    pub(crate) fn push(&mut self, entry: E) -> Result<(), LogError> {
        let mut buf = [0u8; MAX_ENTRY_SIZE];
        let buf = &mut buf[..E::SIZE];
        entry.write_to(buf);
        self.file.write_all(buf)?;
        self.entries.push(entry);
        Ok(())
    }

    /// Replaces the file's content with `entries`.
    pub(crate) fn rewrite(
        &mut self,
        entries: Vec<E>,
        source: impl BufferSource,
    ) -> Result<(), LogError> {
        self.file.set_len(0)?;
        // The file is opened in append mode, so writes land at the new end.
        for chunk in entries.chunks(REWRITE_CHUNK_ENTRIES) {
            let mut buf = source.take(chunk.len() * E::SIZE)?;
            for (entry, out) in chunk.iter().zip(buf.chunks_exact_mut(E::SIZE)) {
                entry.write_to(out);
            }
            self.file.write_all(&buf)?;
        }
        self.entries = entries;
        Ok(())
    }

    pub(crate) fn sync(&self) -> Result<(), LogError> {
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
