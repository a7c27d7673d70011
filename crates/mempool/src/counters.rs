//! The internal counters: per-thread blocks written without locked instructions, and their sums.
//!
//! Counting must not cost more than pooling. A shared atomic bumped on every
//! get stalls two threads on one cache line (20-34 ns a bump here, and six of
//! them per operation measured above 570 ns in a peer crate, `docs/peers.md`).
//! So each thread counts into its own [`Counters`] block, which only that
//! thread writes, with plain loads and stores.
//! [`BufferPool::stats`](crate::BufferPool::stats) sums the blocks of live
//! threads plus the counts folded in by threads that exited.

use crate::size_class::MAX_BUCKETS;
use crate::stats::{BucketStats, PoolStats};
use crate::sync::{Relaxed, StdAtomicU64};

/// One counter. All counters are `Relaxed`: they order nothing and are only
/// summed into snapshots.
///
/// std's atomic even under loom: a counter guards no memory, so a model has
/// nothing to learn from scheduling it, and the 330 counters of a block would
/// each be a loom branch in every `stats()` and thread exit (past loom's limit).
#[derive(Debug, Default)]
pub(crate) struct Counter(StdAtomicU64);

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
///
/// Only primary counts are kept, each bumped by exactly one event, and every
/// figure of a snapshot is a sum of them (`gets = hits + misses`), never a
/// difference: a counter read a little late can only make a snapshot lag, so
/// each cumulative figure only grows from one snapshot to the next. (Counting
/// `gets` and `misses` and deriving `hits = gets - misses` made `hits` drop
/// when a snapshot read a miss whose get it had not seen yet.)
#[derive(Debug, Default)]
pub(crate) struct ClassCounters {
    pub(crate) hits: Counter,
    pub(crate) misses: Counter,
    pub(crate) puts: Counter,
    pub(crate) discarded: Counter,
    pub(crate) trimmed: Counter,
}

impl ClassCounters {
    /// Every counter, in the order [`Totals`] sums them.
    fn all(&self) -> [&Counter; 5] {
        [
            &self.hits,
            &self.misses,
            &self.puts,
            &self.discarded,
            &self.trimmed,
        ]
    }
}

/// A block of counters, owned by one thread (written with `add_owned`) or
/// shared (`add_shared`): the pool's block for exited threads and for
/// operations that find no thread cache.
///
/// The per-bucket counters are a fixed array indexed by the class masked to
/// [`MAX_BUCKETS`], so the hot path needs no bounds check and no second
/// pointer; `bytes_requested` comes first, next to the first buckets' lines.
#[derive(Debug)]
pub(crate) struct Counters {
    pub(crate) bytes_requested: Counter,
    pub(crate) classes: [ClassCounters; MAX_BUCKETS],
    pub(crate) oversized_gets: Counter,
    pub(crate) oversized_puts: Counter,
    pub(crate) oversized_bytes_out: Counter,
    pub(crate) oversized_bytes_back: Counter,
}

impl Counters {
    pub(crate) fn new() -> Self {
        Self {
            bytes_requested: Counter::default(),
            classes: std::array::from_fn(|_| ClassCounters::default()),
            oversized_gets: Counter::default(),
            oversized_puts: Counter::default(),
            oversized_bytes_out: Counter::default(),
            oversized_bytes_back: Counter::default(),
        }
    }

    /// The counters of bucket `class` (always below [`MAX_BUCKETS`]).
    #[inline]
    pub(crate) fn class(&self, class: usize) -> &ClassCounters {
        &self.classes[class % MAX_BUCKETS]
    }

    /// Counts a get of `size` bytes from bucket `class` in a block only this
    /// thread writes: a hit (an idle buffer) or a miss (a fresh allocation).
    #[inline]
    pub(crate) fn count_get_owned(&self, class: usize, size: usize, hit: bool) {
        let counters = self.class(class);
        let counter = if hit {
            &counters.hits
        } else {
            &counters.misses
        };
        counter.add_owned(1);
        self.bytes_requested.add_owned(size as u64);
    }

    /// [`count_get_owned`](Self::count_get_owned) for a shared block.
    pub(crate) fn count_get_shared(&self, class: usize, size: usize, hit: bool) {
        let counters = self.class(class);
        let counter = if hit {
            &counters.hits
        } else {
            &counters.misses
        };
        counter.add_shared(1);
        self.bytes_requested.add_shared(size as u64);
    }

    /// Adds every counter of `other` into `self` (a shared block).
    pub(crate) fn absorb(&self, other: &Counters) {
        for (mine, theirs) in self.classes.iter().zip(other.classes.iter()) {
            for (mine, theirs) in mine.all().into_iter().zip(theirs.all()) {
                mine.add_shared(theirs.get());
            }
        }
        for (mine, theirs) in self.singles().into_iter().zip(other.singles()) {
            mine.add_shared(theirs.get());
        }
    }

    /// The counters outside the buckets.
    fn singles(&self) -> [&Counter; 5] {
        [
            &self.bytes_requested,
            &self.oversized_gets,
            &self.oversized_puts,
            &self.oversized_bytes_out,
            &self.oversized_bytes_back,
        ]
    }
}

/// Plain sums of [`Counters`], gathered across threads.
#[derive(Debug, Default, Clone)]
pub(crate) struct Totals {
    /// Per bucket: hits, misses, puts, discarded, trimmed.
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
            for (sum, counter) in sum.iter_mut().zip(class.all()) {
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
        for (&[hits, misses, puts, discarded, trimmed], (size, max_idle)) in
            self.classes.iter().zip(buckets)
        {
            let gets = hits.wrapping_add(misses);
            let bucket = BucketStats {
                size,
                gets,
                hits,
                misses,
                puts,
                discarded,
                trimmed,
                // Gauges: differences, which may dip while threads are busy.
                in_use: gets.saturating_sub(puts),
                idle: puts.saturating_sub(hits + discarded + trimmed),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The cumulative figures of a snapshot: each must only grow.
    fn cumulative(stats: &PoolStats) -> Vec<(String, u64)> {
        let mut figures = vec![
            ("gets".to_owned(), stats.gets),
            ("puts".to_owned(), stats.puts),
            ("hits".to_owned(), stats.hits),
            ("allocations".to_owned(), stats.allocations),
            ("oversized".to_owned(), stats.oversized),
            ("discarded".to_owned(), stats.discarded),
            ("trimmed".to_owned(), stats.trimmed),
            ("bytes_requested".to_owned(), stats.bytes_requested),
            ("bytes_handed_out".to_owned(), stats.bytes_handed_out),
        ];
        for bucket in &stats.buckets {
            let size = bucket.size;
            figures.extend([
                (format!("{size}: gets"), bucket.gets),
                (format!("{size}: hits"), bucket.hits),
                (format!("{size}: misses"), bucket.misses),
                (format!("{size}: puts"), bucket.puts),
                (format!("{size}: discarded"), bucket.discarded),
                (format!("{size}: trimmed"), bucket.trimmed),
            ]);
        }
        figures
    }

    fn snapshot(counters: &Counters) -> PoolStats {
        let mut totals = Totals::new(2);
        totals.add(counters);
        totals.snapshot([(512, 8), (1024, 8)].into_iter())
    }

    /// A snapshot may read a thread's counters in the middle of an operation,
    /// after any one of its counter writes: whichever single counter moves
    /// first, no cumulative figure may go down. With `hits = gets - misses`,
    /// a miss counted before its get made `hits` drop (issue 14).
    #[test]
    fn every_cumulative_figure_only_grows_whichever_counter_moves_first() {
        let counters = Counters::new();
        // Some history, so that derived figures are above zero.
        for class in 0..2 {
            for counter in counters.class(class).all() {
                counter.add_owned(5);
            }
        }
        for counter in counters.singles() {
            counter.add_owned(5);
        }
        let every_counter: Vec<&Counter> = (0..2)
            .flat_map(|class| counters.class(class).all())
            .chain(counters.singles())
            .collect();
        for (index, counter) in every_counter.iter().enumerate() {
            let before = cumulative(&snapshot(&counters));
            counter.add_owned(1);
            let after = cumulative(&snapshot(&counters));
            for ((name, was), (_, now)) in before.iter().zip(&after) {
                assert!(
                    now >= was,
                    "counter {index} moved: {name} went from {was} to {now}"
                );
            }
        }
    }

    /// The owned get counters feed the figures they should, and nothing else.
    #[test]
    fn a_counted_get_is_a_hit_or_a_miss() {
        let counters = Counters::new();
        counters.count_get_owned(1, 700, true);
        counters.count_get_shared(1, 1000, false);
        let stats = snapshot(&counters);
        assert_eq!((stats.gets, stats.hits, stats.allocations), (2, 1, 1));
        assert_eq!(
            (stats.bytes_requested, stats.bytes_handed_out),
            (1700, 2048)
        );
        assert_eq!((stats.buckets[1].hits, stats.buckets[1].misses), (1, 1));
        assert_eq!(stats.buckets[0].gets, 0);
    }
}
