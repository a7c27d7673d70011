//! The budget's fast word: the free bytes and a `SLOW` flag in one atomic, charged and refunded with one CAS.

use crossbeam_utils::CachePadded;

use crate::sync::{AtomicU64, Relaxed};

/// The largest budget: the top bit of the word is the `SLOW` flag.
pub(crate) const MAX_BUDGET: u64 = u64::MAX >> 1;

/// In the word: the count is owned by the lock holder, or somebody waits, or
/// the budget is closed. Fast-path updates must not touch it.
const SLOW: u64 = 1 << 63;

/// The free bytes of a budget while nobody waits.
#[derive(Debug)]
pub(super) struct FastWord {
    /// The free bytes, plus the `SLOW` flag in the top bit. Relaxed: it
    /// counts bytes and guards no memory (buffers travel through the pool's
    /// queues). The protocol needs two orders: this word's modification
    /// order, which every CAS and `fetch_or` reads the latest of, and the
    /// budget mutex's happens-before, which puts one holder's `unlock` store
    /// (made before it releases the mutex) ahead of the next holder's `lock`
    /// `fetch_or` (made after it acquires the mutex) in that order. Without
    /// the second, the store could land after the next `fetch_or`, clear its
    /// `SLOW` and reopen the fast path while the count is owned.
    /// `tests/loom_budget.rs` checks both: it fails when the store is moved
    /// past the mutex release, or the `SLOW` test is dropped from the CAS.
    word: CachePadded<AtomicU64>,
    /// The fewest free bytes reached on the fast path (the peak in use); the
    /// lock-side peak is kept under the lock.
    min_free: AtomicU64,
}

impl FastWord {
    pub(super) fn new(limit: u64) -> Self {
        debug_assert!(limit <= MAX_BUDGET, "the builder checks the limit");
        Self {
            word: CachePadded::new(AtomicU64::new(limit)),
            min_free: AtomicU64::new(limit),
        }
    }

    /// Charges `bytes` with one CAS if the fast path is open and they fit.
    #[inline]
    pub(super) fn try_charge(&self, bytes: u64) -> bool {
        let mut word = self.word.load(Relaxed);
        loop {
            // `SLOW` set makes the word larger than any count: one test covers
            // "locked, queued or closed" and "too few bytes" alike.
            if word & SLOW != 0 || word < bytes {
                return false;
            }
            match self
                .word
                .compare_exchange_weak(word, word - bytes, Relaxed, Relaxed)
            {
                Ok(_) => break,
                Err(actual) => word = actual,
            }
        }
        let free = word - bytes;
        if free < self.min_free.load(Relaxed) {
            self.min_free.fetch_min(free, Relaxed);
        }
        true
    }

    /// Refunds `bytes` with one CAS if the fast path is open.
    #[inline]
    pub(super) fn try_refund(&self, bytes: u64) -> bool {
        let mut word = self.word.load(Relaxed);
        loop {
            if word & SLOW != 0 {
                return false;
            }
            match self
                .word
                .compare_exchange_weak(word, word + bytes, Relaxed, Relaxed)
            {
                Ok(_) => return true,
                Err(actual) => word = actual,
            }
        }
    }

    /// Closes the fast path for a lock holder and returns the free bytes,
    /// which the holder owns until [`unlock`](Self::unlock).
    pub(super) fn lock(&self) -> u64 {
        self.word.fetch_or(SLOW, Relaxed) & !SLOW
    }

    /// Publishes the lock holder's count, and reopens the fast path unless
    /// `keep_slow` (somebody waits, or the budget is closed).
    pub(super) fn unlock(&self, available: u64, keep_slow: bool) {
        let slow = if keep_slow { SLOW } else { 0 };
        self.word.store(available | slow, Relaxed);
    }

    /// The fewest free bytes the fast path has seen.
    pub(super) fn min_free(&self) -> u64 {
        self.min_free.load(Relaxed)
    }
}
