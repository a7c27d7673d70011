//! Property tests: the `PoolStats` identities hold after any sequence of gets,
//! drops and trims, and the exact counters match a simple model.

use mempool::{BufferPool, PoolStats};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Get(usize),
    /// Drops the held guard at this index (modulo the number held).
    Drop(usize),
    Trim,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => prop_oneof![0usize..=2048, 2048usize..=70_000, 16_000_000usize..=17_000_000]
            .prop_map(Op::Get),
        5 => any::<usize>().prop_map(Op::Drop),
        1 => Just(Op::Trim),
    ]
}

/// The identities of `mempool_test_support::check_identities`, as a proptest failure.
fn check_identities(stats: &PoolStats) -> Result<(), TestCaseError> {
    mempool_test_support::check_identities(stats).map_err(TestCaseError::fail)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn identities_hold_for_any_sequence(
        ops in prop::collection::vec(op(), 1..120),
        max_idle in 0usize..6,
        thread_cache in prop_oneof![Just(0usize), Just(4096), Just(1 << 20)],
    ) {
        let pool = BufferPool::builder()
            .max_idle_per_bucket(max_idle)
            .thread_cache_bytes(thread_cache)
            .build()
            .unwrap();
        let mut held = Vec::new();
        let (mut gets, mut puts, mut oversized, mut requested) = (0u64, 0u64, 0u64, 0u64);
        for op in ops {
            match op {
                Op::Get(size) => {
                    let buf = pool.get(size);
                    prop_assert_eq!(buf.len(), size);
                    gets += 1;
                    requested += size as u64;
                    oversized += u64::from(buf.is_oversized());
                    held.push(buf);
                }
                Op::Drop(index) if !held.is_empty() => {
                    let index = index % held.len();
                    drop(held.swap_remove(index));
                    puts += 1;
                }
                Op::Drop(_) => {}
                Op::Trim => {
                    let before = pool.stats().bytes_retained;
                    prop_assert_eq!(pool.trim(), before);
                    prop_assert_eq!(pool.stats().bytes_retained, 0);
                }
            }
            // Single-threaded, so every snapshot is exact.
            let stats = pool.stats();
            prop_assert_eq!((stats.gets, stats.puts, stats.oversized), (gets, puts, oversized));
            prop_assert_eq!(stats.in_use, held.len() as u64);
            prop_assert_eq!(stats.bytes_requested, requested);
            let in_use: u64 = held.iter().map(|b| b.capacity() as u64).sum();
            prop_assert_eq!(stats.bytes_in_use, in_use);
            check_identities(&stats)?;
        }
        held.clear();
        let stats = pool.stats();
        prop_assert_eq!((stats.in_use, stats.bytes_in_use), (0, 0));
        check_identities(&stats)?;
        let idle: u64 = stats.buckets.iter().map(|b| b.idle).sum();
        prop_assert_eq!(idle, stats.puts - stats.oversized - stats.hits - stats.discarded - stats.trimmed);
    }
}
