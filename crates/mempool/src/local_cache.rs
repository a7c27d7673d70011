//! The thread cache: per-thread LIFO stacks in front of the shared buckets, handed back on thread exit.
//!
//! A shared `ArrayQueue` costs 26 ns a pop+push on one thread and 150-720 ns
//! on two threads fighting over it (`docs/measured-floor.md`). Each
//! thread therefore keeps a few buffers of each bucket in a plain stack that no
//! other thread touches, and pops the most recently returned one, which is
//! still in its CPU cache. The stacks trade buffers with the shared queue in
//! halves when they run empty or full, and hand everything back when the
//! thread exits.
//!
//! One thread may use several pools, so the thread-local holds one
//! [`PoolCache`] per pool, most recently used first.

use std::cell::RefCell;

use crossbeam_utils::CachePadded;

use crate::aligned_buf::AlignedBuf;
use crate::counters::Counters;
use crate::error::PoolError;
use crate::shared::Shared;
use crate::sync::{Arc, Relaxed, Weak, thread_local};

thread_local! {
    /// This thread's caches, one per pool it has used.
    ///
    /// Nothing re-enters this borrow in a harmful way: while it is held we only
    /// move buffers, bump counters and free buffers. Freeing calls the global
    /// allocator, which could in theory call back into a pool; that inner call
    /// finds the `RefCell` borrowed and takes the shared path instead.
    static CACHES: RefCell<Vec<PoolCache>> = const { RefCell::new(Vec::new()) };
}

/// One thread's cache for one pool.
#[derive(Debug)]
pub(crate) struct PoolCache {
    pool_id: u64,
    /// The pool's trim epoch when this cache last synchronised with it.
    epoch: u64,
    shared: Weak<Shared>,
    /// This thread's counters for the pool, registered with the pool so that
    /// `stats()` can read them. Padded so that no other thread's data shares
    /// their cache lines.
    pub(crate) counters: Arc<CachePadded<Counters>>,
    stacks: Box<[Stack]>,
}

/// The cached buffers of one bucket.
#[derive(Debug)]
struct Stack {
    /// Idle buffers, most recently returned last. Allocated once at full
    /// capacity, so pushes never allocate.
    bufs: Vec<AlignedBuf>,
    /// Retention permits this stack holds, with or without a buffer:
    /// `held - bufs.len()` are spare, ready for the next return without
    /// touching the bucket. Never above the bucket's `local_cap`.
    held: usize,
}

/// Takes an idle buffer of bucket `class` through this thread's cache and
/// counts the get, or returns `None` (none idle, or no cache to be had)
/// without counting anything: the caller then goes to [`take_or_allocate`].
#[inline]
pub(crate) fn take(shared: &Arc<Shared>, class: usize, size: usize) -> Option<AlignedBuf> {
    CACHES
        .try_with(|caches| {
            // `None` on a re-entrant call.
            let mut caches = caches.try_borrow_mut().ok()?;
            cache_for(&mut caches, shared).take(shared, class, size)
        })
        .ok()
        .flatten()
}

/// Takes a buffer of bucket `class` for a get of `size` bytes, through this
/// thread's cache when it has one, allocating on a miss, and counts the get.
#[inline]
pub(crate) fn take_or_allocate(
    shared: &Arc<Shared>,
    class: usize,
    size: usize,
) -> Result<AlignedBuf, PoolError> {
    let taken = CACHES.try_with(|caches| {
        let mut caches = caches.try_borrow_mut().ok()?;
        Some(cache_for(&mut caches, shared).take(shared, class, size))
    });
    match taken {
        Ok(Some(Some(buf))) => Ok(buf),
        Ok(Some(None)) => allocate(shared, class, size),
        _ => shared.take_or_allocate_uncached(class, size),
    }
}

/// A miss: allocates outside the thread-local borrow, then counts the get.
#[cold]
#[inline(never)]
fn allocate(shared: &Arc<Shared>, class: usize, size: usize) -> Result<AlignedBuf, PoolError> {
    let buf = shared.allocate(class)?;
    let counted = with_cache(shared, |cache| {
        cache.counters.classes[class].misses.add_owned(1);
        cache.count_get(class, size);
    });
    if counted.is_none() {
        shared.retired.classes[class].misses.add_shared(1);
        shared.count_uncached_get(class, size);
    }
    Ok(buf)
}

/// Keeps a scrubbed buffer of bucket `class`, through this thread's cache
/// when it has one, or discards it at the retention bound.
#[inline]
pub(crate) fn keep(shared: &Arc<Shared>, class: usize, buf: AlignedBuf) {
    // The buffer moves into the closure; if the closure cannot run, it is
    // still in `slot` for the shared path.
    let mut slot = Some(buf);
    let _ = CACHES.try_with(|caches| {
        if let Ok(mut caches) = caches.try_borrow_mut() {
            if let Some(buf) = slot.take() {
                cache_for(&mut caches, shared).keep(shared, class, buf);
            }
        }
    });
    if let Some(buf) = slot {
        shared.keep_uncached(class, buf);
    }
}

/// Runs `f` on this thread's cache for `shared`, if it can have one now.
pub(crate) fn with_cache<R>(
    shared: &Arc<Shared>,
    f: impl FnOnce(&mut PoolCache) -> R,
) -> Option<R> {
    CACHES
        .try_with(|caches| {
            let mut caches = caches.try_borrow_mut().ok()?;
            Some(f(cache_for(&mut caches, shared)))
        })
        .ok()
        .flatten()
}

/// This thread's cache for `shared`: the first entry on the fast path.
#[inline]
fn cache_for<'a>(caches: &'a mut Vec<PoolCache>, shared: &Arc<Shared>) -> &'a mut PoolCache {
    let fresh = match caches.first() {
        Some(first) => first.pool_id == shared.id && first.epoch == shared.trim_epoch.load(Relaxed),
        None => false,
    };
    if !fresh {
        find_or_insert(caches, shared);
    }
    &mut caches[0]
}

/// Removes and drains this thread's cache for the pool `pool_id`, if any.
pub(crate) fn remove(pool_id: u64) {
    let cache = CACHES
        .try_with(|caches| {
            let mut caches = caches.try_borrow_mut().ok()?;
            let index = caches.iter().position(|cache| cache.pool_id == pool_id)?;
            Some(caches.swap_remove(index))
        })
        .ok()
        .flatten();
    // Dropped outside the borrow: dropping drains into the pool.
    drop(cache);
}

/// Moves this thread's cache for `shared` to the front, creating it if needed,
/// and flushes it if the pool was trimmed since its last use.
#[cold]
#[inline(never)]
fn find_or_insert(caches: &mut Vec<PoolCache>, shared: &Arc<Shared>) {
    let index = match caches.iter().position(|cache| cache.pool_id == shared.id) {
        Some(index) => index,
        None => insert(caches, shared),
    };
    // Most recently used first, so a thread that uses one pool finds it at once.
    caches.swap(0, index);
    let cache = &mut caches[0];
    let epoch = shared.trim_epoch.load(Relaxed);
    if cache.epoch != epoch {
        cache.epoch = epoch;
        cache.flush(shared);
    }
}

#[cold]
fn insert(caches: &mut Vec<PoolCache>, shared: &Arc<Shared>) -> usize {
    // Caches of pools that were dropped hold nothing useful.
    caches.retain(|cache| cache.shared.strong_count() > 0);
    let counters = Arc::new(CachePadded::new(Counters::new(shared.buckets.len())));
    shared.register(Arc::clone(&counters));
    let stacks = shared
        .buckets
        .iter()
        .map(|bucket| Stack {
            bufs: Vec::with_capacity(bucket.local_cap),
            held: 0,
        })
        .collect();
    caches.push(PoolCache {
        pool_id: shared.id,
        epoch: shared.trim_epoch.load(Relaxed),
        shared: Arc::downgrade(shared),
        counters,
        stacks,
    });
    caches.len() - 1
}

impl PoolCache {
    /// Counts a get of `size` bytes from bucket `class`.
    #[inline]
    fn count_get(&self, class: usize, size: usize) {
        self.counters.classes[class].gets.add_owned(1);
        self.counters.bytes_requested.add_owned(size as u64);
    }

    /// Takes an idle buffer: the newest from this thread's stack, else one
    /// from the shared queue, and counts the get. `None` counts nothing here,
    /// since the allocation that follows may still fail.
    #[inline]
    fn take(&mut self, shared: &Shared, class: usize, size: usize) -> Option<AlignedBuf> {
        let buf = match self.stacks[class].bufs.pop() {
            // Its permit stays held, as a spare for the next return.
            Some(buf) => buf,
            None => self.take_shared(shared, class)?,
        };
        self.count_get(class, size);
        Some(buf)
    }

    /// `take` when this thread's stack is empty: an idle buffer from the
    /// shared queue. Out of line, so the hit path stays small.
    #[cold]
    #[inline(never)]
    fn take_shared(&mut self, shared: &Shared, class: usize) -> Option<AlignedBuf> {
        let stack = &mut self.stacks[class];
        let bucket = &shared.buckets[class];
        let buf = bucket.pop_idle()?;
        // The buffer brought a permit; keep it as a spare if there is room.
        if stack.held < bucket.local_cap {
            stack.held += 1;
        } else {
            bucket.release(1);
        }
        Some(buf)
    }

    /// Keeps a returned, already scrubbed buffer of bucket `class`, or
    /// discards it when the bucket's retention bound is reached.
    #[inline]
    fn keep(&mut self, shared: &Shared, class: usize, buf: AlignedBuf) {
        self.counters.classes[class].puts.add_owned(1);
        let stack = &mut self.stacks[class];
        if stack.held > stack.bufs.len() {
            // A spare permit: the fast path.
            stack.bufs.push(buf);
            return;
        }
        self.keep_slow(shared, class, buf);
    }

    /// `keep` without a spare permit: spill half the stack if it is full, then
    /// acquire permits from the bucket, or discard the buffer when there are none.
    #[cold]
    #[inline(never)]
    fn keep_slow(&mut self, shared: &Shared, class: usize, buf: AlignedBuf) {
        let bucket = &shared.buckets[class];
        let counters = &self.counters.classes[class];
        let stack = &mut self.stacks[class];
        if bucket.local_cap > 0 && stack.bufs.len() == bucket.local_cap {
            // Full, with a buffer for every permit: move the older (colder)
            // half to the shared queue, permits included.
            let spill = bucket.local_cap.div_ceil(2);
            for old in stack.bufs.drain(..spill) {
                bucket.push_idle(old);
            }
            stack.held -= spill;
        }
        // Take permits for this buffer and a few more, so the next returns
        // stay local.
        let room = bucket.local_cap - stack.bufs.len();
        let permits = bucket.acquire(room.div_ceil(2).max(1));
        if permits == 0 {
            counters.discarded.add_owned(1);
            drop(buf);
        } else if room == 0 {
            // No thread cache for this bucket: the shared queue keeps it.
            bucket.push_idle(buf);
        } else {
            stack.held += permits;
            stack.bufs.push(buf);
        }
    }

    /// Frees every cached buffer and releases every permit this cache holds.
    /// Returns the bytes freed.
    pub(crate) fn flush(&mut self, shared: &Shared) -> u64 {
        let mut bytes = 0;
        for ((stack, bucket), counters) in self
            .stacks
            .iter_mut()
            .zip(shared.buckets.iter())
            .zip(self.counters.classes.iter())
        {
            let freed = stack.bufs.len();
            bucket.release(stack.held);
            stack.held = 0;
            stack.bufs.clear();
            counters.trimmed.add_owned(freed as u64);
            bytes += (freed * bucket.size) as u64;
        }
        bytes
    }
}

impl Drop for PoolCache {
    /// Hands the cached buffers back to the pool's shared queues and folds this
    /// thread's counters into the pool's, when the thread exits or the pool is
    /// dropped.
    fn drop(&mut self) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        for (stack, bucket) in self.stacks.iter_mut().zip(shared.buckets.iter()) {
            // Each queued buffer takes its permit along; the spares go back.
            let spare = stack.held - stack.bufs.len();
            for buf in stack.bufs.drain(..) {
                bucket.push_idle(buf);
            }
            bucket.release(spare);
            stack.held = 0;
        }
        shared.retire(&self.counters);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::BufferPool;
    use crate::pooled_buf::PooledBuf;
    use crate::sync::thread;

    /// Many threads trading buffers: afterwards every permit is back (free or
    /// held by a queued buffer), none was created, and the queue never held
    /// more than the bound.
    #[test]
    fn retention_permits_are_conserved_across_threads() {
        // Buffers cross threads through the channel, so the pool is a
        // `static`; and the threads are spawned, not scoped, because a joined
        // spawned thread has also run its thread-local destructors, which hand
        // its cache back.
        static POOL: std::sync::OnceLock<BufferPool> = std::sync::OnceLock::new();
        let pool = POOL.get_or_init(|| {
            BufferPool::builder()
                .bucket_sizes([64, 4096])
                .max_idle_per_bucket(5)
                .thread_cache_bytes(3 * 64)
                .build()
                .unwrap()
        });
        let (tx, rx) = crate::sync::mpsc::sync_channel::<PooledBuf<'static>>(8);
        let mut threads = vec![thread::spawn(move || rx.into_iter().for_each(drop))];
        for t in 0..6 {
            let tx = tx.clone();
            threads.push(thread::spawn(move || {
                for round in 0..300usize {
                    let held: Vec<_> = (0..(round + t) % 7)
                        .map(|i| pool.get(if i % 2 == 0 { 10 } else { 3000 }))
                        .collect();
                    if round % 5 == 0 {
                        held.into_iter().for_each(|buf| tx.send(buf).unwrap());
                    }
                    if round % 50 == 0 {
                        pool.trim();
                    }
                }
                // Exit holding spare permits: the buffers go to the consumer.
                drop(pool.get(10));
                drop(pool.get(3000));
                for size in [10, 3000] {
                    tx.send(pool.get(size)).unwrap();
                }
            }));
        }
        drop(tx);
        for thread in threads {
            thread.join().unwrap();
        }
        // The workers exited, so their caches are in the queues; drain this
        // thread's too.
        remove(pool.shared().id);
        let stats = pool.stats();
        for (bucket, figures) in pool.shared().buckets.iter().zip(&stats.buckets) {
            let queued = bucket.drain();
            assert!(queued <= bucket.max_idle, "{figures:?}");
            assert_eq!(bucket.free_permits(), bucket.max_idle, "{figures:?}");
        }
    }

    /// Permits held by nobody plus idle buffers plus what this thread's cache
    /// holds must always equal the bound; check it after assorted traffic.
    #[test]
    fn retention_permits_are_conserved() {
        let pool = BufferPool::builder()
            .bucket_sizes([64, 1024])
            .max_idle_per_bucket(6)
            .thread_cache_bytes(4 * 64)
            .build()
            .unwrap();
        let mut held = Vec::new();
        for round in 0..50usize {
            for i in 0..(round % 9) {
                held.push(pool.get(if i % 2 == 0 { 10 } else { 1000 }));
            }
            if round % 3 == 0 {
                held.clear();
            }
            if round % 7 == 0 {
                pool.trim();
            }
        }
        held.clear();
        let stats = pool.stats();
        for (bucket, figures) in pool.shared().buckets.iter().zip(&stats.buckets) {
            assert!(figures.idle as usize <= bucket.max_idle);
        }
        // Hand this thread's cache back, so that every permit is in the queue or free.
        remove(pool.shared().id);
        for bucket in pool.shared().buckets.iter() {
            bucket.drain();
            assert_eq!(bucket.free_permits(), bucket.max_idle);
        }
    }
}
