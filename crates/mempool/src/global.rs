//! The process-wide pool, created on first use.

use once_cell::sync::OnceCell;

use crate::error::PoolError;
use crate::pool::BufferPool;
use crate::pooled_buf::PooledBuf;
use crate::stats::PoolStats;

static GLOBAL: OnceCell<BufferPool> = OnceCell::new();

/// The global pool, created with [`BufferPool::new`] on first use unless
/// [`init_global`] installed another one first.
///
/// # Examples
///
/// ```
/// let pool: &'static mempool::BufferPool = mempool::global();
/// let buf: mempool::PooledBuf<'static> = pool.get(10);
/// assert!(std::ptr::eq(buf.pool(), mempool::global()));
/// ```
#[must_use]
#[inline]
pub fn global() -> &'static BufferPool {
    GLOBAL.get_or_init(BufferPool::new)
}

/// Installs `pool` as the global pool. It must run before anything uses the
/// global pool.
///
/// # Errors
///
/// Gives `pool` back if the global pool already exists.
///
/// # Examples
///
/// ```
/// let pool = mempool::BufferPool::builder().zero_on_drop(false).build()?;
/// mempool::init_global(pool).expect("nothing used the global pool yet");
/// assert!(!mempool::global().zeroes_on_drop());
/// # Ok::<(), mempool::BuildError>(())
/// ```
pub fn init_global(pool: BufferPool) -> Result<&'static BufferPool, BufferPool> {
    let mut pool = Some(pool);
    let installed = GLOBAL.get_or_init(|| pool.take().expect("runs at most once"));
    match pool {
        None => Ok(installed),
        Some(pool) => Err(pool),
    }
}

/// Takes a zeroed buffer of `size` bytes from the global pool; see
/// [`BufferPool::get`].
///
/// If the global pool was installed with a
/// [memory budget](crate::BufferPoolBuilder::memory_budget) ([`init_global`]),
/// this waits, in line, for as long as it takes for the buffer's capacity to
/// fit; the default global pool has no budget and never waits.
///
/// # Panics
///
/// Panics if `size` is above the maximum buffer size (1 GiB by default), and,
/// with a memory budget, if the buffer's capacity is above the whole budget
/// or the pool is [closed](BufferPool::close) before or while it waits. Aborts
/// through [`handle_alloc_error`](std::alloc::handle_alloc_error) if the
/// allocation fails. [`try_get_buffer`] returns errors instead.
///
/// # Examples
///
/// ```
/// let mut buf = mempool::get_buffer(4096);
/// buf[0] = 1;
/// assert_eq!((buf.len(), buf.capacity()), (4096, 4096));
/// ```
// `inline(always)`: the fast path is a few dozen instructions; without it,
// the guard comes back through memory from an out-of-line call.
#[inline(always)]
#[track_caller]
pub fn get_buffer(size: usize) -> PooledBuf<'static> {
    global().get(size)
}

/// Takes a zeroed buffer of `size` bytes from the global pool, or returns an
/// error; it never panics or waits. See [`BufferPool::try_get`].
///
/// # Errors
///
/// [`PoolError::TooLarge`] above the maximum buffer size,
/// [`PoolError::AllocFailed`] when the allocator fails; and if the global
/// pool has a memory budget, [`PoolError::Exhausted`] when the capacity does
/// not fit now, [`PoolError::ExceedsBudget`] when it is above the whole
/// budget, and [`PoolError::Closed`] after [`BufferPool::close`].
///
/// # Examples
///
/// ```
/// let buf = mempool::try_get_buffer(1000)?;
/// assert_eq!(buf.len(), 1000);
/// # Ok::<(), mempool::PoolError>(())
/// ```
///
/// ```
/// assert!(mempool::try_get_buffer(usize::MAX).is_err());
/// ```
#[inline]
#[track_caller]
pub fn try_get_buffer(size: usize) -> Result<PooledBuf<'static>, PoolError> {
    global().try_get(size)
}

/// Takes an empty buffer of at least `capacity` bytes from the global pool,
/// to be filled by appending; see [`BufferPool::get_empty`]. With a memory
/// budget it waits as [`get_buffer`] does, for as long as it takes.
///
/// # Panics
///
/// As [`get_buffer`]: above the maximum buffer size; with a memory budget,
/// for a capacity above the whole budget or a closed pool; and it aborts on
/// allocation failure. [`try_get_empty_buffer`] returns errors instead.
///
/// # Examples
///
/// ```
/// use std::io::Write;
///
/// let mut buf = mempool::get_empty_buffer(100);
/// write!(buf, "offset={}", 42)?;
/// assert_eq!(&buf[..], b"offset=42");
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn get_empty_buffer(capacity: usize) -> PooledBuf<'static> {
    global().get_empty(capacity)
}

/// Takes an empty buffer of at least `capacity` bytes from the global pool,
/// or returns an error; see [`BufferPool::try_get_empty`].
///
/// # Errors
///
/// As [`try_get_buffer`]: [`PoolError::TooLarge`], [`PoolError::AllocFailed`],
/// and with a memory budget [`PoolError::Exhausted`],
/// [`PoolError::ExceedsBudget`] and [`PoolError::Closed`].
///
/// # Examples
///
/// ```
/// assert!(mempool::try_get_empty_buffer(10)?.is_empty());
/// assert!(mempool::try_get_empty_buffer(usize::MAX).is_err());
/// # Ok::<(), mempool::PoolError>(())
/// ```
#[track_caller]
pub fn try_get_empty_buffer(capacity: usize) -> Result<PooledBuf<'static>, PoolError> {
    global().try_get_empty(capacity)
}

/// A snapshot of the global pool's counters; see [`PoolStats`].
///
/// # Examples
///
/// ```
/// let before = mempool::stats();
/// drop(mempool::get_buffer(100));
/// let after = mempool::stats();
/// assert!(after.gets > before.gets);
/// ```
#[must_use]
pub fn stats() -> PoolStats {
    global().stats()
}
