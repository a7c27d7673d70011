//! The identities documented on [`PoolStats`], checked on a snapshot.

use mempool::PoolStats;

/// Checks the identities that hold in any snapshot of a pool that no other
/// thread is using, even while guards are held. Returns the first that fails.
///
/// # Errors
///
/// A message naming the identity that does not hold, with the snapshot.
pub fn check_identities(stats: &PoolStats) -> Result<(), String> {
    let misses: u64 = stats.buckets.iter().map(|b| b.misses).sum();
    let idle: u64 = stats.buckets.iter().map(|b| b.idle).sum();
    // Oversized guards may still be held: count pooled puts only.
    let pooled_puts: u64 = stats.buckets.iter().map(|b| b.puts).sum();
    let retained: u64 = stats.buckets.iter().map(|b| b.idle * b.size as u64).sum();
    let mut checks = vec![
        (
            "in_use = gets - puts",
            stats.in_use == stats.gets - stats.puts,
        ),
        (
            "gets = hits + allocations",
            stats.gets == stats.hits + stats.allocations,
        ),
        (
            "allocations = misses + oversized",
            stats.allocations == misses + stats.oversized,
        ),
        (
            "idle = pooled puts - hits - discarded - trimmed",
            idle == pooled_puts - stats.hits - stats.discarded - stats.trimmed,
        ),
        (
            "bytes_retained = sum of idle * size",
            stats.bytes_retained == retained,
        ),
    ];
    for bucket in &stats.buckets {
        checks.push((
            "bucket idle <= max_idle",
            bucket.idle <= bucket.max_idle as u64,
        ));
        checks.push((
            "bucket gets = hits + misses",
            bucket.gets == bucket.hits + bucket.misses,
        ));
    }
    match checks.into_iter().find(|(_, holds)| !holds) {
        Some((identity, _)) => Err(format!("{identity} does not hold: {stats:?}")),
        None => Ok(()),
    }
}

/// Asserts [`check_identities`], plus the identity that needs every guard
/// dropped: `idle = puts - oversized - hits - discarded - trimmed`.
///
/// # Panics
///
/// If an identity does not hold; the message names it.
#[track_caller]
pub fn assert_identities_at_rest(stats: &PoolStats) {
    if let Err(message) = check_identities(stats) {
        panic!("{message}");
    }
    let idle: u64 = stats.buckets.iter().map(|b| b.idle).sum();
    assert_eq!(
        idle,
        stats.puts - stats.oversized - stats.hits - stats.discarded - stats.trimmed,
        "idle = puts - oversized - hits - discarded - trimmed: {stats:?}"
    );
}
