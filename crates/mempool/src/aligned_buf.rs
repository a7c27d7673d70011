//! An owned, zero-initialised, cache-line-aligned byte allocation.
//!
//! The crate's `unsafe` allocation code. `Vec<u8>` cannot give us what a
//! pool needs from its storage:
//!
//! * **Alignment.** Buffers below 64 KiB start on a 64-byte boundary. An
//!   unaligned 1 KiB write+zero measured 1.6x slower than an aligned one on
//!   this kind of machine (`docs/peers.md`); `Vec<u8>` only promises
//!   1-byte alignment (glibc gives 16). From 64 KiB up, alignment no longer
//!   shows in the timings, so those buffers ask for 16 bytes only (see below).
//! * **Fallible, lazily zeroed allocation.** `alloc_zeroed` returns null
//!   instead of aborting, and for large sizes the allocator hands back fresh
//!   pages that the kernel zeroes on first touch, so a 16 MiB bucket used for a
//!   5 MiB request never faults in the untouched tail. Stable `Vec` offers
//!   fallible allocation (`try_reserve`) or calloc (`vec![0; n]`), not both.
//!   std's `System` allocator only takes the `calloc` path for alignments up to
//!   16; above that it allocates and memsets the whole buffer, touching every
//!   page. That is why large buffers ask for 16-byte alignment.

use std::alloc::{self, Layout};
use std::fmt;
use std::ptr::NonNull;

/// Alignment of buffers below [`LARGE`]: one cache line.
pub(crate) const ALIGN: usize = 64;

/// From this size up, buffers are aligned to [`LARGE_ALIGN`] only, so that the
/// allocator can serve them with lazily zeroed pages (`calloc`).
pub(crate) const LARGE: usize = 64 << 10;

/// Alignment of buffers of [`LARGE`] bytes and more: what `malloc` and
/// `calloc` guarantee on 64-bit targets.
pub(crate) const LARGE_ALIGN: usize = 16;

/// The layout of a buffer of `cap > 0` bytes, or `None` if no allocation can
/// have that size.
fn layout(cap: usize) -> Option<Layout> {
    let align = if cap >= LARGE { LARGE_ALIGN } else { ALIGN };
    Layout::from_size_align(cap, align).ok()
}

/// A type with alignment [`ALIGN`], used only for its dangling pointer.
#[repr(align(64))]
struct CacheLine;

const _: () = assert!(std::mem::align_of::<CacheLine>() == ALIGN);

/// A heap allocation of `cap` bytes, all initialised, aligned as [`layout`] says.
///
/// Invariants, relied on by every `unsafe` block below:
/// * if `cap == 0`, `ptr` is dangling (aligned, never dereferenced or freed);
/// * otherwise `ptr` came from `alloc_zeroed(layout(cap))`,
///   is uniquely owned by this value, and all `cap` bytes are initialised.
pub(crate) struct AlignedBuf {
    ptr: NonNull<u8>,
    cap: usize,
}

// SAFETY: `AlignedBuf` uniquely owns its allocation, like `Box<[u8]>`; moving
// it to another thread moves that ownership, and the allocator may free it
// from any thread.
unsafe impl Send for AlignedBuf {}
// SAFETY: shared access only hands out `&[u8]`, which is `Sync`; mutation
// needs `&mut AlignedBuf`.
unsafe impl Sync for AlignedBuf {}

impl AlignedBuf {
    /// An empty buffer. It does not allocate.
    pub(crate) const fn empty() -> Self {
        // A non-null, `ALIGN`-aligned address; never dereferenced (`cap == 0`).
        let ptr = NonNull::<CacheLine>::dangling().cast::<u8>();
        Self { ptr, cap: 0 }
    }

    /// Allocates `cap` zeroed bytes, or returns `None` if the allocator
    /// refuses (or `cap` cannot form a valid layout).
    pub(crate) fn try_zeroed(cap: usize) -> Option<Self> {
        if cap == 0 {
            return Some(Self::empty());
        }
        let layout = layout(cap)?;
        // SAFETY: `layout` has a non-zero size (checked above).
        let raw = unsafe { alloc::alloc_zeroed(layout) };
        NonNull::new(raw).map(|ptr| Self { ptr, cap })
    }

    /// The number of bytes this allocation holds.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    /// The whole allocation as a slice.
    #[inline]
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` is valid for reads of `cap` initialised bytes (type
        // invariant; dangling with `cap == 0` is allowed for slices), and the
        // returned borrow is tied to `&self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.cap) }
    }

    /// The whole allocation as a mutable slice.
    #[inline]
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`; `&mut self` guarantees the borrow is unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.cap) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        if self.cap == 0 {
            return;
        }
        // `try_zeroed` built this same layout, so it is valid.
        let layout = layout(self.cap).expect("validated when allocated");
        // SAFETY: `cap != 0`, so `ptr` came from `alloc_zeroed` with exactly
        // this layout (type invariant), and is freed only here, once.
        unsafe { alloc::dealloc(self.ptr.as_ptr(), layout) }
    }
}

impl fmt::Debug for AlignedBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlignedBuf")
            .field("cap", &self.cap)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_aligned_and_writable() {
        // Miri interprets every byte of the checks: it stops at `LARGE`.
        let caps: &[usize] = if cfg!(miri) {
            &[1, 63, 64, 65, 512, LARGE - 1, LARGE]
        } else {
            &[1, 63, 64, 65, 512, 4096, LARGE - 1, LARGE, 1 << 20]
        };
        for &cap in caps {
            let mut buf = AlignedBuf::try_zeroed(cap).unwrap();
            assert_eq!(buf.capacity(), cap);
            let align = if cap >= LARGE { LARGE_ALIGN } else { ALIGN };
            assert_eq!(buf.as_slice().as_ptr() as usize % align, 0, "cap {cap}");
            assert!(buf.as_slice().iter().all(|&b| b == 0));
            buf.as_mut_slice().fill(0xAB);
            assert!(buf.as_slice().iter().all(|&b| b == 0xAB));
        }
    }

    #[test]
    fn empty_never_allocates_and_is_aligned() {
        let mut buf = AlignedBuf::empty();
        assert_eq!(buf.capacity(), 0);
        assert!(buf.as_mut_slice().is_empty());
        assert_eq!(buf.as_slice().as_ptr() as usize % ALIGN, 0);
        assert_eq!(AlignedBuf::try_zeroed(0).unwrap().capacity(), 0);
    }

    #[test]
    fn absurd_sizes_fail_instead_of_aborting() {
        // `black_box`: an allocation whose result is dropped unused may be
        // elided by LLVM and assumed to succeed (it was, in a release build
        // with fat LTO); a result that escapes must come from the allocator.
        let try_zeroed = |size| std::hint::black_box(AlignedBuf::try_zeroed(size));
        assert!(try_zeroed(usize::MAX).is_none());
        assert!(try_zeroed(isize::MAX as usize).is_none());
        assert!(try_zeroed(1 << 62).is_none());
    }

    #[test]
    fn moves_across_threads() {
        let mut buf = AlignedBuf::try_zeroed(1024).unwrap();
        buf.as_mut_slice()[1023] = 7;
        let buf = std::thread::spawn(move || buf).join().unwrap();
        assert_eq!(buf.as_slice()[1023], 7);
    }
}
