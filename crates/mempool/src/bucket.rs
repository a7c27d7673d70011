//! One bucket: the shared idle queue of one buffer size and its retention bound.

use crossbeam_queue::ArrayQueue;
use crossbeam_utils::CachePadded;

use crate::aligned_buf::AlignedBuf;
use crate::sync::{AtomicUsize, Relaxed};

/// The idle buffers of one size, shared by all threads.
///
/// # Retention bound
///
/// A bucket keeps at most `max_idle` idle buffers, counting both its shared
/// queue and every thread cache. The bound is kept with permits: the bucket
/// starts with `max_idle` of them, and an idle buffer may only be kept while a
/// permit is held for it. A buffer in the queue holds its permit implicitly; a
/// thread cache holds permits for its buffers, plus a few spare ones so that
/// it can take a buffer back without touching this shared counter. A returned
/// buffer that gets no permit is freed (and counted as discarded).
#[derive(Debug)]
pub(crate) struct Bucket {
    /// Capacity of every buffer in this bucket.
    pub(crate) size: usize,
    /// The retention bound: total permits.
    pub(crate) max_idle: usize,
    /// How many permits (idle buffers plus spares) one thread cache may hold.
    pub(crate) local_cap: usize,
    /// Idle buffers; each holds one permit. Its capacity is `max_idle` (at
    /// least 1), so a push by a permit holder never fails.
    idle: ArrayQueue<AlignedBuf>,
    /// Permits held by nobody. Relaxed: a permit guards a count, not memory;
    /// the buffers themselves travel through `idle`, which synchronises them.
    free_permits: CachePadded<AtomicUsize>,
}

impl Bucket {
    pub(crate) fn new(size: usize, max_idle: usize, local_cap: usize) -> Self {
        Self {
            size,
            max_idle,
            local_cap: local_cap.min(max_idle),
            idle: ArrayQueue::new(max_idle.max(1)),
            free_permits: CachePadded::new(AtomicUsize::new(max_idle)),
        }
    }

    /// Takes up to `want` permits and returns how many it got.
    pub(crate) fn acquire(&self, want: usize) -> usize {
        // A failed update leaves `available` holding the fresh value to retry with.
        let mut available = self.free_permits.load(Relaxed);
        loop {
            let take = want.min(available);
            if take == 0 {
                return 0;
            }
            match self.free_permits.compare_exchange_weak(
                available,
                available - take,
                Relaxed,
                Relaxed,
            ) {
                Ok(_) => return take,
                Err(actual) => available = actual,
            }
        }
    }

    /// Gives back `n` permits.
    pub(crate) fn release(&self, n: usize) {
        if n > 0 {
            self.free_permits.fetch_add(n, Relaxed);
        }
    }

    /// Queues an idle buffer whose permit the caller holds; the permit moves
    /// into the queue with it.
    pub(crate) fn push_idle(&self, buf: AlignedBuf) {
        debug_assert_eq!(buf.capacity(), self.size);
        if let Err(buf) = self.idle.push(buf) {
            // Unreachable while permits are accounted right: the queue has room
            // for `max_idle`, and every queued buffer holds one of them.
            debug_assert!(false, "idle queue full while holding a permit");
            drop(buf);
            self.release(1);
        }
    }

    /// Takes an idle buffer; the caller receives its permit.
    pub(crate) fn pop_idle(&self) -> Option<AlignedBuf> {
        self.idle.pop()
    }

    /// Frees every queued idle buffer and releases their permits. Returns how
    /// many it freed.
    pub(crate) fn drain(&self) -> usize {
        let mut freed = 0;
        while let Some(buf) = self.idle.pop() {
            drop(buf);
            self.release(1);
            freed += 1;
        }
        freed
    }

    /// Permits held by nobody (for tests and debug checks).
    #[cfg(test)]
    pub(crate) fn free_permits(&self) -> usize {
        self.free_permits.load(Relaxed)
    }
}
