//! Waiting for a condition with a deadline: [`wait_until`] for threads, [`wait_until_async`] for tokio tasks.

use std::time::{Duration, Instant};

/// How long a condition may take to come true before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Polls `condition` every millisecond until it holds.
///
/// # Panics
///
/// After [`PATIENCE`], naming `what` it waited for.
#[track_caller]
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// [`wait_until`] for a task: sleeps on the tokio timer between polls, so the
/// runtime's other tasks run.
///
/// # Panics
///
/// After [`PATIENCE`], naming `what` it waited for.
pub async fn wait_until_async(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
