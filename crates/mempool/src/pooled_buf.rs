//! `PooledBuf`: the guard that owns a pooled buffer until it is dropped.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};

use crate::aligned_buf::AlignedBuf;
use crate::error::CapacityError;
use crate::pool::BufferPool;
use crate::size_class::OVERSIZED;

/// A byte buffer on loan from a [`BufferPool`]; dropping it gives the buffer
/// back.
///
/// A `PooledBuf` can be thought of as a `Box<[u8]>` of exactly the requested
/// length whose memory comes from, and returns to, a pool. It replaces Go's
/// `GetBuffer`/`PutBuffer` pair: the put happens in `Drop`, so a forgotten put,
/// a double put, or a use after put cannot compile.
///
/// # Memory layout
///
/// ```text
///  0                 len()            written      capacity()
///  ├──── visible ──────┤                 │              │
///  │ all zero when handed out            │              │
///  ├─── zeroed on drop (may be written) ─┤              │
///  │                                     ├─ never touched: still zero
/// ```
///
/// A buffer below 64 KiB starts on a 64-byte boundary (larger ones on 16
/// bytes, which lets the allocator hand out lazily zeroed pages). Its capacity is the bucket size, or
/// the requested size when the request is above the largest bucket
/// (oversized). On drop, only the bytes that could have been written are
/// zeroed: the prefix that was ever reachable through `&mut` access. A guard
/// only ever read is not zeroed at all.
///
/// # Growing by writing
///
/// [`BufferPool::get_empty`] hands out a guard with length 0. Appending
/// through [`std::io::Write`], `bytes::BufMut` (feature `bytes`) or
/// [`try_extend_from_slice`](Self::try_extend_from_slice) makes `len()` grow,
/// up to `capacity()`; the buffer never reallocates, and a write that does not
/// fit fails with a [`CapacityError`] (`BufMut` panics, as its contract
/// says). `written` covers every byte a write touched, so the drop zeroes all
/// of them. With the `bytes` feature, `freeze` turns a `PooledBuf<'static>`
/// into a `bytes::Bytes` without a copy.
///
/// # Sharing
///
/// `PooledBuf` is `Send` and `Sync`. It borrows its pool; a guard from the
/// global pool is `PooledBuf<'static>` and may move into another thread, which
/// then returns it to that thread's cache.
///
/// # Examples
///
/// ```
/// let mut buf = mempool::get_buffer(11);
/// buf.copy_from_slice(b"hello world");
/// assert_eq!(&buf[..], b"hello world");
/// assert_eq!(buf.capacity(), 512);
///
/// let handle = std::thread::spawn(move || buf.len());
/// assert_eq!(handle.join().unwrap(), 11);
/// ```
#[must_use = "dropping a PooledBuf returns it to the pool at once"]
pub struct PooledBuf<'p> {
    /// `ManuallyDrop`: `Drop` moves it out to the pool, with no empty buffer
    /// written back in its place.
    buf: ManuallyDrop<AlignedBuf>,
    /// Visible bytes; `len <= buf.capacity()`.
    len: usize,
    /// The prefix `[0, written)` may hold non-zero bytes: the high-water mark
    /// of `len` over every mutable borrow, or the whole capacity once the
    /// spare capacity was lent out (`BufMut::chunk_mut`).
    /// `written <= buf.capacity()`.
    written: usize,
    /// Bucket index, or `OVERSIZED`.
    class: u8,
    pool: &'p BufferPool,
}

impl<'p> PooledBuf<'p> {
    pub(crate) fn new(pool: &'p BufferPool, buf: AlignedBuf, len: usize, class: u8) -> Self {
        debug_assert!(len <= buf.capacity());
        Self {
            buf: ManuallyDrop::new(buf),
            len,
            written: 0,
            class,
            pool,
        }
    }

    /// The number of visible bytes: the size that was requested, unless it was
    /// changed with [`truncate`](Self::truncate) or [`clear`](Self::clear).
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer has no visible bytes.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The size of the underlying buffer: the bucket size, or the requested
    /// size when it was above the largest bucket.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(mempool::get_buffer(513).capacity(), 1024);
    /// assert_eq!(mempool::get_buffer(20 << 20).capacity(), 20 << 20);
    /// ```
    #[inline]
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Whether this buffer was allocated directly because it is larger than
    /// the largest bucket; it is freed, not pooled, on drop.
    #[inline]
    #[must_use]
    pub fn is_oversized(&self) -> bool {
        self.class == OVERSIZED
    }

    /// `len`, which is never above the capacity, in a form the compiler can
    /// see is not: slicing with it leaves no panic path, so a caller's guard
    /// need not be kept in memory for an unwinding that could follow one (it
    /// stays in registers).
    #[inline(always)]
    fn visible_len(&self) -> usize {
        debug_assert!(self.len <= self.buf.capacity());
        self.len.min(self.buf.capacity())
    }

    /// The visible bytes.
    #[inline]
    #[must_use]
    pub fn as_slice(&self) -> &[u8] {
        &self.buf.as_slice()[..self.visible_len()]
    }

    /// The visible bytes, mutably. This marks them as possibly written, so
    /// they are zeroed on drop.
    #[inline]
    #[must_use]
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        let len = self.visible_len();
        // `len` and not `self.len`: the same value, which lets the compiler
        // see that the drop's zeroing needs no clamp of its own either.
        self.written = self.written.max(len);
        &mut self.buf.as_mut_slice()[..len]
    }

    /// Shortens the visible bytes to `len`; does nothing if `len` is not
    /// shorter. The hidden bytes are still zeroed on drop.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = mempool::get_buffer(100);
    /// buf.truncate(10);
    /// assert_eq!(buf.len(), 10);
    /// ```
    #[inline]
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Hides every byte: `len()` becomes 0.
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// The number of bytes that can still be appended: `capacity() - len()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = mempool::get_empty_buffer(100);
    /// assert_eq!(buf.remaining_capacity(), 512);
    /// buf.try_extend_from_slice(b"abc")?;
    /// assert_eq!(buf.remaining_capacity(), 509);
    /// # Ok::<(), mempool::CapacityError>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn remaining_capacity(&self) -> usize {
        self.capacity() - self.len
    }

    /// Appends `data` after the visible bytes, or, if it does not fit in the
    /// remaining capacity, writes nothing and returns an error.
    ///
    /// This is the growable side of a `PooledBuf`: take one with
    /// [`BufferPool::get_empty`] (length 0) and `len()` grows as you append,
    /// up to `capacity()`. The buffer never reallocates. The appended bytes
    /// are zeroed on drop like every other written byte.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] if `data.len() > self.remaining_capacity()`; the
    /// buffer is then unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = mempool::get_empty_buffer(8);
    /// buf.try_extend_from_slice(b"hello")?;
    /// buf.try_extend_from_slice(b" world")?;
    /// assert_eq!(&buf[..], b"hello world");
    /// # Ok::<(), mempool::CapacityError>(())
    /// ```
    ///
    /// ```
    /// let mut buf = mempool::get_empty_buffer(512);
    /// assert!(buf.try_extend_from_slice(&[0xFF; 513]).is_err());
    /// assert!(buf.is_empty());
    /// ```
    pub fn try_extend_from_slice(&mut self, data: &[u8]) -> Result<(), CapacityError> {
        if data.len() > self.remaining_capacity() {
            return Err(self.capacity_error(data.len()));
        }
        let end = self.len + data.len();
        self.buf.as_mut_slice()[self.len..end].copy_from_slice(data);
        self.set_written_len(end);
        Ok(())
    }

    /// Appends `count` copies of `byte`; the filling twin of
    /// [`try_extend_from_slice`](Self::try_extend_from_slice).
    #[cfg(feature = "bytes")]
    pub(crate) fn try_extend_with(&mut self, byte: u8, count: usize) -> Result<(), CapacityError> {
        if count > self.remaining_capacity() {
            return Err(self.capacity_error(count));
        }
        let end = self.len + count;
        self.buf.as_mut_slice()[self.len..end].fill(byte);
        self.set_written_len(end);
        Ok(())
    }

    /// The error for appending `additional` bytes that do not fit.
    pub(crate) fn capacity_error(&self, additional: usize) -> CapacityError {
        CapacityError {
            len: self.len,
            capacity: self.capacity(),
            additional,
        }
    }

    /// The spare capacity `[len, capacity)`, for a caller that writes first
    /// and then calls [`set_written_len`](Self::set_written_len). All of it
    /// becomes dirty, because the caller may write any of it.
    #[cfg(feature = "bytes")]
    pub(crate) fn spare_capacity_mut(&mut self) -> &mut [u8] {
        self.written = self.capacity();
        &mut self.buf.as_mut_slice()[self.len..]
    }

    /// Sets the length to `len`, a length whose bytes were just written, and
    /// keeps `written` covering them.
    pub(crate) fn set_written_len(&mut self, len: usize) {
        debug_assert!(len <= self.capacity());
        self.len = len;
        self.written = self.written.max(len);
    }

    /// The pool this buffer returns to.
    #[inline]
    #[must_use]
    pub fn pool(&self) -> &'p BufferPool {
        self.pool
    }
}

impl Drop for PooledBuf<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: `drop` runs once and nothing uses `self.buf` after it, so
        // the buffer is moved out once and never dropped in place.
        let buf = unsafe { ManuallyDrop::take(&mut self.buf) };
        self.pool.put(buf, self.class, self.written);
    }
}

impl Deref for PooledBuf<'_> {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl DerefMut for PooledBuf<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

impl AsRef<[u8]> for PooledBuf<'_> {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsMut<[u8]> for PooledBuf<'_> {
    #[inline]
    fn as_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

impl std::borrow::Borrow<[u8]> for PooledBuf<'_> {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq<[u8]> for PooledBuf<'_> {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl fmt::Debug for PooledBuf<'_> {
    /// Shows the sizes, not the contents, which may be megabytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledBuf")
            .field("len", &self.len)
            .field("capacity", &self.capacity())
            .field("oversized", &self.is_oversized())
            .finish()
    }
}

/// A buffer cannot be used after its guard is dropped:
///
/// ```compile_fail,E0505
/// let buf = mempool::get_buffer(16);
/// let bytes: &[u8] = &buf;
/// drop(buf);
/// assert_eq!(bytes.len(), 16);
/// ```
///
/// nor returned twice:
///
/// ```compile_fail,E0382
/// let buf = mempool::get_buffer(16);
/// drop(buf);
/// drop(buf);
/// ```
///
/// and a guard cannot outlive a local pool:
///
/// ```compile_fail,E0597
/// let buf = {
///     let pool = mempool::BufferPool::new();
///     pool.get(16)
/// };
/// ```
///
/// An unused get is a warning, denied here:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// mempool::get_buffer(16);
/// ```
fn _misuse_does_not_compile() {}

#[cfg(test)]
mod tests {
    use crate::pool::BufferPool;

    #[test]
    fn only_mutable_access_marks_bytes_dirty() {
        let pool = BufferPool::new();
        let mut buf = pool.get(100);
        let sum: u32 = buf.iter().map(|&b| u32::from(b)).sum();
        assert_eq!(
            (sum, buf.as_slice().len(), buf.as_ref().len()),
            (0, 100, 100)
        );
        assert_eq!(buf.written, 0, "reads must not mark bytes dirty");
        buf.truncate(40);
        buf[..10].fill(1); // `DerefMut` lends all 40 visible bytes
        assert_eq!(buf.written, 40);
        buf.truncate(5);
        let _ = buf.as_mut_slice();
        assert_eq!(buf.written, 40, "the high-water mark never drops");
        buf.try_extend_from_slice(&[2; 60]).unwrap();
        assert_eq!(buf.written, 65);
    }
}
