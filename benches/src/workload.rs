//! What a benchmark does with a buffer between getting and dropping it.

use std::hint::black_box;

/// The three single-thread workloads of issue 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Get and drop, touching no byte.
    Untouched,
    /// Get, write every requested byte, drop.
    WriteAll,
    /// Get, write the first half of the requested bytes, drop.
    WriteHalf,
}

impl Workload {
    /// All three, in the order the tables show them.
    pub const ALL: [Workload; 3] = [Workload::Untouched, Workload::WriteAll, Workload::WriteHalf];

    /// The name used in criterion group names and tables.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Workload::Untouched => "untouched",
            Workload::WriteAll => "write_all",
            Workload::WriteHalf => "write_half",
        }
    }

    /// How many of `size` requested bytes this workload writes.
    #[must_use]
    pub fn written(self, size: usize) -> usize {
        match self {
            Workload::Untouched => 0,
            Workload::WriteAll => size,
            Workload::WriteHalf => size / 2,
        }
    }
}

/// The byte the benches write; not zero, so a write can never be skipped as
/// a no-op.
pub const FILL: u8 = 0xA5;

/// Writes the workload's share of `buf` (whose length is the requested size)
/// and hides the result from the optimiser.
#[inline]
pub fn touch(buf: &mut [u8], workload: Workload) {
    let written = workload.written(buf.len());
    if written > 0 {
        buf[..written].fill(FILL);
    }
    black_box(buf);
}
