//! Leak tracking: where each live guard was taken, to find the ones held too long or never dropped.
//!
//! Modelled on Netty's leak detector, without its sampling: when a pool is
//! built with [`BufferPoolBuilder::track_leaks`](crate::BufferPoolBuilder::track_leaks),
//! every get records the buffer's address with the caller's
//! `#[track_caller]` location, the time and the thread, and every drop removes
//! the record. What is left, and old, is a leak or a guard held too long.
//!
//! When tracking is off, the pool holds `None` here and the get/drop path
//! pays one predictable branch on that pointer.

use std::collections::HashMap;
use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use crate::aligned_buf::AlignedBuf;
use crate::sync::{Mutex, MutexGuard, PoisonError, Thread, ThreadId, thread, thread_local};

/// Shards of the live-guard map; threads taking different buffers rarely
/// meet on one lock.
const SHARDS: usize = 16;

/// A guard that is still alive, as reported by [`BufferPool::leaks`](crate::BufferPool::leaks).
///
/// Its `Display` names the call site, e.g. `4096-byte buffer (1500 bytes
/// requested) held for 2.5s, taken at src/server.rs:42:19 on thread 'conn-7'`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let pool = mempool::BufferPool::builder().track_leaks(true).build()?;
/// let buf = pool.get(1500);
/// let leaks = pool.leaks(Duration::ZERO);
/// assert_eq!(leaks.len(), 1);
/// assert_eq!(leaks[0].location.line(), line!() - 3);
/// assert_eq!((leaks[0].len, leaks[0].capacity), (1500, 4096));
/// assert!(leaks[0].to_string().contains(file!()));
/// # Ok::<(), mempool::BuildError>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LeakReport {
    /// Where the guard was taken: the caller of `get`, `try_get`,
    /// `get_buffer` or `try_get_buffer`.
    pub location: &'static Location<'static>,
    /// How long the guard has been alive.
    pub age: Duration,
    /// The bytes requested.
    pub len: usize,
    /// The capacity of the buffer (its bucket size, or `len` if oversized).
    pub capacity: usize,
    /// The thread that took the guard, if it could be named (not during
    /// thread teardown).
    pub thread_id: Option<ThreadId>,
    /// That thread's name, if it has one.
    pub thread_name: Option<String>,
}

impl fmt::Display for LeakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-byte buffer ({} bytes requested) held for {:.3?}, taken at {}",
            self.capacity, self.len, self.age, self.location
        )?;
        match (&self.thread_name, self.thread_id) {
            (Some(name), _) => write!(f, " on thread '{name}'"),
            (None, Some(id)) => write!(f, " on thread {id:?}"),
            (None, None) => Ok(()),
        }
    }
}

/// One live guard.
#[derive(Debug)]
struct Live {
    location: &'static Location<'static>,
    created: Instant,
    len: usize,
    capacity: usize,
    thread: Option<Thread>,
}

/// The live guards of one pool, keyed by buffer address: an address is unique
/// while its guard lives, and is removed before the buffer can be reused.
#[derive(Debug)]
pub(crate) struct LeakTracker {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
}

/// Live guards by buffer address.
type Shard = HashMap<usize, Live>;

thread_local! {
    /// This thread's handle, cloned (a reference count) per record.
    static CURRENT: Thread = thread::current();
}

impl LeakTracker {
    pub(crate) fn new() -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| CachePadded::new(Mutex::default()))
                .collect(),
        }
    }

    fn shard(&self, addr: usize) -> MutexGuard<'_, Shard> {
        // Buffers are at least 16-byte aligned: drop the zero bits, then mix.
        let index = ((addr >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 60) % SHARDS;
        // Each update is a single insert or remove: a panic cannot leave a
        // shard half-updated.
        self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a buffer just handed out. Marked cold so that the branch
    /// around it costs nothing when tracking is off.
    #[cold]
    #[inline(never)]
    pub(crate) fn record(
        &self,
        buf: &AlignedBuf,
        len: usize,
        location: &'static Location<'static>,
    ) {
        let live = Live {
            location,
            created: Instant::now(),
            len,
            capacity: buf.capacity(),
            thread: CURRENT.try_with(Thread::clone).ok(),
        };
        let addr = address(buf);
        self.shard(addr).insert(addr, live);
    }

    /// Forgets a buffer whose guard is being dropped, before the buffer can be
    /// handed out again.
    #[cold]
    #[inline(never)]
    pub(crate) fn forget(&self, buf: &AlignedBuf) {
        let addr = address(buf);
        self.shard(addr).remove(&addr);
    }

    /// The live guards at least `age` old, oldest first.
    pub(crate) fn older_than(&self, age: Duration) -> Vec<LeakReport> {
        let now = Instant::now();
        let mut reports = Vec::new();
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            for live in shard.values() {
                let held = now.saturating_duration_since(live.created);
                if held >= age {
                    reports.push(LeakReport {
                        location: live.location,
                        age: held,
                        len: live.len,
                        capacity: live.capacity,
                        thread_id: live.thread.as_ref().map(Thread::id),
                        thread_name: live
                            .thread
                            .as_ref()
                            .and_then(|thread| thread.name().map(str::to_owned)),
                    });
                }
            }
        }
        reports.sort_by_key(|report| std::cmp::Reverse(report.age));
        reports
    }
}

fn address(buf: &AlignedBuf) -> usize {
    buf.as_slice().as_ptr() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_forgets_by_address() {
        let tracker = LeakTracker::new();
        let a = AlignedBuf::try_zeroed(64).unwrap();
        let b = AlignedBuf::try_zeroed(128).unwrap();
        tracker.record(&a, 10, Location::caller());
        tracker.record(&b, 100, Location::caller());
        assert_eq!(tracker.older_than(Duration::ZERO).len(), 2);
        tracker.forget(&a);
        let left = tracker.older_than(Duration::ZERO);
        assert_eq!((left.len(), left[0].len, left[0].capacity), (1, 100, 128));
        assert_eq!(left[0].thread_id, Some(thread::current().id()));
        tracker.forget(&b);
        assert!(tracker.older_than(Duration::ZERO).is_empty());
        assert!(tracker.older_than(Duration::from_secs(3600)).is_empty());
    }

    #[test]
    fn display_names_the_call_site_and_thread() {
        let report = LeakReport {
            location: Location::caller(),
            age: Duration::from_millis(1500),
            len: 1500,
            capacity: 4096,
            thread_id: None,
            thread_name: Some("conn-7".into()),
        };
        let text = report.to_string();
        assert!(
            text.starts_with("4096-byte buffer (1500 bytes requested) held for 1.500s"),
            "{text}"
        );
        assert!(text.contains(&format!("{}:", file!())), "{text}");
        assert!(text.ends_with(" on thread 'conn-7'"), "{text}");
    }
}
