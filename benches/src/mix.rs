//! A Kafka-like mix of request sizes: mostly records of 100 B to 4 KiB, and a
//! few 1 MiB batches.

/// One request in this many is a 1 MiB batch.
pub const BATCH_EVERY: usize = 512;

/// The size of a batch request.
pub const BATCH_SIZE: usize = 1 << 20;

/// A fixed, repeatable sequence of request sizes.
#[derive(Debug, Clone)]
pub struct SizeMix {
    sizes: Vec<usize>,
}

impl SizeMix {
    /// The sequence for `seed`: 4096 sizes, where one in [`BATCH_EVERY`] is
    /// [`BATCH_SIZE`] and the others are spread evenly over 100..=4096.
    #[must_use]
    pub fn kafka(seed: u64) -> Self {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let sizes = (0..4096)
            .map(|i| {
                // xorshift64: cheap, deterministic, good enough for sizes.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                if i % BATCH_EVERY == BATCH_EVERY / 2 {
                    BATCH_SIZE
                } else {
                    100 + (state % (4096 - 100 + 1)) as usize
                }
            })
            .collect();
        Self { sizes }
    }

    /// The `i`-th size, cycling.
    #[inline]
    #[must_use]
    pub fn size(&self, i: usize) -> usize {
        self.sizes[i % self.sizes.len()]
    }

    /// The mean requested size over one cycle.
    #[must_use]
    pub fn mean(&self) -> f64 {
        self.sizes.iter().sum::<usize>() as f64 / self.sizes.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_is_mostly_records_with_a_few_batches() {
        let mix = SizeMix::kafka(1);
        let batches = (0..4096).filter(|&i| mix.size(i) == BATCH_SIZE).count();
        assert_eq!(batches, 4096 / BATCH_EVERY);
        assert!(
            (0..4096).all(|i| mix.size(i) == BATCH_SIZE || (100..=4096).contains(&mix.size(i)))
        );
        assert_eq!(SizeMix::kafka(1).size(7), mix.size(7));
        assert_ne!(
            (0..64)
                .map(|i| SizeMix::kafka(2).size(i))
                .collect::<Vec<_>>(),
            (0..64).map(|i| mix.size(i)).collect::<Vec<_>>()
        );
    }
}
