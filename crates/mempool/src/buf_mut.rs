//! `bytes` interop (feature `bytes`): [`BufMut`] for [`PooledBuf`], and [`PooledBuf::freeze`] into a zero-copy [`Bytes`].
//!
//! `BufMut` appends within the capacity, exactly like the `io::Write`
//! implementation: `remaining_mut()` is `capacity() - len()` and never grows,
//! and the `put_*` methods panic, as `bytes` requires, when the value does not
//! fit.

use bytes::buf::UninitSlice;
use bytes::{Buf, BufMut, Bytes};

use crate::pooled_buf::PooledBuf;

/// Appends within the capacity; the buffer never reallocates.
///
/// `remaining_mut()` is `capacity() - len()`. The `put_*` methods panic if the
/// value does not fit (the `BufMut` contract); check `remaining_mut()` first,
/// or use [`try_extend_from_slice`](PooledBuf::try_extend_from_slice) to get
/// an error instead.
///
/// # Zeroing
///
/// `put`, `put_slice`, `put_bytes` and the `put_u8`…`put_f64` family mark
/// exactly the bytes they write, so a drop zeroes only those. `chunk_mut`
/// hands out the whole spare capacity `[len(), capacity())`, any byte of which
/// the caller may write before `advance_mut`, so it marks all of it: after a
/// `chunk_mut` call (for example from tokio's `read_buf`, or from the default
/// `put` of `&mut PooledBuf`), the drop zeroes the whole bucket.
///
/// # Examples
///
/// ```
/// use bytes::BufMut;
///
/// let mut frame = mempool::get_empty_buffer(64);
/// frame.put_u32(5);
/// frame.put_slice(b"hello");
/// assert_eq!(&frame[..], b"\0\0\0\x05hello");
/// assert_eq!(frame.remaining_mut(), 512 - 9);
/// ```
///
/// A value that does not fit panics:
///
/// ```should_panic
/// use bytes::BufMut;
///
/// let mut buf = mempool::get_empty_buffer(512);
/// buf.put_bytes(0, 512);
/// buf.put_u8(1); // panics: the buffer is full
/// ```
// SAFETY: the `BufMut` contract, point by point.
// * `remaining_mut` is `capacity - len`, which only `advance_mut` and the
//   `put_*` methods (which advance by what they write) change.
// * `chunk_mut` returns `[len, capacity)`: exactly `remaining_mut` bytes,
//   empty if and only if `remaining_mut` is 0. Every byte of a pooled buffer is
//   initialised (`AlignedBuf` zero-allocates, and reuse keeps it initialised),
//   so wrapping the `&mut [u8]` in `UninitSlice::new` exposes no uninitialised
//   memory, and the caller writing any of it is sound.
// * `advance_mut(cnt)` panics if `cnt > remaining_mut()`, so `len` never
//   passes the capacity and `Deref` never reads out of bounds; `cnt == 0` is a
//   no-op. Whether or not the caller wrote the bytes it advances over, they
//   are initialised (zero or earlier data of this guard), and they lie below
//   `written`, so the drop zeroes them.
#[cfg_attr(docsrs, doc(cfg(feature = "bytes")))]
unsafe impl BufMut for PooledBuf<'_> {
    #[inline]
    fn remaining_mut(&self) -> usize {
        self.remaining_capacity()
    }

    #[inline]
    #[track_caller]
    unsafe fn advance_mut(&mut self, cnt: usize) {
        let remaining = self.remaining_capacity();
        assert!(
            cnt <= remaining,
            "advance_mut({cnt}) past the end of a pooled buffer with {remaining} bytes left"
        );
        self.set_written_len(self.len() + cnt);
    }

    #[inline]
    fn chunk_mut(&mut self) -> &mut UninitSlice {
        UninitSlice::new(self.spare_capacity_mut())
    }

    #[track_caller]
    fn put<T: Buf>(&mut self, mut src: T)
    where
        Self: Sized,
    {
        let additional = src.remaining();
        if additional > self.remaining_capacity() {
            panic_full(&self.capacity_error(additional));
        }
        while src.has_remaining() {
            let chunk = src.chunk();
            let count = chunk.len();
            self.put_slice(chunk);
            src.advance(count);
        }
    }

    #[inline]
    #[track_caller]
    fn put_slice(&mut self, src: &[u8]) {
        if let Err(error) = self.try_extend_from_slice(src) {
            panic_full(&error);
        }
    }

    #[inline]
    #[track_caller]
    fn put_bytes(&mut self, val: u8, cnt: usize) {
        if let Err(error) = self.try_extend_with(val, cnt) {
            panic_full(&error);
        }
    }
}

#[cold]
#[track_caller]
fn panic_full(error: &crate::CapacityError) -> ! {
    panic!("{error}")
}

impl PooledBuf<'static> {
    /// Turns the buffer into a [`Bytes`] without copying; the buffer goes back
    /// to the pool when the last clone or slice of that `Bytes` drops.
    ///
    /// The `Bytes` covers the visible bytes, `[0, len())`. Clones and slices
    /// share the buffer, on any thread; whichever drops last returns it,
    /// zeroed as usual, to the pool (that thread's cache) and counts the put
    /// in [`PoolStats`](crate::PoolStats). Until then the buffer counts as in
    /// use. This costs one small heap allocation, the shared header that
    /// `Bytes::from_owner` keeps its reference count in.
    ///
    /// Only `PooledBuf<'static>` can be frozen, because a `Bytes` has no
    /// lifetime: buffers from the global pool, or from a pool that lives for
    /// the whole program (`Box::leak`, a `static`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// let mut buf = mempool::get_empty_buffer(100);
    /// buf.write_all(b"record batch")?;
    /// let address = buf.as_ptr();
    ///
    /// let bytes = buf.freeze();
    /// assert_eq!(bytes.as_ptr(), address); // zero-copy
    /// let tail = bytes.slice(7..);
    /// drop(bytes);
    /// assert_eq!(&tail[..], b"batch"); // the slice keeps the buffer alive
    /// drop(tail); // now the buffer goes back to the pool
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "bytes")))]
    #[must_use = "dropping the Bytes returns the buffer to the pool at once"]
    pub fn freeze(self) -> Bytes {
        Bytes::from_owner(self)
    }
}

/// A buffer borrowed from a local pool cannot be frozen: `Bytes` has no
/// lifetime, so the pool would have to outlive every clone.
///
/// ```compile_fail,E0597
/// let pool = mempool::BufferPool::new();
/// let bytes = pool.get(16).freeze();
/// drop(bytes);
/// ```
fn _freeze_needs_a_static_pool() {}
