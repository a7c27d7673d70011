//! The std/loom shim: every atomic, lock, thread-local and thread of the crate comes from here.
//!
//! Only std today. A loom build adds a `#[cfg(loom)]` arm next to each
//! `#[cfg(not(loom))]` one below (loom's `sync`, `cell` and `thread` have the
//! same paths), so that loom sees every shared access and no other file
//! changes, as in tokio's `loom/` and sharded-slab's `sync.rs`.
//! `Arc`/`Weak` come from here too, since loom tracks them as well.

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
