//! The internal counters: per-thread blocks written without locked instructions, and their sums.
//!
//! Counting must not cost more than pooling. A shared atomic bumped on every
//! get stalls two threads on one cache line (20-34 ns a bump here, and six of
//! them per operation measured above 570 ns in a peer crate, `docs/peers.md`).
//! So each thread counts into its own [`Counters`] block, which only that
//! thread writes, with plain loads and stores.
//! [`BufferPool::stats`](crate::BufferPool::stats) sums the blocks of live
//! threads plus the counts folded in by threads that exited.

use crate::stats::{BucketStats, PoolStats};
use crate::sync::{AtomicU64, Relaxed};

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
