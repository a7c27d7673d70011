//! Giving memory back: `trim`, `trim_to` and the optional idle-trim thread.
//!
//! Idle buffers live in two places: the shared bucket queues, which any
//! thread can drain, and each thread's private cache, which only its owner
//! touches. A trim drains the shared queues now, flushes the calling thread's
//! cache, and bumps the pool's trim epoch so that every other thread flushes
//! its cache at its next get or drop on the pool (or when it exits, when its
//! cache moves to the shared queues). The floor is therefore reached at once
//! for what the shared queues and the caller hold, and lazily for the rest.

use std::time::Duration;

use crate::background::Background;
use crate::local_cache;
use crate::shared::Shared;
use crate::sync::Arc;

/// Frees every idle buffer of the shared queues and of the calling thread's
/// cache, asks the other threads to flush theirs, and returns the bytes freed
/// now ([`BufferPool::trim`](crate::BufferPool::trim)).
pub(crate) fn trim(shared: &Arc<Shared>) -> u64 {
    let mut freed_bytes = flush_this_thread(shared);
    // Ask the other threads' caches to flush at their next use.
    shared.ask_caches_to_flush();
    for (index, bucket) in shared.buckets.iter().enumerate() {
        let freed = bucket.drain();
        shared.retired.classes[index]
            .trimmed
            .add_shared(freed as u64);
        freed_bytes += (freed * bucket.size) as u64;
    }
    freed_bytes
}

/// Frees idle buffers until the pool retains at most `floor` bytes, shared
/// queues first ([`BufferPool::trim_to`](crate::BufferPool::trim_to)).
pub(crate) fn trim_to(shared: &Arc<Shared>, floor: u64) -> u64 {
    let retained = shared.stats().bytes_retained;
    if retained <= floor {
        return 0;
    }
    let excess = retained - floor;
    let mut freed = drain_down(shared, excess);
    if freed < excess {
        freed += flush_this_thread(shared);
        shared.ask_caches_to_flush();
    }
    freed
}

/// Flushes the calling thread's cache for `shared`; returns the bytes freed.
fn flush_this_thread(shared: &Arc<Shared>) -> u64 {
    local_cache::with_cache(shared, |cache| cache.flush(shared)).unwrap_or(0)
}

/// Frees idle buffers from the shared queues until `excess` bytes are freed
/// or the queues are empty; returns the bytes freed.
fn drain_down(shared: &Shared, excess: u64) -> u64 {
    let mut freed = 0;
    // Largest first, but only buffers that fit in what is left to free...
    for (index, bucket) in shared.buckets.iter().enumerate().rev() {
        while excess - freed >= bucket.size as u64 && free_one(shared, index) {
            freed += bucket.size as u64;
        }
    }
    // ...then the smallest that covers the remainder.
    for (index, bucket) in shared.buckets.iter().enumerate() {
        if freed >= excess {
            break;
        }
        if free_one(shared, index) {
            freed += bucket.size as u64;
        }
    }
    freed
}

/// Frees one idle buffer of bucket `class` from the shared queue.
fn free_one(shared: &Shared, class: usize) -> bool {
    let bucket = &shared.buckets[class];
    let Some(buf) = bucket.pop_idle() else {
        return false;
    };
    drop(buf);
    bucket.release(1);
    shared.retired.classes[class].trimmed.add_shared(1);
    true
}

/// What the idle-trim thread does: the shared part of `trim_to`, with the
/// thread caches asked to flush if that is not enough.
fn trim_shared_to(shared: &Shared, floor: u64, retained: u64) {
    let excess = retained.saturating_sub(floor);
    if excess > 0 && drain_down(shared, excess) < excess {
        shared.ask_caches_to_flush();
    }
}

/// The name of the idle-trim thread.
const THREAD_NAME: &str = "mempool-idle-trim";

/// Starts the thread of [`BufferPoolBuilder::idle_trim`](crate::BufferPoolBuilder::idle_trim):
/// every `interval`, it trims the pool to `floor` if no buffer was handed out
/// since its previous look. It stops, and is joined, when the result drops.
pub(crate) fn spawn_idle_trimmer(
    shared: Arc<Shared>,
    interval: Duration,
    floor: u64,
) -> std::io::Result<Background> {
    Background::spawn(THREAD_NAME, move |stop| {
        let mut last_gets = None;
        while !stop.sleep(interval) {
            let stats = shared.stats();
            // Idle for a whole interval: the burst is over.
            if last_gets == Some(stats.gets) && stats.bytes_retained > floor {
                trim_shared_to(&shared, floor, stats.bytes_retained);
            }
            last_gets = Some(stats.gets);
        }
    })
}
