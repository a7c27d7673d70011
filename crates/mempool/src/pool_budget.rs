//! The memory-budget side of `BufferPool`: waiting gets, `close`, and the
//! charge each get makes against the budget.
//!
//! Kept apart from `pool.rs` so that the unbudgeted hot path stays what it
//! was, plus one `Option` check.

use std::panic::Location;
use std::time::Duration;

use crate::budget::{Budget, Charge};
use crate::error::PoolError;
use crate::pool::BufferPool;
use crate::pooled_buf::PooledBuf;
use crate::size_class::OVERSIZED;

impl BufferPool {
    /// Takes a buffer of `size` bytes, all zero, waiting up to `timeout` for
    /// the [memory budget](crate::BufferPoolBuilder::memory_budget) to have
    /// room for it.
    ///
    /// Waiting gets are served first come, first served: bytes given back go
    /// to the oldest waiter first, and a later, smaller get does not overtake
    /// it. A dropped guard wakes the waiter it makes room for at once. The
    /// timeout is never cut short; it may run late by the time the thread
    /// takes to be scheduled again.
    ///
    /// Without a budget it never waits, and behaves as
    /// [`try_get`](Self::try_get).
    ///
    /// # Errors
    ///
    /// * [`PoolError::Timeout`] if the budget had no room for the buffer's
    ///   capacity before `timeout` passed;
    /// * [`PoolError::Closed`] if the pool is [closed](Self::close) before or
    ///   while it waits;
    /// * [`PoolError::ExceedsBudget`] at once if the capacity is above the
    ///   whole budget;
    /// * [`PoolError::TooLarge`] and [`PoolError::AllocFailed`] as for
    ///   [`try_get`](Self::try_get).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use mempool::{BufferPool, PoolError};
    ///
    /// let pool = BufferPool::builder().bucket_sizes([1024]).memory_budget(2048).build()?;
    /// let a = pool.get_timeout(1000, Duration::from_secs(1))?;
    /// let b = pool.get_timeout(1000, Duration::from_secs(1))?;
    /// // The budget is spent: a third get waits 10 ms, then gives up.
    /// let error = pool.get_timeout(1000, Duration::from_millis(10)).unwrap_err();
    /// assert!(matches!(error, PoolError::Timeout { requested: 1024, .. }));
    /// drop(a);
    /// assert!(pool.get_timeout(1000, Duration::from_millis(10)).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[track_caller]
    pub fn get_timeout(&self, size: usize, timeout: Duration) -> Result<PooledBuf<'_>, PoolError> {
        match &self.shared.budget {
            None => self.take(size),
            Some(budget) => self.get_waiting(budget, size, Some(timeout)),
        }
    }

    /// Closes the pool's memory budget: every waiting get fails at once with
    /// [`PoolError::Closed`], and so does every later get. Guards still out
    /// may be dropped as usual, and their bytes are refunded. Calling it again
    /// does nothing.
    ///
    /// A pool without a memory budget has no waiters and no state to close:
    /// there, `close` does nothing and gets keep working, so that an
    /// unbudgeted get pays no check for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use mempool::{BufferPool, PoolError};
    ///
    /// let pool = BufferPool::builder().memory_budget(1 << 20).build()?;
    /// let held = pool.get(100);
    /// pool.close();
    /// assert!(pool.is_closed());
    /// assert_eq!(pool.try_get(100).unwrap_err(), PoolError::Closed);
    /// drop(held); // still fine
    /// assert_eq!(pool.stats().budget.unwrap().in_use, 0);
    /// # Ok::<(), mempool::BuildError>(())
    /// ```
    pub fn close(&self) {
        if let Some(budget) = &self.shared.budget {
            budget.close();
        }
    }

    /// Whether [`close`](Self::close) was called on a pool with a memory
    /// budget. Always `false` for a pool without one.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = mempool::BufferPool::new();
    /// pool.close();
    /// assert!(!pool.is_closed()); // no budget: nothing to close
    /// ```
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.shared.budget.as_ref().is_some_and(Budget::is_closed)
    }

    /// The memory budget, in bytes, if the pool has one.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = mempool::BufferPool::builder().memory_budget(5 << 30).build()?;
    /// assert_eq!(pool.memory_budget(), Some(5 << 30));
    /// assert_eq!(mempool::BufferPool::new().memory_budget(), None);
    /// # Ok::<(), mempool::BuildError>(())
    /// ```
    #[must_use]
    pub fn memory_budget(&self) -> Option<u64> {
        self.shared.budget.as_ref().map(Budget::limit)
    }

    /// The bytes a get of `size` charges: the capacity of the buffer it would
    /// hand out. Fails for sizes above the maximum buffer size, before any
    /// budget is touched.
    pub(crate) fn charge_for(&self, size: usize) -> Result<u64, PoolError> {
        let class = self.shared.classes.class_of(size);
        if class != OVERSIZED {
            return Ok(self.bucket_sizes()[usize::from(class)] as u64);
        }
        if size > self.max_buffer_size() {
            return Err(PoolError::TooLarge {
                requested: size,
                max: self.max_buffer_size(),
            });
        }
        Ok(size as u64)
    }

    /// `try_get` with a budget: charge now or fail.
    #[cold]
    #[track_caller]
    pub(crate) fn try_get_budgeted(
        &self,
        budget: &Budget,
        size: usize,
    ) -> Result<PooledBuf<'_>, PoolError> {
        let charge = budget.try_acquire(self.charge_for(size)?)?;
        self.hand_out(charge, size, Location::caller())
    }

    /// A get that may wait for the budget; `None` waits for ever.
    #[cold]
    #[track_caller]
    pub(crate) fn get_waiting(
        &self,
        budget: &Budget,
        size: usize,
        timeout: Option<Duration>,
    ) -> Result<PooledBuf<'_>, PoolError> {
        let charge = budget.acquire_blocking(self.charge_for(size)?, timeout)?;
        self.hand_out(charge, size, Location::caller())
    }

    /// Turns a charge into a guard, whose drop will refund it. If the buffer
    /// cannot be had, the charge drops and refunds itself.
    pub(crate) fn hand_out(
        &self,
        charge: Charge<'_>,
        size: usize,
        location: &'static Location<'static>,
    ) -> Result<PooledBuf<'_>, PoolError> {
        let buf = self.take_at(size, location)?;
        charge.commit();
        Ok(buf)
    }
}
