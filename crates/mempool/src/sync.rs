//! The std/loom shim: every atomic, lock, thread-local and thread of the crate comes from here.
//!
//! Normally these are std's. Built with `RUSTFLAGS="--cfg loom"` they are
//! loom's, so that the models in `tests/loom_*.rs` see and schedule every
//! shared access, as in tokio's `loom/` and sharded-slab's `sync.rs`. No
//! other file names `std::sync` or `std::thread`.
//!
//! What loom 0.7 lacks stays std's under loom too, on purpose:
//! - `Arc` and `Weak`: loom's `Arc` has no `Weak`, which the thread caches
//!   hold. std's reference count is correct by construction; what the models
//!   check is the pool's own protocol.
//! - `park_timeout`: loom has no clock, so it parks until unparked (a spurious
//!   wake-up is always allowed, and the models do not use deadlines).
//! - `mpsc`: only the exporter's start-up handshake and the unit tests use it.
//! - `Cell` and `RefCell`: they live inside thread-locals, which are loom's,
//!   so each model thread has its own and nothing is shared.
//! - [`StdAtomicU64`]: for `static` ids, which loom's non-`const` `new`
//!   cannot initialise and which guard no memory, and for the statistics
//!   counters (`counters.rs`), which guard no memory either.

pub(crate) use std::cell::{Cell, RefCell};
pub(crate) use std::sync::atomic::AtomicU64 as StdAtomicU64;
#[cfg(any(test, feature = "prometheus"))]
pub(crate) use std::sync::mpsc;
pub(crate) use std::sync::{Arc, PoisonError, Weak};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
#[cfg(not(loom))]
pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::thread::{self, JoinHandle, Thread, ThreadId};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
#[cfg(loom)]
pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};
#[cfg(loom)]
pub(crate) use loom_thread as thread;
#[cfg(loom)]
pub(crate) use loom_thread::{JoinHandle, Thread, ThreadId};

/// loom's `thread`, plus the `park_timeout` it lacks.
#[cfg(loom)]
pub(crate) mod loom_thread {
    pub(crate) use loom::thread::{Builder, JoinHandle, Thread, ThreadId, current, park};

    /// loom has no clock: park until unparked. Callers re-check their
    /// condition in a loop, as they must after any park.
    pub(crate) fn park_timeout(_timeout: std::time::Duration) {
        park();
    }
}

/// `std::thread_local!`, or loom's under `cfg(loom)`, so that each model
/// thread gets its own value (all of them run on one OS thread).
///
/// loom's macro rejects `const { .. }` initialisers (loom#346), so that arm
/// strips them, as tokio's `macros/thread_local.rs` does; std's keeps them.
#[cfg(not(loom))]
macro_rules! mempool_thread_local {
    ($($tts:tt)+) => { ::std::thread_local! { $($tts)+ } };
}

#[cfg(loom)]
macro_rules! mempool_thread_local {
    ($(#[$attrs:meta])* $vis:vis static $name:ident: $ty:ty = const { $expr:expr } $(;)?) => {
        ::loom::thread_local! { $(#[$attrs])* $vis static $name: $ty = $expr; }
    };
    ($($tts:tt)+) => { ::loom::thread_local! { $($tts)+ } };
}

pub(crate) use mempool_thread_local as thread_local;
