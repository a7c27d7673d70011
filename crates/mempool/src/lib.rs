//! Pooled, zero-on-drop byte buffers for brokers, proxies and storage engines.
//!
//! A streaming server allocates the same few buffer sizes millions of times a
//! second: a request frame, a record batch, an index page. `mempool` keeps
//! those buffers for reuse in size buckets, hands each one out as a
//! [`PooledBuf`] guard that reads as all zeroes, and takes it back when the
//! guard drops. It is the Rust successor of Takhin's Go `GetBuffer` /
//! `PutBuffer` pool, with the put moved into `Drop` so that it cannot be
//! forgotten, doubled, or followed by a use.
//!
//! ```
//! // Takes a zeroed 1500-byte buffer from the 4 KiB bucket of the global pool.
//! let mut frame = mempool::get_buffer(1500);
//! frame[..4].copy_from_slice(&1496u32.to_be_bytes());
//! assert_eq!(frame.len(), 1500);
//! drop(frame); // zeroes the bytes that were used and keeps the buffer
//!
//! let stats = mempool::stats();
//! assert_eq!(stats.in_use, 0);
//! ```
//!
//! # `BufferPool` and `PooledBuf`
//!
//! A [`BufferPool`] has buckets of fixed sizes; by default the nine of the Go
//! pool, 512 B to 16 MiB ([`DEFAULT_BUCKET_SIZES`]). A request takes the
//! smallest bucket that fits; above the largest bucket, the buffer is
//! allocated directly and freed on drop ("oversized"). Each thread keeps a
//! small LIFO cache per bucket, in front of lock-free shared queues, so that
//! two threads do not fight over one queue and a reused buffer is still hot in
//! the CPU cache.
//!
//! The global pool ([`get_buffer`], [`try_get_buffer`], [`stats`],
//! [`global`]) is created on first use and hands out `PooledBuf<'static>`
//! guards. A local pool from [`BufferPool::new`] or [`BufferPool::builder`]
//! lends guards that borrow it.
//!
//! # Guarantees
//!
//! * **Zeroed.** Every buffer reads as zero over its whole `len()` when handed
//!   out. A drop zeroes only the prefix that could have been written, never the
//!   untouched tail of a large bucket (this can be turned off, see
//!   [`BufferPoolBuilder::zero_on_drop`]).
//! * **Bounded.** Each bucket keeps at most a configured number of idle buffers,
//!   thread caches included; extra returns are freed and counted as discarded.
//! * **Allocation-free when warm.** A get and drop that hit a cached buffer
//!   make no heap allocation and no locked instruction.
//! * **Exact counters.** [`PoolStats`] sums per-thread counters; once all
//!   guards are dropped, `in_use` is 0 and the identities documented on
//!   [`PoolStats`] hold.
//! * **Fails cleanly.** [`try_get_buffer`] and [`BufferPool::try_get`] return a
//!   [`PoolError`] for sizes over the maximum or a failed allocation, even at
//!   `usize::MAX`. A panic while a guard is alive unwinds through its `Drop`,
//!   which returns the buffer.
//!
//! # Fitting the I/O ecosystem
//!
//! A `PooledBuf` from [`BufferPool::get_empty`] or [`get_empty_buffer`] starts
//! with length 0 and grows as it is written, up to its capacity (the bucket
//! size): it implements [`std::io::Write`] and, with the `bytes` feature,
//! `bytes::BufMut`. A write that does not fit fails ([`CapacityError`]) or, for
//! `BufMut`, panics as that trait requires; the buffer never reallocates.
//! With the `bytes` feature, `PooledBuf::freeze` turns a
//! `PooledBuf<'static>` into a `bytes::Bytes` without a copy, and the buffer
//! returns to the pool when the last clone drops. `docs/coming-from-go.md`
//! maps Go's `GetBuffer`/`PutBuffer` idioms to these.
//!
//! # Memory budget
//!
//! [`BufferPoolBuilder::memory_budget`] caps the bytes a pool hands out at
//! once, counted as buffer capacities, pooled and oversized together. When it
//! is spent, [`BufferPool::try_get`] fails with [`PoolError::Exhausted`],
//! [`BufferPool::get_timeout`] waits up to a timeout, [`BufferPool::get`]
//! waits for as long as it takes, and `BufferPool::get_async` (feature
//! `async`) awaits; waiters are served first come, first served.
//! [`BufferPool::close`] fails every waiter. [`PoolStats::budget`] has the
//! figures; `docs/budget.md` the semantics and how they compare with Kafka's
//! `BufferPool`. Without a budget, a get pays one branch for the feature.
//!
//! ```
//! use std::time::Duration;
//! use mempool::{BufferPool, PoolError};
//!
//! let pool = BufferPool::builder().bucket_sizes([4096]).memory_budget(8192).build()?;
//! let a = pool.get(4096);
//! let b = pool.get(4096);
//! assert!(matches!(pool.try_get(1), Err(PoolError::Exhausted { .. })));
//! assert!(matches!(pool.get_timeout(1, Duration::from_millis(1)), Err(PoolError::Timeout { .. })));
//! drop(a);
//! assert!(pool.try_get(1).is_ok());
//! # Ok::<(), mempool::BuildError>(())
//! ```
//!
//! # Upkeep
//!
//! Nothing runs in the background unless asked. Idle buffers are bounded, so
//! no upkeep is needed for safety; call [`BufferPool::trim`] or
//! [`BufferPool::trim_to`] after a burst to give memory back sooner, or let
//! the thread of [`BufferPoolBuilder::idle_trim`] do it. Metrics are pulled,
//! not pushed from the hot path: a binary calls
//! [`MetricsCollector::publish_pool`] before each scrape, or spawns a
//! [`Reporter`], which publishes on an interval and stops when dropped.
//! Libraries (such as a storage engine) only call [`get_buffer`]; executables
//! install the exporter.
//!
//! # Feature flags
//!
//! * `metrics` (on by default): [`MetricsCollector`] publishes [`PoolStats`]
//!   through the [`metrics`](https://docs.rs/metrics) facade under the
//!   `takhin_mempool_buffer_*` names, and [`Reporter`] does it on an interval
//!   from a background thread. Nothing is recorded on the get/drop path.
//! * `prometheus` (off by default, implies `metrics`): [`install_prometheus`]
//!   installs `metrics-exporter-prometheus` with its HTTP listener on
//!   `127.0.0.1:9000`, or another address with [`install_prometheus_on`].
//! * `bytes` (off by default): `bytes::BufMut` for [`PooledBuf`], and
//!   `PooledBuf::freeze` into a zero-copy `bytes::Bytes` (needs `bytes`
//!   1.10 or later, for `Bytes::from_owner`).
//! * `async` (off by default): `BufferPool::get_async` and its `GetAsync`
//!   future, a runtime-agnostic, cancellation-safe wait for the memory budget.
//!   It adds no dependency.
//!
//! Leak tracking ([`BufferPoolBuilder::track_leaks`], [`BufferPool::leaks`])
//! needs no feature: it is chosen per pool at run time.
//!
//! # Safety and correctness
//!
//! `unsafe` code lives in two places. The aligned allocation behind each
//! buffer (`aligned_buf.rs`: four blocks and the two `unsafe impl`s `Send`
//! and `Sync`). And the get/drop fast path, where each block was kept only
//! after callgrind showed what it saves: a thread cache's stack slots are
//! `MaybeUninit` (`stack.rs`), the front cache is used in place through a
//! raw pointer (`local_cache.rs`), the get's stack is found without a bounds
//! check, and the guard's `Drop` moves its buffer out of a `ManuallyDrop`
//! (`pooled_buf.rs`). Every block has a `SAFETY` comment and unit tests, and
//! `docs/design.md` ("The per-thread cache") gives the invariants. With the
//! `bytes` feature there is also the `unsafe impl BufMut` (`buf_mut.rs`,
//! which needs no `unsafe` block; its `SAFETY` comment goes through the
//! trait's contract and `tests/bytes.rs` exercises each point).
//! The test suite also runs under valgrind (see `README.md`).
//!
//! # Comparison with similar crates
//!
//! `zeropool`, `opool`, `object-pool`, `byte-pool` and `sharded-slab` pool
//! buffers too; none zeroes only the used bytes, bounds retention across
//! thread caches, or counts exactly without shared atomics. `docs/benchmarks.md`
//! compares them with this crate and with `Vec` on glibc, mimalloc and jemalloc.
#![doc(test(
    no_crate_inject,
    attr(deny(warnings, rust_2018_idioms), allow(dead_code, unused_variables))
))]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![forbid(unsafe_op_in_unsafe_fn)]

// Leaves: no crate imports beyond each other.
mod aligned_buf;
mod bucket;
mod counters;
mod error;
mod size_class;
mod stack;
mod stats;
mod sync;

// The core.
mod shared;

// Mechanisms that work on the core.
mod background;
mod budget;
mod leak;
mod local_cache;
mod trim;

// The facade, its builder and its guard.
mod builder;
mod pool;
mod pooled_buf;

// Adapters.
#[cfg(feature = "bytes")]
mod buf_mut;
#[cfg(feature = "metrics")]
mod collector;
#[cfg(feature = "async")]
mod get_async;
mod global;
mod io;
#[cfg(feature = "prometheus")]
mod prometheus;
#[cfg(feature = "metrics")]
mod reporter;

pub use budget::{BudgetEvent, BudgetStats, WaitOutcome};
pub use builder::{
    BufferPoolBuilder, DEFAULT_MAX_BUFFER_SIZE, DEFAULT_MAX_IDLE_PER_BUCKET,
    DEFAULT_RETAINED_BYTES_PER_BUCKET, DEFAULT_THREAD_CACHE_BYTES, MAX_IDLE_PER_BUCKET,
};
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub use collector::{BUCKET_SIZE_LABEL, DEFAULT_METRICS_PREFIX, MetricsCollector};
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub use error::MetricsError;
#[cfg(feature = "prometheus")]
#[cfg_attr(docsrs, doc(cfg(feature = "prometheus")))]
pub use error::PrometheusError;
pub use error::{BuildError, CapacityError, PoolError};
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub use get_async::GetAsync;
pub use global::{
    get_buffer, get_empty_buffer, global, init_global, stats, try_get_buffer, try_get_empty_buffer,
};
pub use leak::LeakReport;
pub use pool::BufferPool;
pub use pooled_buf::PooledBuf;
#[cfg(feature = "prometheus")]
#[cfg_attr(docsrs, doc(cfg(feature = "prometheus")))]
pub use prometheus::{
    DEFAULT_PROMETHEUS_ADDR, PrometheusExporter, install_prometheus, install_prometheus_on,
};
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub use reporter::Reporter;
pub use size_class::DEFAULT_BUCKET_SIZES;
pub use stats::{BucketStats, PoolStats};
