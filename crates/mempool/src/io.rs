//! `std::io::Write` for [`PooledBuf`]: append within the capacity.
//!
//! A `PooledBuf` written through `io::Write` behaves like `Cursor<&mut [u8]>`
//! positioned at `len()`: bytes are appended, `len()` grows, and the capacity
//! never changes. Growing would mean moving to a bigger bucket and copying
//! everything written so far, the very copy a pool exists to avoid, and a
//! fixed capacity keeps the memory a connection holds predictable. So a
//! write that does not fit fails with a [`CapacityError`](crate::CapacityError) (as an
//! [`io::ErrorKind::WriteZero`] error), like `std` fails on a full
//! `&mut [u8]`; the caller takes a larger buffer.

use std::io::{self, IoSlice};

use crate::pooled_buf::PooledBuf;

/// Appends to the visible bytes, within the capacity.
///
/// * [`write`](io::Write::write) appends as much of `data` as fits and
///   returns that count. When the buffer is full and `data` is not empty, it
///   returns a [`CapacityError`](crate::CapacityError) wrapped in an [`io::ErrorKind::WriteZero`]
///   error, rather than `Ok(0)`, so the numbers reach the caller.
/// * [`write_all`](io::Write::write_all) is all or nothing: if `data` does not
///   fit, it writes nothing and returns that error. A frame is never left
///   half-written.
/// * [`write_vectored`](io::Write::write_vectored) appends the slices in order
///   while they fit, the last one possibly in part.
/// * [`flush`](io::Write::flush) does nothing.
///
/// Every appended byte is zeroed when the buffer is dropped.
///
/// # Examples
///
/// ```
/// use std::io::{ErrorKind, Write};
///
/// let mut buf = mempool::get_empty_buffer(512);
/// buf.write_all(&[7; 500])?;
/// assert_eq!(buf.len(), 500);
///
/// // A partial write takes what fits...
/// assert_eq!(buf.write(&[8; 20])?, 12);
/// assert_eq!(buf.len(), 512);
///
/// // ...and a full buffer refuses the rest with the numbers.
/// let error = buf.write(&[9]).unwrap_err();
/// assert_eq!(error.kind(), ErrorKind::WriteZero);
/// let cause = error.get_ref().unwrap().downcast_ref::<mempool::CapacityError>().unwrap();
/// assert_eq!((cause.len, cause.capacity, cause.additional), (512, 512, 1));
/// # Ok::<(), std::io::Error>(())
/// ```
impl io::Write for PooledBuf<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let count = data.len().min(self.remaining_capacity());
        if count == 0 && !data.is_empty() {
            return Err(self.capacity_error(data.len()).into());
        }
        self.try_extend_from_slice(&data[..count])?;
        Ok(count)
    }

    fn write_vectored(&mut self, slices: &[IoSlice<'_>]) -> io::Result<usize> {
        let wanted: usize = slices.iter().map(|slice| slice.len()).sum();
        if wanted > 0 && self.remaining_capacity() == 0 {
            return Err(self.capacity_error(wanted).into());
        }
        let mut total = 0;
        for slice in slices {
            let count = slice.len().min(self.remaining_capacity());
            self.try_extend_from_slice(&slice[..count])?;
            total += count;
            if count < slice.len() {
                break;
            }
        }
        Ok(total)
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.try_extend_from_slice(data)?;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
