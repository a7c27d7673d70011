//! [`noise`]: bytes that no compression codec can shrink, the same on every run.

/// `len` bytes of xorshift64 output from a fixed seed: incompressible for
/// gzip, snappy, lz4 and zstd (a multiplicative sequence was not: gzip took
/// one to 30%), and reproducible, so a failure replays.
#[must_use]
pub fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 56) as u8
        })
        .collect()
}
