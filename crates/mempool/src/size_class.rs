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

/// Routes a requested size to its bucket in (nearly) constant time.
///
/// A request of `n > 0` bytes satisfies `2^(k-1) < n <= 2^k` for
/// `k = ceil(log2(n))`, so its bucket is no smaller than the first bucket that
/// holds `2^(k-1) + 1` bytes. `start[k]` stores that bucket, and routing scans
/// up from it. When every bucket size is a power of two, as the defaults are,
/// the first compare always succeeds: one `lzcnt`, one table load, one
/// compare, whatever the size.
#[derive(Debug)]
pub(crate) struct SizeClasses {
    /// Strictly ascending, at most [`MAX_BUCKETS`] long.
    sizes: Box<[usize]>,
    /// `start[k]`: the first bucket with size `> 2^(k-1)` (bucket 0 for
    /// `k == 0`), or `sizes.len()` if none.
    start: [u8; usize::BITS as usize + 1],
}

impl SizeClasses {
    /// `sizes` must be strictly ascending, non-empty and at most
    /// [`MAX_BUCKETS`] long (the builder checks).
    pub(crate) fn new(sizes: Box<[usize]>) -> Self {
        debug_assert!(!sizes.is_empty() && sizes.len() <= MAX_BUCKETS);
        debug_assert!(sizes.windows(2).all(|pair| pair[0] < pair[1]));
        let mut start = [0; usize::BITS as usize + 1];
        for (k, slot) in start.iter_mut().enumerate().skip(1) {
            let lower = 1usize << (k - 1); // the request is above this
            *slot = sizes
                .iter()
                .position(|&bucket| bucket > lower)
                .unwrap_or(sizes.len()) as u8;
        }
        Self { sizes, start }
    }

    /// The bucket sizes, smallest first.
    pub(crate) fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Returns the index of the smallest bucket that holds `size` bytes, or
    /// [`OVERSIZED`] when `size` exceeds them all.
    #[inline]
    pub(crate) fn class_of(&self, size: usize) -> u8 {
        // ceil(log2(size)), and 0 for sizes 0 and 1.
        let k = (usize::BITS - size.saturating_sub(1).leading_zeros()) as usize;
        let mut index = usize::from(self.start[k]);
        while let Some(&bucket) = self.sizes.get(index) {
            if size <= bucket {
                return index as u8;
            }
            index += 1;
        }
        OVERSIZED
    }
}

/// The fast path's routing: one table load and one compare, which also
/// send oversized requests and pools with a budget or leak tracking to the
/// full path.
///
/// `entries[k]` is the bucket [`SizeClasses`] starts its scan at for
/// `k = ceil(log2(size))`, with the exclusive limit under which that bucket is
/// the answer (its size plus one). A request at or above the limit takes the
/// full path, which routes it with [`SizeClasses::class_of`]. The limit is 0,
/// so that every request takes the full path, where `start[k]` has no bucket,
/// for `k = 64` (size 0 and sizes above 2^63), and for every `k` of a pool
/// that is not `plain`.
#[derive(Debug)]
pub(crate) struct FastRoute {
    entries: [FastEntry; usize::BITS as usize + 1],
}

#[derive(Debug, Clone, Copy)]
struct FastEntry {
    limit: usize,
    class: u8,
}

impl FastRoute {
    /// The table for `classes`; with `enabled == false`, one that sends every
    /// request to the full path.
    pub(crate) fn new(classes: &SizeClasses, enabled: bool) -> Self {
        let mut entries = [FastEntry { limit: 0, class: 0 }; usize::BITS as usize + 1];
        for (entry, &start) in entries.iter_mut().zip(classes.start.iter()) {
            if let Some(&bucket) = classes.sizes.get(usize::from(start)).filter(|_| enabled) {
                // `usize::MAX` itself then takes the full path, which is still right.
                *entry = FastEntry {
                    limit: bucket.saturating_add(1),
                    class: start,
                };
            }
        }
        // Sizes above 2^63 and size 0 (see `class_of`) take the full path.
        entries[usize::BITS as usize].limit = 0;
        Self { entries }
    }

    /// The bucket of a request of `size` bytes, or `None` to take the full
    /// path. A bucket is always an index into the sizes the table was built
    /// from (the get fast path relies on it, unchecked).
    #[inline]
    pub(crate) fn class_of(&self, size: usize) -> Option<u8> {
        // `wrapping_sub`, two instructions fewer than `saturating_sub`: size 0
        // lands in the last entry, whose limit is 0, so it takes the full
        // path, which serves it.
        let k = (usize::BITS - size.wrapping_sub(1).leading_zeros()) as usize;
        let entry = self.entries[k];
        (size < entry.limit).then_some(entry.class)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reference: a linear scan over all sizes.
    fn scan(sizes: &[usize], size: usize) -> u8 {
        sizes
            .iter()
            .position(|&bucket| size <= bucket)
            .map_or(OVERSIZED, |index| index as u8)
    }

    fn class_of(sizes: &[usize], size: usize) -> u8 {
        let classes = SizeClasses::new(sizes.into());
        let routed = classes.class_of(size);
        assert_eq!(routed, scan(sizes, size), "sizes {sizes:?}, size {size}");
        // The fast table either agrees or defers, and never takes oversized requests.
        let fast = FastRoute::new(&classes, true).class_of(size);
        assert!(
            fast.is_none() || fast == Some(routed),
            "sizes {sizes:?}, size {size}"
        );
        assert_eq!(FastRoute::new(&classes, false).class_of(size), None);
        routed
    }

    #[test]
    fn fast_route_takes_every_request_to_power_of_two_buckets() {
        let classes = SizeClasses::new(DEFAULT_BUCKET_SIZES.into());
        let fast = FastRoute::new(&classes, true);
        assert_eq!(fast.class_of(0), None, "size 0 takes the full path");
        for size in (1..=(16 << 20))
            .step_by(4093)
            .chain([1, 512, 513, 16 << 20])
        {
            assert_eq!(
                fast.class_of(size),
                Some(classes.class_of(size)),
                "size {size}"
            );
        }
        assert_eq!(fast.class_of((16 << 20) + 1), None);
        assert_eq!(fast.class_of(usize::MAX), None);
    }

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

    #[test]
    fn extreme_sizes() {
        let sizes = [1, 3, usize::MAX / 2, usize::MAX];
        for size in [
            0,
            1,
            2,
            3,
            4,
            usize::MAX / 2,
            usize::MAX / 2 + 1,
            usize::MAX,
        ] {
            class_of(&sizes, size);
        }
    }

    proptest! {
        #[test]
        fn agrees_with_a_linear_scan(
            sizes in prop::collection::btree_set(1usize..(1 << 26), 1..MAX_BUCKETS),
            size in prop_oneof![0usize..(1 << 27), any::<usize>()],
        ) {
            let sizes: Vec<usize> = sizes.into_iter().collect();
            class_of(&sizes, size);
        }

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
