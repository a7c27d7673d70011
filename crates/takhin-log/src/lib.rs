//! A Kafka-style storage log whose every temporary buffer comes from
//! [`mempool`].
//!
//! Records are stored as Kafka v2 record batches (magic 2, CRC-32C, varint
//! records), the format Kafka keeps on disk, in segments named by base
//! offset with a sparse offset index and time index beside each. Encoding a
//! batch, writing an index entry and reading batches back each take one
//! buffer from a [`BufferSource`]: the global pool by default, a local
//! [`mempool::BufferPool`], or [`VecBuffers`] for comparison. Reads decode in
//! place into [`RecordRef`]s that borrow the pooled read buffer, so a fetch
//! makes no per-record heap allocation.
//!
//! ```
//! use takhin_log::{Log, LogConfig, Record};
//!
//! let dir = tempfile::tempdir()?;
//! let mut log = Log::open(dir.path(), LogConfig::default())?;
//! let records = [Record::new(1, Some(b"k1"), Some(b"v1")), Record::new(2, Some(b"k2"), Some(b"v2"))];
//! assert_eq!(log.append_batch(&records)?, 0);
//! log.flush()?;
//!
//! let fetch = log.read_range(0, 1 << 20)?;
//! let keys: Vec<_> = fetch.records().map(|r| r.map(|r| r.key)).collect::<Result<_, _>>()?;
//! assert_eq!(keys, [Some(&b"k1"[..]), Some(&b"k2"[..])]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # `Segment` and `Log`
//!
//! A [`Segment`] is one data file (`00000000000000000000.log`) plus its
//! `.index` and `.timeindex`. A [`Log`] is a directory of segments; it rolls
//! to a new segment when the active one would pass
//! [`LogConfig::segment_bytes`].
//!
//! # Compressed and client batches
//!
//! Batches in any Kafka codec (gzip, snappy, lz4, zstd) are stored as they
//! are and decode through [`BatchRef::decompress`] into one buffer from the
//! [`BufferSource`]. [`LogConfig::with_compression`] makes `append_batch`
//! compress, and [`Log::append_raw`] appends a batch a producer encoded,
//! checked but never re-encoded. Both take the same append path as a plain
//! batch: the same limits, offset checks and roll back on failure.
//!
//! # Reliability
//!
//! Appends are single positional writes with no user-space buffering, and an
//! append that fails (a full disk, say) leaves nothing behind: the segment's
//! end is committed only after the data and index writes all succeeded.
//! `flush` syncs; rolls sync the old segment, and the directory is synced
//! wherever POSIX needs it (created and deleted segments, the checkpoint).
//! A [`Log`] holds an exclusive lock on its directory (`.lock`) for its whole
//! life, so a second writer fails with [`LogError::Locked`]. Reopening cuts
//! the active segment at the first torn or corrupt batch and rebuilds its
//! indexes ([`Recovery`]); sealed segments below the recovery point
//! ([`Log::recovery_point`]) open from their index files without a rescan,
//! and damage to any sealed segment is an error naming the file and the
//! position ([`LogError::CorruptSegment`]), never a cut of acknowledged
//! records. Decoding never panics: every length prefix is checked against the
//! bytes present before it is used, and errors are typed ([`DecodeError`],
//! [`LogError`]). `docs/storage.md` describes the format and the rules in
//! full.
//!
//! # Platform
//!
//! Unix only: reads and writes are positional (`pread`/`pwrite`), so reads
//! take `&self`; the directory lock is `flock` (through `rustix`, which gives
//! a safe call: this crate forbids `unsafe`, and `File::try_lock` needs Rust
//! 1.89, above the MSRV).
#![doc(test(
    no_crate_inject,
    attr(deny(warnings, rust_2018_idioms), allow(dead_code, unused_variables))
))]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(not(unix))]
compile_error!("takhin-log needs positional file I/O (std::os::unix::fs::FileExt)");

mod batch;
mod buffer_source;
mod compression;
mod config;
mod dir_lock;
mod durable;
mod error;
mod fetch;
mod index;
mod raw_batch;
mod record;
mod record_ref;
mod recovery_point;
mod segment;
mod segment_name;
mod segmented_log;
mod varint;

pub use batch::{BATCH_HEADER_LEN, BatchRecords, BatchRef, LOG_OVERHEAD, MAGIC_V2};
pub use buffer_source::{BufferSource, VecBuffers};
pub use compression::{Compression, DecodedBatch, MAX_DECOMPRESSED_BYTES};
pub use config::{
    DEFAULT_INDEX_INTERVAL_BYTES, DEFAULT_MAX_BATCH_BYTES, DEFAULT_SEGMENT_BYTES, LogConfig,
};
pub use dir_lock::LOCK_FILE;
pub use error::{DecodeError, LogError};
pub use fetch::{Batches, Fetch, Records};
pub use record::{Header, Record};
pub use record_ref::{HeaderRef, Headers, HeadersIter, RecordRef};
pub use recovery_point::RECOVERY_POINT_FILE;
pub use segment::{MAX_OFFSET, Recovery, Segment};
pub use segment_name::{INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, segment_file_name};
pub use segmented_log::Log;
