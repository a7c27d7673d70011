//! The std/loom shim: every atomic, lock, thread-local and thread of the crate comes from here.
//!
//! Only std today. A loom build adds a `#[cfg(loom)]` arm next to each
//! `#[cfg(not(loom))]` one below (loom's `sync`, `cell` and `thread` have the
//! same paths), so that loom sees every shared access and no other file
//! changes, as in tokio's `loom/` and sharded-slab's `sync.rs`.
//! `Arc`/`Weak` come from here too, since loom tracks them as well.

#[cfg(not(loom))]
pub(crate) use std::cell::{Cell, RefCell};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
#[cfg(all(not(loom), any(test, feature = "prometheus")))]
pub(crate) use std::sync::mpsc;
#[cfg(not(loom))]
pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
#[cfg(not(loom))]
pub(crate) use std::thread::{self, JoinHandle, Thread, ThreadId};
#[cfg(not(loom))]
pub(crate) use std::thread_local;

/// `thread_local!` with a `const { }` initialiser, which lets std skip the
/// lazy-initialisation check on every access. loom's `thread_local!` rejects
/// `const { }`, so the loom arm strips it, as tokio's `macros/thread_local.rs`
/// does.
#[cfg(not(loom))]
macro_rules! const_thread_local {
    ($(#[$attr:meta])* $vis:vis static $name:ident: $ty:ty = const { $init:expr };) => {
        ::std::thread_local! { $(#[$attr])* $vis static $name: $ty = const { $init }; }
    };
}
#[cfg(loom)]
macro_rules! const_thread_local {
    ($(#[$attr:meta])* $vis:vis static $name:ident: $ty:ty = const { $init:expr };) => {
        ::loom::thread_local! { $(#[$attr])* $vis static $name: $ty = $init; }
    };
}
pub(crate) use const_thread_local;
