//! [`BudgetStats`]: the public snapshot of a memory budget.

use std::time::Duration;

/// A snapshot of a pool's memory budget, in [`PoolStats::budget`](crate::PoolStats::budget).
///
/// `in_use + available == limit` always holds in a snapshot.
///
/// # Examples
///
/// ```
/// let pool = mempool::BufferPool::builder()
///     .bucket_sizes([4096])
///     .memory_budget(10_000)
///     .build()?;
/// let buf = pool.get(100);
/// let budget = pool.stats().budget.unwrap();
/// assert_eq!((budget.limit, budget.in_use, budget.available), (10_000, 4096, 5904));
/// # Ok::<(), mempool::BuildError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BudgetStats {
    /// The budget: the most bytes (buffer capacities) handed out at once.
    pub limit: u64,
    /// Bytes charged now: capacities of live guards, plus grants not yet
    /// turned into guards.
    pub in_use: u64,
    /// Bytes free now: `limit - in_use`.
    pub available: u64,
    /// The highest `in_use` seen.
    pub peak_in_use: u64,
    /// Gets waiting in the queue now.
    pub waiting: u64,
    /// Gets that joined the queue, whatever the outcome.
    pub waits_total: u64,
    /// Time spent in the queue by gets that left it.
    pub wait_time_total: Duration,
    /// Gets that found the budget spent (failed `try_get`s plus gets that
    /// had to wait).
    pub exhausted_total: u64,
    /// Waits that ended at their deadline.
    pub timeouts_total: u64,
    /// Async waits whose future was dropped before it completed.
    pub cancelled_total: u64,
    /// Whether [`BufferPool::close`](crate::BufferPool::close) was called.
    pub closed: bool,
}
