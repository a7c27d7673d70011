//! Pool statistics: the public snapshots and the per-thread counters behind them.
//!
//! Counting must not cost more than pooling. A shared atomic bumped on every
//! get stalls two threads on one cache line (20-34 ns a bump here, and six of
//! them per operation measured above 570 ns in a peer crate). So each thread
//! counts into its own [`Counters`] block, which only that thread writes, with
//! plain loads and stores. [`BufferPool::stats`](crate::BufferPool::stats)
//! sums the blocks of live threads plus the counts folded in by threads that
//! exited.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

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

/// One counter. All counters are `Relaxed`: they order nothing and are only
/// summed into snapshots.
#[derive(Debug, Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    /// Adds `n` when this thread is the only writer: a plain load and store,
    /// with no locked read-modify-write.
    #[inline]
    pub(crate) fn add_owned(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }

    /// Adds `n` when other threads may write too.
    #[inline]
    pub(crate) fn add_shared(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }

    #[inline]
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// Counters of one bucket.
#[derive(Debug, Default)]
pub(crate) struct ClassCounters {
    pub(crate) gets: Counter,
    /// Counted on the (slow) allocation path; hits are `gets - misses`, so
    /// the hot path bumps one counter fewer.
    pub(crate) misses: Counter,
    pub(crate) puts: Counter,
    pub(crate) discarded: Counter,
    pub(crate) trimmed: Counter,
}

/// A block of counters, owned by one thread (written with `add_owned`) or
/// shared (`add_shared`): the pool's block for exited threads and for
/// operations that find no thread cache.
#[derive(Debug)]
pub(crate) struct Counters {
    pub(crate) classes: Box<[ClassCounters]>,
    pub(crate) oversized_gets: Counter,
    pub(crate) oversized_puts: Counter,
    pub(crate) oversized_bytes_out: Counter,
    pub(crate) oversized_bytes_back: Counter,
    pub(crate) bytes_requested: Counter,
}

impl Counters {
    pub(crate) fn new(buckets: usize) -> Self {
        Self {
            classes: (0..buckets).map(|_| ClassCounters::default()).collect(),
            oversized_gets: Counter::default(),
            oversized_puts: Counter::default(),
            oversized_bytes_out: Counter::default(),
            oversized_bytes_back: Counter::default(),
            bytes_requested: Counter::default(),
        }
    }

    /// Adds every counter of `other` into `self` (a shared block).
    pub(crate) fn absorb(&self, other: &Counters) {
        for (mine, theirs) in self.classes.iter().zip(other.classes.iter()) {
            mine.gets.add_shared(theirs.gets.get());
            mine.misses.add_shared(theirs.misses.get());
            mine.puts.add_shared(theirs.puts.get());
            mine.discarded.add_shared(theirs.discarded.get());
            mine.trimmed.add_shared(theirs.trimmed.get());
        }
        self.oversized_gets.add_shared(other.oversized_gets.get());
        self.oversized_puts.add_shared(other.oversized_puts.get());
        self.oversized_bytes_out
            .add_shared(other.oversized_bytes_out.get());
        self.oversized_bytes_back
            .add_shared(other.oversized_bytes_back.get());
        self.bytes_requested.add_shared(other.bytes_requested.get());
    }
}

/// Plain sums of [`Counters`], gathered across threads.
#[derive(Debug, Default, Clone)]
pub(crate) struct Totals {
    classes: Vec<[u64; 5]>,
    oversized_gets: u64,
    oversized_puts: u64,
    oversized_bytes_out: u64,
    oversized_bytes_back: u64,
    bytes_requested: u64,
}

impl Totals {
    pub(crate) fn new(buckets: usize) -> Self {
        Self {
            classes: vec![[0; 5]; buckets],
            ..Self::default()
        }
    }

    pub(crate) fn add(&mut self, counters: &Counters) {
        for (sum, class) in self.classes.iter_mut().zip(counters.classes.iter()) {
            let values = [
                &class.gets,
                &class.misses,
                &class.puts,
                &class.discarded,
                &class.trimmed,
            ];
            for (sum, counter) in sum.iter_mut().zip(values) {
                *sum = sum.wrapping_add(counter.get());
            }
        }
        self.oversized_gets += counters.oversized_gets.get();
        self.oversized_puts += counters.oversized_puts.get();
        self.oversized_bytes_out += counters.oversized_bytes_out.get();
        self.oversized_bytes_back += counters.oversized_bytes_back.get();
        self.bytes_requested += counters.bytes_requested.get();
    }

    /// Turns the sums into a snapshot, given each bucket's `(size, max_idle)`.
    pub(crate) fn snapshot(&self, buckets: impl Iterator<Item = (usize, usize)>) -> PoolStats {
        let mut stats = PoolStats {
            gets: self.oversized_gets,
            puts: self.oversized_puts,
            allocations: self.oversized_gets,
            oversized: self.oversized_gets,
            bytes_in_use: self
                .oversized_bytes_out
                .saturating_sub(self.oversized_bytes_back),
            bytes_handed_out: self.oversized_bytes_out,
            bytes_requested: self.bytes_requested,
            ..PoolStats::default()
        };
        for (&[gets, misses, puts, discarded, trimmed], (size, max_idle)) in
            self.classes.iter().zip(buckets)
        {
            let bucket = BucketStats {
                size,
                gets,
                hits: gets.saturating_sub(misses),
                misses,
                puts,
                discarded,
                trimmed,
                in_use: gets.saturating_sub(puts),
                idle: puts.saturating_sub(gets.saturating_sub(misses) + discarded + trimmed),
                max_idle,
            };
            let bytes = |count: u64| count.saturating_mul(size as u64);
            stats.gets += gets;
            stats.puts += puts;
            stats.hits += bucket.hits;
            stats.allocations += bucket.misses;
            stats.discarded += discarded;
            stats.trimmed += trimmed;
            stats.bytes_in_use += bytes(bucket.in_use);
            stats.bytes_retained += bytes(bucket.idle);
            stats.bytes_handed_out += bytes(gets);
            stats.buckets.push(bucket);
        }
        stats.in_use = stats.gets.saturating_sub(stats.puts);
        stats
    }
}
