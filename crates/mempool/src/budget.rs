//! `Budget`: a cap on the bytes a pool hands out, with a FIFO queue of waiters.
//!
//! This is the pool's version of Kafka's producer `BufferPool` accounting: a
//! byte count and a queue of callers waiting for bytes to come back. Each get charges the capacity of its buffer; each guard drop
//! refunds it. A caller that does not fit waits in line; bytes that come back
//! go to the head of the line first, so a large request is never starved by a
//! stream of small ones (no barging).
//!
//! Everything is counted in `u64`, so budgets above 4 GiB work on every
//! target.
//!
//! # Fast path and slow path
//!
//! The free byte count lives in one atomic word, [`Budget::fast`], whose top
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
//! it fails and the refund takes the lock and grants them.
//!
//! The lock is held only for a few integer updates and queue edits: user
//! callbacks (hooks, wakers) always run after it is released.

use std::collections::VecDeque;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;
use std::thread::Thread;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use crate::error::PoolError;

/// The largest budget: the top bit of [`Budget::fast`] is the `SLOW` flag.
pub(crate) const MAX_BUDGET: u64 = u64::MAX >> 1;

/// In [`Budget::fast`]: the count is owned by the lock holder, or somebody
/// waits, or the budget is closed. Fast-path updates must not touch it.
const SLOW: u64 = 1 << 63;

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

/// A snapshot of a pool's memory budget, in [`PoolStats::budget`](crate::PoolStats::budget).
///
/// `in_use + available == limit` always holds in a snapshot.
///
/// # Examples
///
/// ```
/// let pool = mempool::BufferPool::builder()
///     .bucket_sizes([4096])
///     .memory_budget(10_000)
///     .build()?;
/// let buf = pool.get(100);
/// let budget = pool.stats().budget.unwrap();
/// assert_eq!((budget.limit, budget.in_use, budget.available), (10_000, 4096, 5904));
/// # Ok::<(), mempool::BuildError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BudgetStats {
    /// The budget: the most bytes (buffer capacities) handed out at once.
    pub limit: u64,
    /// Bytes charged now: capacities of live guards, plus grants not yet
    /// turned into guards.
    pub in_use: u64,
    /// Bytes free now: `limit - in_use`.
    pub available: u64,
    /// The highest `in_use` seen.
    pub peak_in_use: u64,
    /// Gets waiting in the queue now.
    pub waiting: u64,
    /// Gets that joined the queue, whatever the outcome.
    pub waits_total: u64,
    /// Time spent in the queue by gets that left it.
    pub wait_time_total: Duration,
    /// Gets that found the budget spent (failed `try_get`s plus gets that
    /// had to wait).
    pub exhausted_total: u64,
    /// Waits that ended at their deadline.
    pub timeouts_total: u64,
    /// Async waits whose future was dropped before it completed.
    pub cancelled_total: u64,
    /// Whether [`BufferPool::close`](crate::BufferPool::close) was called.
    pub closed: bool,
}

/// A budget hook, shared by the builder and the pool.
#[derive(Clone)]
pub(crate) struct Hook(pub(crate) Arc<dyn Fn(&BudgetEvent) + Send + Sync>);

impl fmt::Debug for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hook(..)")
    }
}

/// How to wake a queued caller.
#[derive(Debug)]
pub(crate) enum Wake {
    /// A thread parked in a blocking get.
    Thread(Thread),
    /// A task polling a `GetBuffer` future.
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    Task(Waker),
}

impl Wake {
    fn wake(self) {
        match self {
            Wake::Thread(thread) => thread.unpark(),
            Wake::Task(waker) => waker.wake(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Waiting,
    /// The bytes were taken from `available` for this entry; the waiter owns
    /// them once it notices.
    Granted,
    Closed,
}

#[derive(Debug)]
struct Entry {
    id: u64,
    bytes: u64,
    status: Status,
    wake: Option<Wake>,
}

/// Everything behind the lock.
#[derive(Debug)]
struct State {
    /// The free bytes, copied from `Budget::fast` when the lock is taken and
    /// written back when it is released (see [`Locked`]).
    available: u64,
    closed: bool,
    /// Waiters in arrival order. Granted entries stay until their waiter
    /// collects them, but are skipped when granting.
    queue: VecDeque<Entry>,
    /// Entries with status `Waiting`.
    waiting: u64,
    next_id: u64,
    peak_in_use: u64,
    waits_total: u64,
    wait_time_total: Duration,
    exhausted_total: u64,
    timeouts_total: u64,
    cancelled_total: u64,
}

/// Wakers collected under the lock and run after it; a fixed array, so that a
/// refund never allocates.
type Wakes = [Option<Wake>; 4];

/// A pool's memory budget.
#[derive(Debug)]
pub(crate) struct Budget {
    limit: u64,
    /// The free bytes, plus the `SLOW` flag in the top bit. Relaxed: it
    /// counts bytes and guards no memory (buffers travel through the pool's
    /// queues), and a single word's modification order is all the protocol
    /// needs.
    fast: CachePadded<AtomicU64>,
    /// The highest `in_use` reached on the fast path; the lock-side peak is
    /// in `State`.
    fast_peak: AtomicU64,
    state: Mutex<State>,
    hook: Option<Hook>,
}

/// The budget's lock, held. While it lives, `SLOW` is set in `Budget::fast`,
/// so `State::available` is the one true count.
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
        let slow = if state.waiting > 0 || state.closed {
            SLOW
        } else {
            0
        };
        // Written before the mutex unlocks (fields drop after this body).
        self.budget.fast.store(state.available | slow, Relaxed);
    }
}

/// Bytes taken from a budget; dropping it refunds them. A successful get
/// [`commit`](Charge::commit)s it once the guard exists, and the guard's drop
/// refunds the bytes instead.
#[must_use]
#[derive(Debug)]
pub(crate) struct Charge<'a> {
    budget: &'a Budget,
    bytes: u64,
}

impl Charge<'_> {
    /// Hands the bytes over to a guard, whose drop refunds them.
    pub(crate) fn commit(self) {
        std::mem::forget(self);
    }
}

impl Drop for Charge<'_> {
    fn drop(&mut self) {
        self.budget.release(self.bytes);
    }
}

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
    budget: &'a Budget,
    id: u64,
    bytes: u64,
    since: Instant,
    done: bool,
}

impl Budget {
    pub(crate) fn new(limit: u64, hook: Option<Hook>) -> Self {
        debug_assert!(limit <= MAX_BUDGET, "the builder checks the limit");
        Self {
            limit,
            fast: CachePadded::new(AtomicU64::new(limit)),
            fast_peak: AtomicU64::new(0),
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

    /// Takes the lock and the count: sets `SLOW`, so that fast-path updates
    /// fail until the guard drops.
    fn lock(&self) -> Locked<'_> {
        // No user code runs under the lock and every update is a few integer
        // stores, so a poisoned state is still consistent.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let word = self.fast.fetch_or(SLOW, Relaxed);
        state.available = word & !SLOW;
        Locked {
            budget: self,
            state,
        }
    }

    /// Takes `bytes` with one CAS if the fast path is open and they fit.
    #[inline]
    fn take_fast(&self, bytes: u64) -> bool {
        let mut word = self.fast.load(Relaxed);
        loop {
            // `SLOW` set makes the word larger than any count: one test covers
            // "locked, queued or closed" and "too few bytes" alike.
            if word & SLOW != 0 || word < bytes {
                return false;
            }
            match self
                .fast
                .compare_exchange_weak(word, word - bytes, Relaxed, Relaxed)
            {
                Ok(_) => break,
                Err(actual) => word = actual,
            }
        }
        let in_use = self.limit - (word - bytes);
        if in_use > self.fast_peak.load(Relaxed) {
            self.fast_peak.fetch_max(in_use, Relaxed);
        }
        true
    }

    /// Gives `bytes` back with one CAS if the fast path is open.
    #[inline]
    fn give_fast(&self, bytes: u64) -> bool {
        let mut word = self.fast.load(Relaxed);
        loop {
            if word & SLOW != 0 {
                return false;
            }
            debug_assert!(word + bytes <= self.limit, "refunded more than charged");
            match self
                .fast
                .compare_exchange_weak(word, word + bytes, Relaxed, Relaxed)
            {
                Ok(_) => return true,
                Err(actual) => word = actual,
            }
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
        if self.take_fast(bytes) {
            return Ok(Ok(self.refund_on_drop(bytes)));
        }
        let mut state = self.lock();
        self.admit(&state, bytes)?;
        if state.waiting == 0 && bytes <= state.available {
            state.take(self.limit, bytes);
            return Ok(Ok(self.refund_on_drop(bytes)));
        }
        Ok(Err(state))
    }

    /// Charges `bytes` if they are free and nobody is waiting, else fails
    /// with `Exhausted` at once.
    pub(crate) fn try_acquire(&self, bytes: u64) -> Result<Charge<'_>, PoolError> {
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
    pub(crate) fn admit_or_queue(
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
        state.queue.push_back(Entry {
            id,
            bytes,
            status: Status::Waiting,
            wake: Some(wake()),
        });
        state.waiting += 1;
        state.waits_total += 1;
        state.exhausted_total += 1;
        let available = state.available;
        drop(state);
        // Built before the hook runs, so that a panicking hook drops it and
        // leaves the queue.
        let waiter = Waiter {
            budget: self,
            id,
            bytes,
            since: Instant::now(),
            done: false,
        };
        self.emit(BudgetEvent::Exhausted {
            requested: bytes,
            available,
        });
        Ok(Admission::Queued(waiter))
    }

    /// Charges `bytes`, waiting in line until they are free, the deadline
    /// passes (`Timeout`) or the budget closes (`Closed`).
    pub(crate) fn acquire_blocking(
        &self,
        bytes: u64,
        timeout: Option<Duration>,
    ) -> Result<Charge<'_>, PoolError> {
        let mut waiter =
            match self.admit_or_queue(bytes, || Wake::Thread(std::thread::current()))? {
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
                None | Some(None) => std::thread::park(),
                Some(Some(deadline)) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return waiter.time_out(timeout.unwrap_or_default());
                    }
                    std::thread::park_timeout(deadline - now);
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

    /// Gives `bytes` back and grants them to the head of the queue.
    pub(crate) fn release(&self, bytes: u64) {
        if self.give_fast(bytes) {
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
            peak_in_use: state.peak_in_use.max(self.fast_peak.load(Relaxed)),
            waiting: state.waiting,
            waits_total: state.waits_total,
            wait_time_total: state.wait_time_total,
            exhausted_total: state.exhausted_total,
            timeouts_total: state.timeouts_total,
            cancelled_total: state.cancelled_total,
            closed: state.closed,
        }
    }
}

impl State {
    fn take(&mut self, limit: u64, bytes: u64) {
        self.available -= bytes;
        self.peak_in_use = self.peak_in_use.max(limit - self.available);
    }

    fn remove(&mut self, id: u64) -> Option<Entry> {
        let index = self.queue.iter().position(|entry| entry.id == id)?;
        self.queue.remove(index)
    }

    /// Grants free bytes to waiting entries in arrival order, stopping at the
    /// first that does not fit (no barging). Moves the wakers of up to
    /// `wakes.len()` granted entries into `wakes` and returns how many.
    fn grant(&mut self, limit: u64, wakes: &mut Wakes) -> usize {
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

impl Budget {
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
        state.cancelled_total += 1;
        self.finish(&mut state);
        budget.grant_and_unlock(state);
    }
}
