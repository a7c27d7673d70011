//! Bucket sizes and the routing of a requested size to its bucket.

/// The nine bucket sizes of Takhin's Go pool: 512 B, 1 KiB, 4 KiB, 16 KiB,
/// 64 KiB, 256 KiB, 1 MiB, 4 MiB and 16 MiB.
///
/// A request is served by the smallest bucket that holds it; anything above
/// the last bucket is allocated directly (oversized).
pub const DEFAULT_BUCKET_SIZES: [usize; 9] = [
    512,
    1 << 10,
    4 << 10,
    16 << 10,
    64 << 10,
    256 << 10,
    1 << 20,
    4 << 20,
    16 << 20,
];

// Routing scans the sizes in order and stops at the first that fits, so they
// must be strictly ascending; `BufferPoolBuilder::build` checks custom sizes.
const _: () = {
    let mut i = 1;
    while i < DEFAULT_BUCKET_SIZES.len() {
        assert!(DEFAULT_BUCKET_SIZES[i - 1] < DEFAULT_BUCKET_SIZES[i]);
        i += 1;
    }
};

/// The most buckets a pool may have: a bucket index must fit in a `u8`, with
/// [`OVERSIZED`] left over.
pub(crate) const MAX_BUCKETS: usize = 64;

/// The class of a buffer that belongs to no bucket.
pub(crate) const OVERSIZED: u8 = u8::MAX;

/// Returns the index of the smallest size in `sizes` that is `>= size`, or
/// [`OVERSIZED`] when `size` exceeds them all.
///
/// `sizes` must be strictly ascending and at most [`MAX_BUCKETS`] long.
#[inline]
pub(crate) fn class_of(sizes: &[usize], size: usize) -> u8 {
    debug_assert!(sizes.len() <= MAX_BUCKETS);
    // A linear scan beats a binary search here: there are few sizes, and most
    // requests are small, so the loop usually exits on its first compare.
    for (index, &bucket) in sizes.iter().enumerate() {
        if size <= bucket {
            return index as u8;
        }
    }
    OVERSIZED
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn boundaries_of_every_default_bucket() {
        let sizes = &DEFAULT_BUCKET_SIZES;
        assert_eq!(class_of(sizes, 0), 0);
        for (index, &size) in sizes.iter().enumerate() {
            assert_eq!(class_of(sizes, size), index as u8, "size {size}");
            let above = if index + 1 < sizes.len() {
                index as u8 + 1
            } else {
                OVERSIZED
            };
            assert_eq!(class_of(sizes, size + 1), above, "size {}", size + 1);
        }
        assert_eq!(class_of(sizes, usize::MAX), OVERSIZED);
    }

    proptest! {
        #[test]
        fn routes_to_smallest_bucket_that_fits(size in 0usize..(40 << 20)) {
            let sizes = &DEFAULT_BUCKET_SIZES;
            match class_of(sizes, size) {
                OVERSIZED => prop_assert!(size > *sizes.last().unwrap()),
                class => {
                    let class = class as usize;
                    prop_assert!(size <= sizes[class]);
                    prop_assert!(class == 0 || size > sizes[class - 1]);
                }
            }
        }
    }
}
