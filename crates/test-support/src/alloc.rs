//! [`CountingAlloc`]: a global allocator that forwards to `System` and counts allocations and bytes.
//!
//! Per-thread counts ([`allocations_on_this_thread`], [`allocations_in`]) are
//! what a zero-allocation test needs: the harness's other threads do not
//! disturb them. Process-wide counts ([`process_alloc_count`]) are what a
//! bench or a demo that spans threads needs. Counting costs a thread-local
//! store and two relaxed atomic adds per allocation, so timing benches do not
//! install it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counts every allocation made through it, then forwards to [`System`].
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAlloc;

/// Allocations and bytes requested, counted by [`CountingAlloc`].
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

// Relaxed: counts only, they order nothing.
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static THREAD_ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static THREAD_LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn record(size: usize) {
    ALLOCATIONS.fetch_add(1, Relaxed);
    BYTES.fetch_add(size as u64, Relaxed);
    // `try_with`: the allocator also runs while thread-locals are torn down.
    let _ = THREAD_ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    let _ = THREAD_LARGEST.try_with(|l| l.set(l.get().max(size)));
}

/// Allocations (including reallocations) made so far by the calling thread.
/// Counts only while [`CountingAlloc`] is the global allocator.
#[must_use]
pub fn allocations_on_this_thread() -> u64 {
    THREAD_ALLOCATIONS.with(Cell::get)
}

/// The allocations the calling thread makes while running `f`.
pub fn allocations_in(f: impl FnOnce()) -> u64 {
    let before = allocations_on_this_thread();
    f();
    allocations_on_this_thread() - before
}

/// The largest single allocation (or reallocation's new size) the calling
/// thread makes while running `f`: what a hostile-input test bounds.
pub fn largest_allocation_in(f: impl FnOnce()) -> usize {
    let before = THREAD_LARGEST.with(|l| l.replace(0));
    f();
    THREAD_LARGEST.with(|l| l.replace(before.max(l.get())))
}

/// The counts of the whole process since it started. Counts only while
/// [`CountingAlloc`] is the global allocator.
#[must_use]
pub fn process_alloc_count() -> AllocCount {
    AllocCount {
        allocations: ALLOCATIONS.load(Relaxed),
        bytes: BYTES.load(Relaxed),
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees are ours; counting touches only atomics
// and a const-initialised thread-local `Cell`, and never allocates.
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
        let before = process_alloc_count();
        let on_this_thread = allocations_on_this_thread();
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
        assert_eq!(allocations_on_this_thread() - on_this_thread, 3);
        let largest = largest_allocation_in(|| {
            // SAFETY: a non-zero layout, freed once with the same layout.
            unsafe {
                alloc.dealloc(
                    alloc.alloc(Layout::from_size_align(300, 8).unwrap()),
                    Layout::from_size_align(300, 8).unwrap(),
                )
            }
        });
        assert_eq!(largest, 300);
        // Other test threads may allocate too, so only a lower bound holds.
        let counted = process_alloc_count().since(before);
        assert!(counted.allocations >= 3);
        assert!(counted.bytes >= 64 + 128 + 64);
    }
}
