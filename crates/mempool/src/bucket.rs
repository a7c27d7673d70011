//! One bucket: the shared idle queue of one buffer size and its retention bound.

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
    idle: IdleQueue<AlignedBuf>,
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
            idle: IdleQueue::new(max_idle.max(1)),
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

/// The bounded queue of a bucket's idle buffers: a `crossbeam_queue::ArrayQueue`
/// allocated at the first push, so that a pool commits no memory per idle slot
/// before a buffer is kept (a queue of 65,536 slots is 1.5 MiB).
///
/// Only the cold paths touch it (a spill, a refill, a thread without cache,
/// a trim), so the extra load of the lazy cell costs the hot path nothing.
#[cfg(not(loom))]
#[derive(Debug)]
struct IdleQueue<T> {
    capacity: usize,
    queue: std::sync::OnceLock<crossbeam_queue::ArrayQueue<T>>,
}

#[cfg(not(loom))]
impl<T> IdleQueue<T> {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            queue: std::sync::OnceLock::new(),
        }
    }

    /// Queues `item`, or hands it back when the queue is full.
    fn push(&self, item: T) -> Result<(), T> {
        let queue = match self.queue.get() {
            Some(queue) => queue,
            None => {
                // Built outside the cell, not in `get_or_init`: the allocation
                // may call back into the pool (a global allocator built on
                // it), and a push from there would re-enter `get_or_init`, which
                // deadlocks. It finds the cell still empty and builds a queue
                // of its own instead; whichever is set first is used.
                let fresh = crossbeam_queue::ArrayQueue::new(self.capacity);
                drop(self.queue.set(fresh));
                self.queue
                    .get()
                    .expect("set just above, or by a racing push")
            }
        };
        queue.push(item)
    }

    fn pop(&self) -> Option<T> {
        self.queue.get()?.pop()
    }
}

/// The loom stand-in for the `ArrayQueue`, which loom can neither see nor
/// schedule (it uses `core` atomics and spins): a loom mutex around a
/// `VecDeque` with the same semantics, a bounded push that hands the item back
/// when full, and a pop. A lock is stronger than the lock-free queue's
/// per-slot release/acquire, which is what the models rely on and no more:
/// a pushed buffer's bytes are visible to whoever pops it.
#[cfg(loom)]
#[derive(Debug)]
struct IdleQueue<T> {
    capacity: usize,
    queue: crate::sync::Mutex<std::collections::VecDeque<T>>,
}

#[cfg(loom)]
impl<T> IdleQueue<T> {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            queue: crate::sync::Mutex::new(std::collections::VecDeque::new()),
        }
    }

    fn push(&self, item: T) -> Result<(), T> {
        let mut queue = self.queue.lock().unwrap();
        if queue.len() == self.capacity {
            return Err(item);
        }
        queue.push_back(item);
        Ok(())
    }

    fn pop(&self) -> Option<T> {
        self.queue.lock().unwrap().pop_front()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_idle_queue_is_allocated_at_the_first_push_and_bounded() {
        let queue = IdleQueue::new(2);
        assert!(queue.queue.get().is_none());
        assert_eq!(queue.pop(), None);
        assert!(queue.queue.get().is_none(), "a pop allocates nothing");
        assert_eq!(queue.push(1), Ok(()));
        assert_eq!(queue.push(2), Ok(()));
        assert_eq!(queue.push(3), Err(3));
        assert_eq!(
            (queue.pop(), queue.pop(), queue.pop()),
            (Some(1), Some(2), None)
        );
    }
}
