//! A global allocator wrapper that counts heap allocations and bytes, for the
//! allocation checks (`allocs_per_op`) and `gc_pressure`.
//!
//! Counting uses relaxed atomics, which slows every allocation down a little,
//! so the timing benches do not use it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counts every allocation made through it, then forwards to [`System`].
/// A binary installs it with `#[global_allocator] static ALLOC: CountingAlloc
/// = CountingAlloc;`.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAlloc;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// Allocation counters since the process started.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AllocCount {
    /// Calls to `alloc`, `alloc_zeroed` and `realloc`.
    pub allocations: u64,
    /// Bytes requested by those calls (the new size, for `realloc`).
    pub bytes: u64,
}

impl AllocCount {
    /// What was allocated between `earlier` and `self`.
    #[must_use]
    pub fn since(self, earlier: AllocCount) -> AllocCount {
        AllocCount {
            allocations: self.allocations - earlier.allocations,
            bytes: self.bytes - earlier.bytes,
        }
    }
}

/// The counters now. They only count when [`CountingAlloc`] is the global
/// allocator.
#[must_use]
pub fn alloc_count() -> AllocCount {
    AllocCount {
        allocations: ALLOCATIONS.load(Relaxed),
        bytes: BYTES.load(Relaxed),
    }
}

fn record(size: usize) {
    ALLOCATIONS.fetch_add(1, Relaxed);
    BYTES.fetch_add(size as u64, Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees are ours; counting touches only atomics
// and never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract for `layout`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (through us) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        // SAFETY: `ptr` was allocated by `System` (through us) with `layout`,
        // and the caller upholds `realloc`'s contract for `new_size`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wrapper forwards correctly: memory it hands out is usable, zeroed
    /// when asked, survives a realloc, and is counted.
    #[test]
    fn forwards_and_counts() {
        let alloc = CountingAlloc;
        let before = alloc_count();
        let layout = Layout::from_size_align(64, 16).unwrap();
        // SAFETY: `layout` has a non-zero size; each pointer is checked for
        // null, used within its size, and freed once with its layout.
        unsafe {
            let zeroed = alloc.alloc_zeroed(layout);
            assert!(!zeroed.is_null());
            assert!(
                std::slice::from_raw_parts(zeroed, 64)
                    .iter()
                    .all(|&b| b == 0)
            );
            zeroed.write(7);
            let grown = alloc.realloc(zeroed, layout, 128);
            assert!(!grown.is_null());
            assert_eq!(grown.read(), 7);
            alloc.dealloc(grown, Layout::from_size_align(128, 16).unwrap());
            let plain = alloc.alloc(layout);
            assert!(!plain.is_null());
            alloc.dealloc(plain, layout);
        }
        // Other test threads may allocate too, so only a lower bound holds.
        let counted = alloc_count().since(before);
        assert!(counted.allocations >= 3);
        assert!(counted.bytes >= 64 + 128 + 64);
    }
}
