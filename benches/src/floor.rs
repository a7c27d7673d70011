//! The bare memory work, measured on a hot buffer that stays allocated: the
//! floor every ratio in `docs/benchmarks.md` is quoted against.
//!
//! * `floor`: write the bytes, then zero them, on a 64-byte-aligned buffer.
//!   This is the least a zero-on-drop pool can do per operation.
//! * `memset`: write the bytes once, nothing else.

use std::hint::black_box;

use crate::workload::FILL;

/// A hot, 64-byte-aligned scratch buffer.
#[derive(Debug)]
pub struct Scratch {
    storage: Vec<u8>,
    offset: usize,
    len: usize,
}

impl Scratch {
    /// A scratch buffer of `len` bytes starting on a 64-byte boundary,
    /// written once so that its pages are mapped.
    #[must_use]
    pub fn new(len: usize) -> Self {
        let storage = vec![1u8; len + 64];
        let offset = storage.as_ptr().align_offset(64);
        assert!(offset < 64, "a u8 pointer can always be aligned");
        Self {
            storage,
            offset,
            len,
        }
    }

    /// The aligned bytes.
    pub fn bytes(&mut self) -> &mut [u8] {
        &mut self.storage[self.offset..self.offset + self.len]
    }

    /// Writes the first `n` bytes and zeroes them again: one floor operation.
    #[inline]
    pub fn write_then_zero(&mut self, n: usize) {
        let bytes = &mut self.bytes()[..n];
        bytes.fill(FILL);
        black_box(&mut *bytes);
        bytes.fill(0);
        black_box(bytes);
    }

    /// Writes the first `n` bytes: one memset.
    #[inline]
    pub fn memset(&mut self, n: usize) {
        let bytes = &mut self.bytes()[..n];
        bytes.fill(FILL);
        black_box(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_is_aligned_and_floor_leaves_zeroes() {
        let mut scratch = Scratch::new(1000);
        assert_eq!(scratch.bytes().as_ptr() as usize % 64, 0);
        assert_eq!(scratch.bytes().len(), 1000);
        scratch.write_then_zero(600);
        assert!(scratch.bytes()[..600].iter().all(|&b| b == 0));
        assert!(scratch.bytes()[600..].iter().all(|&b| b == 1));
        scratch.memset(10);
        assert!(scratch.bytes()[..10].iter().all(|&b| b == FILL));
    }
}
