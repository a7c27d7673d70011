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

use crossbeam_utils::CachePadded;

use crate::aligned_buf::AlignedBuf;
use crate::counters::Counters;
use crate::error::PoolError;
use crate::shared::{NO_KEY, Shared};
use crate::stack::{STACK_CAP, Stack};
use crate::sync::{Arc, Cell, RefCell, Relaxed, Weak, thread_local};

/// The front cache, as its cell holds it: a pointer to its head, from
/// `Box::into_raw`, or to [`NO_CACHE`] when the cell holds none.
///
/// A raw pointer, so that the cell has no drop glue (std then serves
/// [`FRONT`] with no state check and no destructor registration; [`Rest`]'s
/// destructor frees the cache), and so that the fast paths use the cache
/// where it is, without taking it out and putting it back. Never null, so
/// that the fast paths test nothing but the key.
type Front = *const CacheHead;

/// The first field of a [`PoolCache`]: what the fast paths read first.
#[repr(C)]
#[derive(Debug)]
struct CacheHead {
    /// The pool's [`Shared::cache_key`] when this cache last synchronised with
    /// it: equal means this pool, and no trim since.
    key: u64,
}

/// What [`FRONT`] points to when it holds no cache: a head whose key no pool
/// has.
static NO_CACHE: CacheHead = CacheHead { key: NO_KEY };

thread_local! {
    /// The cache of the pool this thread used last: all the fast paths touch.
    static FRONT: FrontCell = const { empty_front() };
}

/// What [`FRONT`] is: a plain cell, without drop glue.
#[cfg(not(loom))]
type FrontCell = Cell<Front>;

#[cfg(not(loom))]
const fn empty_front() -> FrontCell {
    Cell::new(&raw const NO_CACHE)
}

/// Under loom, a cell that hands its cache back when it is destroyed: loom
/// destroys a model thread's thread-locals in an order of its own, and
/// [`FRONT`] may go before [`REST`], whose destructor would otherwise drain it.
#[cfg(loom)]
struct FrontCell(Cell<Front>);

#[cfg(loom)]
const fn empty_front() -> FrontCell {
    FrontCell(Cell::new(&raw const NO_CACHE))
}

#[cfg(loom)]
impl std::ops::Deref for FrontCell {
    type Target = Cell<Front>;

    fn deref(&self) -> &Cell<Front> {
        &self.0
    }
}

#[cfg(loom)]
impl Drop for FrontCell {
    fn drop(&mut self) {
        drop(take_front(self));
    }
}

/// Takes the front cache out of its cell, as the `Box` it was.
fn take_front(front: &FrontCell) -> Option<Box<PoolCache>> {
    let head = front.replace(&raw const NO_CACHE);
    // SAFETY: a pointer in the cell other than `NO_CACHE`'s comes from
    // `Box::into_raw` (in `put_front`), and the cell owns that box; taking
    // the pointer out of the cell hands the ownership back, once.
    (!std::ptr::eq(head, &NO_CACHE))
        .then(|| unsafe { Box::from_raw(head.cast::<PoolCache>().cast_mut()) })
}

/// Puts `cache` in the (empty) front cell, which owns it from then on.
fn put_front(front: &FrontCell, cache: Box<PoolCache>) {
    let old = front.replace(Box::into_raw(cache).cast::<CacheHead>().cast_const());
    // Nothing puts a cache in the cell while one is out (see `Rest`).
    debug_assert!(std::ptr::eq(old, &NO_CACHE));
}

thread_local! {
    /// The caches of the other pools this thread used, and the exit hook
    /// that hands every cache back (the front one too). Only slow paths
    /// touch it, so its destructor is registered there, before any cache
    /// can be in `FRONT`.
    static REST: Rest = const { Rest(RefCell::new(Vec::new())) };
}

/// This thread's caches but the front one.
///
/// # Re-entrancy and teardown
///
/// The fast paths use the front cache in place, through its pointer, and
/// call nothing but `memset` while they hold it, so nothing else can reach
/// it meanwhile. A slow path *takes* the front cache out of [`FRONT`], holds
/// `Rest` borrowed for as long as the cache is out, and may call the
/// allocator (to free a buffer, to grow the vector); a global allocator that
/// calls back into a pool then finds `FRONT` empty and `Rest` borrowed, and
/// takes the shared path instead of panicking. At thread exit, `Rest`'s
/// destructor takes the front cache out and drops it with the others (each
/// hands its buffers back to its pool); an operation after that finds
/// `FRONT` empty and `Rest` gone: the shared path again.
///
/// Boxed caches, so that the front is one word, and a cache moves between
/// `FRONT` and `Rest` without copying it.
#[expect(
    clippy::vec_box,
    reason = "`FRONT` holds a `Box<PoolCache>`, see above"
)]
struct Rest(RefCell<Vec<Box<PoolCache>>>);

impl Drop for Rest {
    fn drop(&mut self) {
        // `Rest` is already marked destroyed, so a call that re-enters from
        // the frees below takes the shared path.
        if let Ok(front) = FRONT.try_with(take_front) {
            drop(front);
        }
    }
}

/// One thread's cache for one pool.
///
/// `repr(C)`, so that its head comes first and [`FRONT`] can point to either.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct PoolCache {
    head: CacheHead,
    pool_id: u64,
    shared: Weak<Shared>,
    /// This thread's counters for the pool, registered with the pool so that
    /// `stats()` can read them. Padded so that no other thread's data shares
    /// their cache lines.
    pub(crate) counters: Arc<CachePadded<Counters>>,
    stacks: Box<[Stack]>,
}

/// The front cache, used where it is, if it belongs to `shared` and saw no
/// trim since its last use: one compare, no borrow flag, no lookup, no null
/// test.
///
/// # Safety
///
/// While the reference lives, the caller must not reach [`FRONT`] or
/// [`REST`], even through a call into a pool or the allocator, nor call
/// `front_cache` again: it is the only reference to the cache. (A signal
/// handler that uses a pool could break this, as it could break an
/// allocator's thread cache: using a pool from a signal handler is not
/// supported.)
#[inline(always)]
unsafe fn front_cache<'a>(shared: &Shared) -> Option<&'a mut PoolCache> {
    // `try_with`: always `Ok` for std's const, drop-free thread-local (so it
    // costs nothing); under loom `FRONT` can be gone while a destructor still
    // returns buffers.
    let head = FRONT.try_with(|front| front.get()).ok()?;
    // SAFETY: `head` points to `NO_CACHE` or to the head of the cache the
    // cell owns (see `put_front`), alive until `take_front` takes it out, on
    // this thread: a `CacheHead` either way.
    if unsafe { (*head).key } != shared.cache_key.load(Relaxed) {
        return None;
    }
    // SAFETY: the key is a pool's, so not `NO_KEY` (`NEXT_KEY` starts above
    // it and 64 bits do not wrap): `head` is the first
    // field of a `PoolCache` (`repr(C)`) the cell owns, with the provenance
    // of its box. The reference is the only one while it lives: everything
    // else that uses the cache takes it out of the cell first, and the
    // caller reaches nothing that could (its promise).
    Some(unsafe { &mut *head.cast::<PoolCache>().cast_mut() })
}

/// The fast path of a get: the newest idle buffer of bucket `class` from this
/// thread's front cache, counted as a hit, or `None` (not the front pool, a
/// trim since, an empty stack, a re-entrant call, teardown) without counting
/// anything: the caller then goes to [`take_or_allocate`].
///
/// # Safety
///
/// `class` must be one of `shared`'s bucket indices (the fast route's
/// answers are): the stack is found without a bounds check.
#[inline(always)]
pub(crate) unsafe fn take(shared: &Shared, class: usize, size: usize) -> Option<AlignedBuf> {
    // SAFETY: what follows pops and counts; it calls nothing.
    let cache = unsafe { front_cache(shared) }?;
    debug_assert!(class < cache.stacks.len());
    // SAFETY: the cache is `shared`'s: keys are never reused across pools
    // or trims (`NEXT_KEY`), and a cache's key is only ever written from its
    // own pool (`new_cache`, `with_cache`). That pool gave it one stack per
    // bucket (`new_cache`), and `class` is a bucket index (the caller's
    // promise).
    let buf = unsafe { cache.stacks.get_unchecked_mut(class) }.pop()?;
    cache.counters.count_get_owned(class, size, true);
    Some(buf)
}

/// Takes a buffer of bucket `class` for a get of `size` bytes, through this
/// thread's cache when it has one, allocating on a miss, and counts the get.
pub(crate) fn take_or_allocate(
    shared: &Arc<Shared>,
    class: usize,
    size: usize,
) -> Result<AlignedBuf, PoolError> {
    match with_cache(shared, |cache| cache.take(shared, class, size)) {
        Some(Some(buf)) => Ok(buf),
        Some(None) => allocate(shared, class, size),
        None => shared.take_or_allocate_uncached(class, size),
    }
}

/// A miss: allocates outside the thread-local borrow, then counts the get.
#[cold]
#[inline(never)]
fn allocate(shared: &Arc<Shared>, class: usize, size: usize) -> Result<AlignedBuf, PoolError> {
    let buf = shared.allocate(class)?;
    let counted = with_cache(shared, |cache| {
        cache.counters.count_get_owned(class, size, false);
    });
    if counted.is_none() {
        shared.retired.count_get_shared(class, size, false);
    }
    Ok(buf)
}

/// The fast path of a put: pushes a returned buffer of bucket `class` onto a
/// spare permit of this thread's front cache, zeroes its first `dirty` bytes
/// there, and counts the put. Gives the buffer back, untouched and
/// uncounted, when it cannot keep it that way: the caller then goes to
/// [`keep`].
#[inline(always)]
pub(crate) fn keep_fast(
    shared: &Shared,
    class: usize,
    buf: AlignedBuf,
    dirty: usize,
) -> Result<(), AlignedBuf> {
    // SAFETY: what follows pushes, counts and zeroes; it calls nothing but
    // `memset`.
    let Some(cache) = (unsafe { front_cache(shared) }) else {
        return Err(buf);
    };
    let Some(stack) = cache.stacks.get_mut(class) else {
        return Err(buf);
    };
    let buf = stack.push(buf)?;
    // Zeroed through the slot right after the push, so that the compiler
    // reuses what it just stored there instead of loading it again.
    shared.scrub(buf, dirty);
    cache.counters.class(class).puts.add_owned(1);
    Ok(())
}

/// Keeps a scrubbed buffer of bucket `class`, through this thread's cache
/// when it has one, or discards it at the retention bound.
pub(crate) fn keep(shared: &Arc<Shared>, class: usize, buf: AlignedBuf) {
    let mut slot = Some(buf);
    with_cache(shared, |cache| {
        if let Some(buf) = slot.take() {
            cache.keep(shared, class, buf);
        }
    });
    if let Some(buf) = slot {
        shared.keep_uncached(class, buf);
    }
}

/// Runs `f` on this thread's cache for `shared`, if it can have one now:
/// moves it to the front, creating it if needed, and flushes it if the pool
/// was trimmed since its last use. The slow paths and `trim` come here.
pub(crate) fn with_cache<R>(
    shared: &Arc<Shared>,
    f: impl FnOnce(&mut PoolCache) -> R,
) -> Option<R> {
    REST.try_with(|rest| {
        // Borrowed for as long as the front cache is out (see `Rest`).
        let mut rest = rest.0.try_borrow_mut().ok()?;
        FRONT
            .try_with(|front| {
                // Owned as a plain `Box` while out, so that a panic in `f` drops
                // it (handing its buffers back) instead of leaking it.
                let mut cache = match take_front(front) {
                    Some(front) if front.pool_id == shared.id => front,
                    other => {
                        let cache = match rest.iter().position(|c| c.pool_id == shared.id) {
                            Some(index) => rest.swap_remove(index),
                            None => new_cache(&mut rest, shared),
                        };
                        rest.extend(other);
                        cache
                    }
                };
                let key = shared.cache_key.load(Relaxed);
                if cache.head.key != key {
                    cache.head.key = key;
                    cache.flush(shared);
                }
                let result = f(&mut cache);
                put_front(front, cache);
                Some(result)
            })
            .ok()?
    })
    .ok()
    .flatten()
}

/// Removes and drains this thread's cache for the pool `pool_id`, if any.
pub(crate) fn remove(pool_id: u64) {
    let cache = REST
        .try_with(|rest| {
            let mut rest = rest.0.try_borrow_mut().ok()?;
            match FRONT.try_with(take_front).ok()? {
                Some(front) if front.pool_id == pool_id => Some(front),
                other => {
                    if let Some(other) = other {
                        let _ = FRONT.try_with(|front| put_front(front, other));
                    }
                    let index = rest.iter().position(|cache| cache.pool_id == pool_id)?;
                    Some(rest.swap_remove(index))
                }
            }
        })
        .ok()
        .flatten();
    // Dropped outside the borrow: dropping drains into the pool.
    drop(cache);
}

/// A new, registered cache for `shared`.
#[cold]
#[expect(clippy::vec_box, reason = "`Rest` boxes its caches")]
fn new_cache(rest: &mut Vec<Box<PoolCache>>, shared: &Arc<Shared>) -> Box<PoolCache> {
    // Caches of pools that were dropped hold nothing useful.
    rest.retain(|cache| cache.shared.strong_count() > 0);
    let counters = Arc::new(CachePadded::new(Counters::new()));
    shared.register(Arc::clone(&counters));
    Box::new(PoolCache {
        head: CacheHead {
            key: shared.cache_key.load(Relaxed),
        },
        pool_id: shared.id,
        shared: Arc::downgrade(shared),
        counters,
        stacks: shared.buckets.iter().map(|_| Stack::new()).collect(),
    })
}

impl PoolCache {
    /// Takes an idle buffer: the newest from this thread's stack, else one
    /// from the shared queue, and counts the get. `None` counts nothing here,
    /// since the allocation that follows may still fail.
    fn take(&mut self, shared: &Shared, class: usize, size: usize) -> Option<AlignedBuf> {
        let buf = match self.stacks[class].pop() {
            Some(buf) => buf,
            None => self.take_shared(shared, class)?,
        };
        self.counters.count_get_owned(class, size, true);
        Some(buf)
    }

    /// `take` when this thread's stack is empty: an idle buffer from the
    /// shared queue.
    fn take_shared(&mut self, shared: &Shared, class: usize) -> Option<AlignedBuf> {
        let stack = &mut self.stacks[class];
        let bucket = &shared.buckets[class];
        let buf = bucket.pop_idle()?;
        // The buffer brought a permit; keep it as a spare if there is room.
        if stack.held() < local_cap(bucket.local_cap) {
            stack.add_held(1);
        } else {
            bucket.release(1);
        }
        Some(buf)
    }

    /// Keeps a returned, already scrubbed buffer of bucket `class`, or
    /// discards it when the bucket's retention bound is reached: push on a
    /// spare permit, else spill half the stack if it is full and acquire
    /// permits from the bucket, else discard.
    fn keep(&mut self, shared: &Shared, class: usize, buf: AlignedBuf) {
        let counters = self.counters.class(class);
        counters.puts.add_owned(1);
        let stack = &mut self.stacks[class];
        let Err(buf) = stack.push(buf) else {
            return;
        };
        let bucket = &shared.buckets[class];
        let cap = local_cap(bucket.local_cap);
        if cap > 0 && stack.len() == cap {
            // Full, with a buffer for every permit: move the older (colder)
            // half to the shared queue, permits included.
            let spill = cap.div_ceil(2);
            for old in stack.take_oldest(spill) {
                bucket.push_idle(old);
            }
            stack.drop_held(spill);
        }
        // Take permits for this buffer and a few more, so the next returns
        // stay local.
        let room = cap - stack.len();
        let permits = bucket.acquire(room.div_ceil(2).max(1));
        if permits == 0 {
            counters.discarded.add_owned(1);
            drop(buf);
        } else if room == 0 {
            // No thread cache for this bucket: the shared queue keeps it.
            bucket.push_idle(buf);
        } else {
            stack.add_held(permits);
            let pushed = stack.push(buf);
            debug_assert!(pushed.is_ok(), "a permit was just added");
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
            let mut freed = 0;
            for buf in stack.take_all() {
                drop(buf);
                freed += 1;
            }
            bucket.release(stack.drop_spare());
            counters.trimmed.add_owned(freed as u64);
            bytes += (freed * bucket.size) as u64;
        }
        bytes
    }
}

/// How many permits a stack may hold for a bucket whose `local_cap` is `cap`.
fn local_cap(cap: usize) -> usize {
    cap.min(STACK_CAP)
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
            let spare = stack.drop_spare();
            for buf in stack.take_all() {
                bucket.push_idle(buf);
            }
            bucket.release(spare);
            // The queued buffers took their permits along.
            let queued = stack.held();
            stack.drop_held(queued);
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

    /// The front cell starts at `NO_CACHE`, holds the cache of the pool used
    /// last, and is back at `NO_CACHE` once that cache is removed; no pool
    /// has `NO_KEY`, before or after a trim.
    #[test]
    fn the_front_cell_holds_the_last_pool_or_no_cache() {
        thread::spawn(|| {
            let no_cache = || FRONT.with(|front| std::ptr::eq(front.get(), &NO_CACHE));
            assert!(no_cache());
            let pool = BufferPool::new();
            assert_ne!(pool.shared().cache_key.load(Relaxed), NO_KEY);
            drop(pool.get(10));
            assert!(!no_cache());
            pool.trim();
            assert_ne!(pool.shared().cache_key.load(Relaxed), NO_KEY);
            // The trim freed the cached buffer: the next get allocates.
            drop(pool.get(10));
            let bucket = &pool.stats().buckets[0];
            assert_eq!((bucket.hits, bucket.misses), (0, 2));
            drop(pool.get(10));
            assert_eq!(pool.stats().buckets[0].hits, 1);
            drop(pool);
            assert!(no_cache());
        })
        .join()
        .unwrap();
    }

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
                // Fewer rounds under Miri, which interprets them.
                for round in 0..if cfg!(miri) { 60 } else { 300usize } {
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
