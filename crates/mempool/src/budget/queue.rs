//! The budget's waiter queue: queued gets in arrival order, granted first come, first served, and cancelled by drop.

use std::collections::VecDeque;
use std::task::Waker;
use std::time::{Duration, Instant};

use super::{Budget, BudgetEvent, Charge, WaitOutcome};
use crate::error::PoolError;
use crate::sync::Thread;

/// How to wake a queued caller.
#[derive(Debug)]
pub(crate) enum Wake {
    /// A thread parked in a blocking get.
    Thread(Thread),
    /// A task polling a `GetAsync` future.
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    Task(Waker),
}

impl Wake {
    pub(super) fn wake(self) {
        match self {
            Wake::Thread(thread) => thread.unpark(),
            Wake::Task(waker) => waker.wake(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Waiting,
    /// The bytes were taken from `available` for this entry; the waiter owns
    /// them once it notices.
    Granted,
    Closed,
}

#[derive(Debug)]
pub(super) struct Entry {
    pub(super) id: u64,
    pub(super) bytes: u64,
    pub(super) status: Status,
    pub(super) wake: Option<Wake>,
}

/// Everything behind the lock.
#[derive(Debug)]
pub(super) struct State {
    /// The free bytes, copied from the fast word when the lock is taken and
    /// written back when it is released (see [`Locked`]).
    pub(super) available: u64,
    pub(super) closed: bool,
    /// Waiters in arrival order. Granted entries stay until their waiter
    /// collects them, but are skipped when granting.
    pub(super) queue: VecDeque<Entry>,
    /// Entries with status `Waiting`.
    pub(super) waiting: u64,
    pub(super) next_id: u64,
    pub(super) peak_in_use: u64,
    pub(super) waits_total: u64,
    pub(super) wait_time_total: Duration,
    pub(super) exhausted_total: u64,
    pub(super) timeouts_total: u64,
    pub(super) cancelled_total: u64,
}

/// Wakers collected under the lock and run after it; a fixed array, so that a
/// refund never allocates.
pub(super) type Wakes = [Option<Wake>; 4];

/// The first step of a waiting get.
#[derive(Debug)]
pub(crate) enum Admission<'a> {
    /// The bytes were free and nobody was ahead: charged at once.
    Ready(Charge<'a>),
    /// Queued; poll the waiter.
    Queued(Waiter<'a>),
}

/// A queued get. Dropping it before it completes leaves the queue and refunds
/// any bytes granted to it: that is what makes async gets cancellation-safe.
#[derive(Debug)]
pub(crate) struct Waiter<'a> {
    pub(super) budget: &'a Budget,
    pub(super) id: u64,
    pub(super) bytes: u64,
    pub(super) since: Instant,
    pub(super) done: bool,
    /// Whether a drop before completion counts in `cancelled_total`: only an
    /// async waiter, once its future holds it.
    pub(super) counts_cancel: bool,
}

impl State {
    /// Charges `bytes` under the lock.
    pub(super) fn charge(&mut self, limit: u64, bytes: u64) {
        self.available -= bytes;
        self.peak_in_use = self.peak_in_use.max(limit - self.available);
    }

    pub(super) fn remove(&mut self, id: u64) -> Option<Entry> {
        let index = self.queue.iter().position(|entry| entry.id == id)?;
        self.queue.remove(index)
    }

    /// Grants free bytes to waiting entries in arrival order, stopping at the
    /// first that does not fit (no barging). Moves the wakers of up to
    /// `wakes.len()` granted entries into `wakes` and returns how many.
    pub(super) fn grant(&mut self, limit: u64, wakes: &mut Wakes) -> usize {
        if self.waiting == 0 {
            return 0;
        }
        let mut granted = 0;
        let mut available = self.available;
        let mut waiting = self.waiting;
        for entry in self.queue.iter_mut() {
            if granted == wakes.len() {
                break;
            }
            if entry.status != Status::Waiting {
                continue;
            }
            if entry.bytes > available {
                break;
            }
            available -= entry.bytes;
            waiting -= 1;
            entry.status = Status::Granted;
            wakes[granted] = entry.wake.take();
            granted += 1;
        }
        self.available = available;
        self.waiting = waiting;
        self.peak_in_use = self.peak_in_use.max(limit - available);
        granted
    }
}

impl<'a> Waiter<'a> {
    /// Whether the wait is over: `Some` with the charge or the error once it
    /// is, `None` while the entry is still queued. `waker`, when given,
    /// replaces the stored one (a task may move between polls).
    pub(crate) fn check(&mut self, waker: Option<&Waker>) -> Option<Result<Charge<'a>, PoolError>> {
        let budget = self.budget;
        let mut state = budget.lock();
        let index = state.queue.iter().position(|entry| entry.id == self.id);
        let Some(index) = index else {
            unreachable!("a waiter's entry stays queued until the waiter completes");
        };
        let closed = state.closed;
        let entry = &mut state.queue[index];
        match entry.status {
            Status::Waiting => {
                if let Some(waker) = waker {
                    match &entry.wake {
                        Some(Wake::Task(old)) if old.will_wake(waker) => {}
                        _ => entry.wake = Some(Wake::Task(waker.clone())),
                    }
                }
                None
            }
            Status::Granted if !closed => {
                state.queue.remove(index);
                let waited = self.finish(&mut state);
                drop(state);
                // Owned by the caller from here: a panicking hook refunds it.
                let charge = Charge {
                    budget,
                    bytes: self.bytes,
                };
                budget.emit(BudgetEvent::Waited {
                    requested: self.bytes,
                    waited,
                    outcome: WaitOutcome::Granted,
                });
                Some(Ok(charge))
            }
            Status::Granted | Status::Closed => {
                // Granted just before a close: give the bytes back, since no
                // get succeeds after `close` returns.
                let entry = state.queue.remove(index).expect("index is in range");
                if entry.status == Status::Granted {
                    state.available += entry.bytes;
                }
                let waited = self.finish(&mut state);
                drop(state);
                budget.emit(BudgetEvent::Waited {
                    requested: self.bytes,
                    waited,
                    outcome: WaitOutcome::Closed,
                });
                Some(Err(PoolError::Closed))
            }
        }
    }

    /// Ends the wait at its deadline: leaves the queue with `Timeout`, unless
    /// the bytes were granted at the last moment, in which case it takes them.
    pub(crate) fn time_out(&mut self, timeout: Duration) -> Result<Charge<'a>, PoolError> {
        let budget = self.budget;
        let mut state = budget.lock();
        let granted_or_closed = state
            .queue
            .iter()
            .find(|entry| entry.id == self.id)
            .is_some_and(|entry| entry.status != Status::Waiting);
        if granted_or_closed {
            drop(state);
            return self.check(None).expect("the entry is no longer waiting");
        }
        state.remove(self.id);
        state.waiting -= 1;
        state.timeouts_total += 1;
        let waited = self.finish(&mut state);
        // Leaving may unblock the entries behind this one.
        budget.grant_and_unlock(state);
        budget.emit(BudgetEvent::Waited {
            requested: self.bytes,
            waited,
            outcome: WaitOutcome::TimedOut,
        });
        Err(PoolError::Timeout {
            requested: self.bytes,
            timeout,
        })
    }

    /// Marks the wait complete and counts its time; the entry is gone.
    fn finish(&mut self, state: &mut State) -> Duration {
        self.done = true;
        let waited = self.since.elapsed();
        state.wait_time_total += waited;
        waited
    }
}

impl Drop for Waiter<'_> {
    /// Cancellation: leave the queue, and refund bytes granted but never
    /// collected.
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let budget = self.budget;
        let mut state = budget.lock();
        if let Some(entry) = state.remove(self.id) {
            match entry.status {
                Status::Waiting => state.waiting -= 1,
                Status::Granted => state.available += entry.bytes,
                Status::Closed => {}
            }
        }
        if self.counts_cancel {
            state.cancelled_total += 1;
        }
        self.finish(&mut state);
        budget.grant_and_unlock(state);
    }
}
