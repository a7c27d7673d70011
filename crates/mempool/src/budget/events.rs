//! What a budget tells its hook: [`BudgetEvent`], [`WaitOutcome`], and the hook itself.

use std::fmt;
use std::time::Duration;

use crate::sync::Arc;

/// Something that happened to a pool's memory budget, passed to the hook set
/// with [`BufferPoolBuilder::on_budget_event`](crate::BufferPoolBuilder::on_budget_event).
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
/// use mempool::{BudgetEvent, BufferPool};
///
/// let exhausted = Arc::new(AtomicU64::new(0));
/// let seen = Arc::clone(&exhausted);
/// let pool = BufferPool::builder()
///     .bucket_sizes([1024])
///     .memory_budget(1024)
///     .on_budget_event(move |event| {
///         if let BudgetEvent::Exhausted { .. } = event {
///             seen.fetch_add(1, Ordering::Relaxed);
///         }
///     })
///     .build()?;
/// let held = pool.try_get(1000)?;
/// assert!(pool.try_get(1000).is_err());
/// assert_eq!(exhausted.load(Ordering::Relaxed), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BudgetEvent {
    /// A get found the budget spent: a `try_get` that failed, or a waiting get
    /// that had to join the queue.
    Exhausted {
        /// The bytes the get asked to charge (its buffer's capacity).
        requested: u64,
        /// The bytes that were free at that moment.
        available: u64,
    },
    /// A waiting get left the queue: granted, timed out or closed. (A
    /// cancelled async get leaves silently: its future is being dropped.)
    Waited {
        /// The bytes the get asked to charge.
        requested: u64,
        /// How long it waited.
        waited: Duration,
        /// How the wait ended.
        outcome: WaitOutcome,
    },
}

/// How a wait for budget ended; see [`BudgetEvent::Waited`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitOutcome {
    /// The bytes were granted; the get goes on to hand out a buffer.
    Granted,
    /// The deadline passed first.
    TimedOut,
    /// The pool was closed.
    Closed,
}

/// A budget hook, shared by the builder and the pool.
#[derive(Clone)]
pub(crate) struct Hook(pub(crate) Arc<dyn Fn(&BudgetEvent) + Send + Sync>);

impl fmt::Debug for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hook(..)")
    }
}
