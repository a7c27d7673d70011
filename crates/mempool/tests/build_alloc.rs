//! `build()` commits no memory per idle slot: a bucket's queue is allocated
//! when the bucket first keeps a buffer. This binary owns its global
//! allocator and has one test, so the process-wide byte count is this test's.

use mempool::{BufferPool, MAX_IDLE_PER_BUCKET};
use mempool_test_support::{CountingAlloc, process_alloc_count};

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

#[test]
fn build_commits_nothing_per_idle_slot() {
    let builder = BufferPool::builder()
        .retained_bytes_per_bucket(usize::MAX)
        .max_idle_per_bucket(MAX_IDLE_PER_BUCKET)
        .thread_cache_bytes(0);
    let before = process_alloc_count();
    let pool = builder.build().unwrap();
    let at_build = process_alloc_count().since(before);
    // Nine buckets of 65,536 slots would be 13.5 MiB of queue.
    assert!(at_build.bytes < 64 << 10, "{at_build:?}");
    assert_eq!(pool.stats().buckets[0].max_idle, MAX_IDLE_PER_BUCKET);

    // The first buffer a bucket keeps allocates its queue: 24 bytes a slot.
    let before = process_alloc_count();
    drop(pool.get(10)); // no thread cache: into the shared queue
    let first_keep = process_alloc_count().since(before);
    assert!(
        first_keep.bytes >= (MAX_IDLE_PER_BUCKET * 16) as u64,
        "{first_keep:?}"
    );
}
