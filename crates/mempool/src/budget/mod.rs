//! `Budget`: a cap on the bytes a pool hands out, with a FIFO queue of waiters.
//!
//! This is the pool's version of Kafka's producer `BufferPool` accounting: a
//! byte count and a queue of callers waiting for bytes to come back. Each
//! get charges the capacity of its buffer; each guard drop refunds it. A caller that does not fit waits in line; bytes that come back
//! go to the head of the line first, so a large request is never starved by a
//! stream of small ones (no barging).
//!
//! Everything is counted in `u64`, so budgets above 4 GiB work on every
//! target.
//!
//! # Fast path and slow path
//!
//! The free byte count lives in one atomic word, the fast word (`fast.rs`), whose top
//! bit (`SLOW`) says "use the lock". While nobody waits and the budget is
//! open, the bit is clear and a get or a drop is a single compare-and-swap on
//! that word. Everything else (queueing, granting, timeouts, close, a get that
//! does not fit) takes the mutex, and the [`Locked`] guard sets `SLOW` for as
//! long as it holds it: every fast-path CAS then fails, so the lock holder
//! owns the count. On unlock the guard writes the count back and clears
//! `SLOW` unless someone is still waiting or the budget is closed. Because
//! both paths update the same word, a refund can never slip past a waiter
//! that is about to queue (no lost wake-up): either the refund's CAS lands
//! before the waiter's lock sets `SLOW`, and the waiter sees the bytes, or
//! it fails and the refund takes the lock and grants them. This also needs
//! the mutex's happens-before: [`Locked`] writes the count back before it
//! releases the mutex, and the next holder sets `SLOW` after acquiring it, so
//! the write-back can never land after (and undo) the next holder's `SLOW`.
//! `tests/loom_budget.rs` model-checks both halves.
//!
//! The lock is held only for a few integer updates and queue edits: user
//! callbacks (hooks, wakers) always run after it is released.

//!
//! The parts, one per file: `fast.rs` (the word), `queue.rs` (the waiters),
//! `events.rs` and `stats.rs` (what the budget reports).

mod events;
mod fast;
mod queue;
mod stats;

pub(crate) use events::Hook;
pub use events::{BudgetEvent, WaitOutcome};
pub(crate) use fast::MAX_BUDGET;
pub(crate) use queue::{Admission, Waiter, Wake};
pub use stats::BudgetStats;

use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use fast::FastWord;
use queue::{Entry, State, Status, Wakes};

use crate::error::PoolError;
use crate::sync::{Mutex, MutexGuard, PoisonError, thread};

/// A pool's memory budget.
#[derive(Debug)]
pub(crate) struct Budget {
    limit: u64,
    /// The free bytes while nobody waits.
    fast: FastWord,
    state: Mutex<State>,
    hook: Option<Hook>,
}

/// The budget's lock, held. While it lives, the fast word is closed, so
/// `State::available` is the one true count.
struct Locked<'a> {
    budget: &'a Budget,
    state: MutexGuard<'a, State>,
}

impl Deref for Locked<'_> {
    type Target = State;

    fn deref(&self) -> &State {
        &self.state
    }
}

impl DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.state
    }
}

impl Drop for Locked<'_> {
    /// Publishes the count, and reopens the fast path when nobody waits.
    fn drop(&mut self) {
        let state = &*self.state;
        debug_assert!(state.available <= self.budget.limit);
        // Written before the mutex unlocks (fields drop after this body):
        // the unlock's release orders it before the next holder's `fetch_or`.
        self.budget
            .fast
            .unlock(state.available, state.waiting > 0 || state.closed);
    }
}

/// Bytes taken from a budget; dropping it refunds them. A successful get
/// [`commit`](Charge::commit)s it once the guard exists, and the guard's drop
/// refunds the bytes instead.
#[must_use]
#[derive(Debug)]
pub(crate) struct Charge<'a> {
    pub(super) budget: &'a Budget,
    pub(super) bytes: u64,
}

impl Charge<'_> {
    /// Hands the bytes over to a guard, whose drop refunds them.
    pub(crate) fn commit(self) {
        std::mem::forget(self);
    }
}

impl Drop for Charge<'_> {
    fn drop(&mut self) {
        self.budget.refund(self.bytes);
    }
}

impl Budget {
    pub(crate) fn new(limit: u64, hook: Option<Hook>) -> Self {
        Self {
            limit,
            fast: FastWord::new(limit),
            state: Mutex::new(State {
                available: limit,
                closed: false,
                queue: VecDeque::new(),
                waiting: 0,
                next_id: 0,
                peak_in_use: 0,
                waits_total: 0,
                wait_time_total: Duration::ZERO,
                exhausted_total: 0,
                timeouts_total: 0,
                cancelled_total: 0,
            }),
            hook,
        }
    }

    /// The budget, in bytes.
    pub(crate) fn limit(&self) -> u64 {
        self.limit
    }

    /// Takes the lock and the count: closes the fast word, so that fast-path
    /// updates fail until the guard drops.
    fn lock(&self) -> Locked<'_> {
        // No user code runs under the lock and every update is a few integer
        // stores, so a poisoned state is still consistent.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.available = self.fast.lock();
        Locked {
            budget: self,
            state,
        }
    }

    fn emit(&self, event: BudgetEvent) {
        if let Some(hook) = &self.hook {
            (hook.0)(&event);
        }
    }

    /// Errors that no amount of waiting fixes.
    fn admit(&self, state: &State, bytes: u64) -> Result<(), PoolError> {
        if state.closed {
            return Err(PoolError::Closed);
        }
        if bytes > self.limit {
            return Err(PoolError::ExceedsBudget {
                requested: bytes,
                budget: self.limit,
            });
        }
        Ok(())
    }

    /// Charges `bytes` at once if they are free and nobody waits. Otherwise
    /// returns the state still locked, so that the caller fails or queues
    /// before a refund can slip in.
    fn charge_now(&self, bytes: u64) -> Result<Result<Charge<'_>, Locked<'_>>, PoolError> {
        if self.fast.try_charge(bytes) {
            return Ok(Ok(self.refund_on_drop(bytes)));
        }
        let mut state = self.lock();
        self.admit(&state, bytes)?;
        if state.waiting == 0 && bytes <= state.available {
            state.charge(self.limit, bytes);
            return Ok(Ok(self.refund_on_drop(bytes)));
        }
        Ok(Err(state))
    }

    /// Charges `bytes` if they are free and nobody is waiting, else fails
    /// with `Exhausted` at once.
    pub(crate) fn try_charge(&self, bytes: u64) -> Result<Charge<'_>, PoolError> {
        let mut state = match self.charge_now(bytes)? {
            Ok(charge) => return Ok(charge),
            Err(state) => state,
        };
        state.exhausted_total += 1;
        let available = state.available;
        drop(state);
        self.emit(BudgetEvent::Exhausted {
            requested: bytes,
            available,
        });
        Err(PoolError::Exhausted {
            requested: bytes,
            available,
            budget: self.limit,
        })
    }

    /// Charges `bytes` at once if possible, else joins the queue; `wake` is
    /// called only when the caller must queue.
    pub(crate) fn charge_or_queue(
        &self,
        bytes: u64,
        wake: impl FnOnce() -> Wake,
    ) -> Result<Admission<'_>, PoolError> {
        let mut state = match self.charge_now(bytes)? {
            Ok(charge) => return Ok(Admission::Ready(charge)),
            Err(state) => state,
        };
        let id = state.next_id;
        state.next_id += 1;
        let wake = wake();
        let asynchronous = matches!(wake, Wake::Task(_));
        state.queue.push_back(Entry {
            id,
            bytes,
            status: Status::Waiting,
            wake: Some(wake),
        });
        state.waiting += 1;
        state.waits_total += 1;
        state.exhausted_total += 1;
        let available = state.available;
        drop(state);
        // Built before the hook runs, so that a panicking hook drops it and
        // leaves the queue; that is no cancellation, whatever the waiter.
        let mut waiter = Waiter {
            budget: self,
            id,
            bytes,
            since: Instant::now(),
            done: false,
            counts_cancel: false,
        };
        self.emit(BudgetEvent::Exhausted {
            requested: bytes,
            available,
        });
        // From here a drop before completion is an async get's future dropped.
        waiter.counts_cancel = asynchronous;
        Ok(Admission::Queued(waiter))
    }

    /// Charges `bytes`, waiting in line until they are free, the deadline
    /// passes (`Timeout`) or the budget closes (`Closed`).
    pub(crate) fn charge_blocking(
        &self,
        bytes: u64,
        timeout: Option<Duration>,
    ) -> Result<Charge<'_>, PoolError> {
        let mut waiter = match self.charge_or_queue(bytes, || Wake::Thread(thread::current()))? {
            Admission::Ready(charge) => return Ok(charge),
            Admission::Queued(waiter) => waiter,
        };
        // Timed from the moment it queued, so that the uncontended path reads
        // no clock; this can only make the deadline later, never earlier.
        let deadline = timeout.map(|timeout| waiter.since.checked_add(timeout));
        loop {
            if let Some(result) = waiter.check(None) {
                return result;
            }
            match deadline {
                // No deadline, or one too far to represent: wait for ever.
                None | Some(None) => thread::park(),
                Some(Some(deadline)) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return waiter.time_out(timeout.unwrap_or_default());
                    }
                    thread::park_timeout(deadline - now);
                }
            }
        }
    }

    /// A charge for bytes already taken, so that they are refunded when it
    /// drops: how a guard's drop gives its capacity back.
    pub(crate) fn refund_on_drop(&self, bytes: u64) -> Charge<'_> {
        Charge {
            budget: self,
            bytes,
        }
    }

    /// Refunds `bytes` and grants them to the head of the queue.
    pub(crate) fn refund(&self, bytes: u64) {
        if self.fast.try_refund(bytes) {
            return;
        }
        let mut state = self.lock();
        state.available += bytes;
        debug_assert!(state.available <= self.limit, "refunded more than charged");
        self.grant_and_unlock(state);
    }

    /// Fails every waiting get with `Closed`, and every later one.
    pub(crate) fn close(&self) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        state.closed = true;
        let mut wakes = Vec::new();
        for entry in state.queue.iter_mut() {
            if entry.status == Status::Waiting {
                entry.status = Status::Closed;
                wakes.extend(entry.wake.take());
            }
        }
        state.waiting = 0;
        drop(state);
        for wake in wakes {
            wake.wake();
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    pub(crate) fn stats(&self) -> BudgetStats {
        let state = self.lock();
        BudgetStats {
            limit: self.limit,
            in_use: self.limit - state.available,
            available: state.available,
            peak_in_use: state.peak_in_use.max(self.limit - self.fast.min_free()),
            waiting: state.waiting,
            waits_total: state.waits_total,
            wait_time_total: state.wait_time_total,
            exhausted_total: state.exhausted_total,
            timeouts_total: state.timeouts_total,
            cancelled_total: state.cancelled_total,
            closed: state.closed,
        }
    }

    /// Grants what it can to the queue and wakes the lucky waiters outside
    /// the lock, a few at a time so that the wakers need no allocation.
    fn grant_and_unlock<'a>(&'a self, mut state: Locked<'a>) {
        loop {
            let mut wakes: Wakes = Default::default();
            let granted = state.grant(self.limit, &mut wakes);
            drop(state);
            for wake in wakes.iter_mut().filter_map(Option::take) {
                wake.wake();
            }
            if granted < wakes.len() {
                return;
            }
            state = self.lock();
        }
    }
}
