//! A byte pattern that names a buffer's writer, to catch a buffer handed to two owners at once.

/// The byte at `index` of buffer `seq` written by thread `owner`; never zero,
/// so a pattern is never mistaken for a zeroed buffer.
#[must_use]
pub fn pattern(owner: usize, seq: u64, index: usize) -> u8 {
    (owner.wrapping_mul(131) ^ (seq as usize).wrapping_mul(31) ^ index.wrapping_mul(7)) as u8 | 1
}

/// Writes the pattern of (`owner`, `seq`) over all of `buf`.
pub fn fill_pattern(buf: &mut [u8], owner: usize, seq: u64) {
    for (index, byte) in buf.iter_mut().enumerate() {
        *byte = pattern(owner, seq, index);
    }
}

/// Whether all of `buf` still holds the pattern of (`owner`, `seq`).
#[must_use]
pub fn has_pattern(buf: &[u8], owner: usize, seq: u64) -> bool {
    buf.iter()
        .enumerate()
        .all(|(index, &byte)| byte == pattern(owner, seq, index))
}
