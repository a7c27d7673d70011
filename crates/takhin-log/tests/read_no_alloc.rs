//! A warm fetch makes no heap allocation: records decode into views over
//! the pooled read buffer. Counted with a counting global allocator.

mod common;

use mempool_test_support::{CountingAlloc, allocations_in};
use takhin_log::{Log, LogConfig, Segment};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Reads every record from `offset` and touches every byte of it.
fn consume<B: std::ops::Deref<Target = [u8]>>(fetch: &takhin_log::Fetch<B>) -> (u64, u64) {
    let (mut records, mut sum) = (0, 0u64);
    for record in fetch.records() {
        let record = record.expect("valid");
        records += 1;
        for part in [record.key, record.value].into_iter().flatten() {
            sum += part.iter().map(|&b| u64::from(b)).sum::<u64>();
        }
        for header in record.headers {
            sum += header.key.len() as u64;
        }
    }
    (records, sum)
}

#[test]
fn warm_reads_make_no_heap_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig::default().with_index_interval_bytes(512);
    let mut segment = Segment::create(dir.path(), 0, config).unwrap();
    common::fill(|r| segment.append_batch(r), 0, 2000, 50);
    let mut records = 0;
    let mut pass = || {
        for offset in (0..2000).step_by(37) {
            records += consume(&segment.read_range(offset, 64 * 1024).unwrap()).0;
            records += consume(&segment.read(offset).unwrap().unwrap()).0;
            assert!(segment.find_offset_by_timestamp(1_040).unwrap().is_some());
        }
    };
    // The first pass fills the pool buckets each read size maps to.
    pass();
    let allocations = allocations_in(pass);
    assert!(records > 20_000, "{records} records read");
    assert_eq!(
        allocations, 0,
        "{allocations} allocations for {records} records"
    );
}

#[test]
fn the_counter_sees_allocations() {
    // Guards the test above against a counter that never counts.
    let n = allocations_in(|| drop(std::hint::black_box(vec![1u8; 100])));
    assert_eq!(n, 1);
    // And a read through plain Vec buffers does allocate, once per buffer.
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open_with(dir.path(), LogConfig::default(), takhin_log::VecBuffers).unwrap();
    common::fill(|r| log.append_batch(r), 0, 100, 50);
    let n = allocations_in(|| {
        consume(&log.read_range(0, 1 << 20).unwrap());
    });
    assert!((1..=4).contains(&n), "{n} allocations");
}
