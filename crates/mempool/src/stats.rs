//! Pool statistics: the public snapshots [`PoolStats`] and [`BucketStats`].
//!
//! They are summed from the per-thread blocks of `counters.rs`.

use crate::budget::BudgetStats;

/// A snapshot of a pool's counters, from [`BufferPool::stats`] or
/// [`mempool::stats`].
///
/// The counters keep the meaning they had in Takhin's Go pool:
///
/// | field | counts |
/// |---|---|
/// | `gets` | every buffer handed out, pooled or oversized |
/// | `puts` | every guard dropped (its buffer returned, discarded or freed) |
/// | `allocations` | every fresh heap allocation: bucket misses plus oversized gets |
/// | `oversized` | gets above the largest bucket, allocated and freed directly |
/// | `discarded` | pooled buffers freed on return because their bucket was full |
/// | `in_use` | guards alive now |
///
/// # Identities
///
/// Once every guard has been dropped and no thread is inside the pool, these
/// hold exactly (the tests check them on random workloads):
///
/// ```text
/// in_use      = gets - puts                                  (= 0 when all are dropped)
/// gets        = hits + allocations
/// allocations = misses + oversized          (misses: sum of buckets[i].misses)
/// idle        = puts - oversized - hits - discarded - trimmed   (sum of buckets[i].idle)
/// ```
///
/// While other threads are getting and dropping buffers, a snapshot reads each
/// thread's counters at a slightly different moment, so the identities can be
/// off by the operations in flight; differences saturate at zero.
///
/// Every cumulative figure (all but `in_use`, `bytes_in_use`,
/// `bytes_retained` and each bucket's `in_use` and `idle`, which are gauges)
/// only grows from one snapshot to the next, even under churn: each is a sum
/// of counts that only grow (`gets` is `hits + misses` + `oversized`), never
/// a difference.
///
/// [`BufferPool::stats`]: crate::BufferPool::stats
/// [`mempool::stats`]: crate::stats()
///
/// # Examples
///
/// ```
/// let pool = mempool::BufferPool::new();
/// let buf = pool.get(1000);
/// drop(buf);
/// let again = pool.get(700); // same 1 KiB bucket: a hit
/// let stats = pool.stats();
/// assert_eq!((stats.gets, stats.allocations, stats.hits, stats.in_use), (2, 1, 1, 1));
/// assert_eq!(stats.bucket(1024).unwrap().hits, 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Fresh heap allocations: bucket misses plus oversized gets.
    pub allocations: u64,
    /// Buffers handed out, pooled or oversized.
    pub gets: u64,
    /// Guards dropped.
    pub puts: u64,
    /// Guards alive now: `gets - puts`.
    pub in_use: u64,
    /// Gets above the largest bucket, allocated directly and freed on drop.
    pub oversized: u64,
    /// Pooled buffers freed on return because their bucket was full.
    pub discarded: u64,
    /// Gets served from an idle buffer instead of a fresh allocation.
    pub hits: u64,
    /// Idle buffers freed by [`BufferPool::trim`](crate::BufferPool::trim).
    pub trimmed: u64,
    /// Capacity of the buffers that guards hold now, in bytes.
    pub bytes_in_use: u64,
    /// Capacity of the idle buffers the pool keeps for reuse, in bytes.
    pub bytes_retained: u64,
    /// Sum of every requested size, in bytes. Against `bytes_handed_out` it
    /// gives the bucket rounding waste.
    pub bytes_requested: u64,
    /// Sum of the capacity of every buffer handed out, in bytes.
    pub bytes_handed_out: u64,
    /// One entry per bucket, smallest first.
    pub buckets: Vec<BucketStats>,
    /// The memory budget's figures, when the pool has one
    /// ([`BufferPoolBuilder::memory_budget`](crate::BufferPoolBuilder::memory_budget)).
    pub budget: Option<BudgetStats>,
}

/// A snapshot of one bucket's counters; see [`PoolStats`] for how they relate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BucketStats {
    /// The capacity of this bucket's buffers, in bytes.
    pub size: usize,
    /// Buffers handed out from this bucket.
    pub gets: u64,
    /// Gets served by an idle buffer.
    pub hits: u64,
    /// Gets that had to allocate: `gets - hits`.
    pub misses: u64,
    /// Buffers of this bucket returned by dropped guards.
    pub puts: u64,
    /// Returned buffers freed because the bucket already kept `max_idle`.
    pub discarded: u64,
    /// Idle buffers freed by a trim.
    pub trimmed: u64,
    /// Buffers of this bucket held by guards now.
    pub in_use: u64,
    /// Idle buffers kept for reuse, in the shared queue or a thread cache.
    pub idle: u64,
    /// The retention bound: the most idle buffers this bucket keeps.
    pub max_idle: usize,
}

impl PoolStats {
    /// The fraction of gets served without a fresh allocation, from 0.0 to
    /// 1.0, or `None` before the first get.
    #[must_use]
    pub fn hit_rate(&self) -> Option<f64> {
        ratio(self.hits, self.gets)
    }

    /// The stats of the bucket whose buffers hold `size` bytes exactly.
    #[must_use]
    pub fn bucket(&self, size: usize) -> Option<&BucketStats> {
        self.buckets.iter().find(|bucket| bucket.size == size)
    }
}

impl BucketStats {
    /// The fraction of this bucket's gets served by an idle buffer, or `None`
    /// before its first get.
    #[must_use]
    pub fn hit_rate(&self) -> Option<f64> {
        ratio(self.hits, self.gets)
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}
