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
//! # Reliability
//!
//! Appends are single positional writes with no user-space buffering;
//! `flush` syncs. Reopening scans every batch, cuts the file at the first
//! torn or corrupt batch and rebuilds the indexes ([`Recovery`]). Decoding
//! never panics: every length prefix is checked against the bytes present
//! before it is used, and errors are typed ([`DecodeError`], [`LogError`]).
//! `docs/storage.md` describes the format and the rules in full.
//!
//! # Platform
//!
//! Unix only: reads and writes are positional (`pread`/`pwrite`), so reads
//! take `&self`.
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
mod error;
mod fetch;
mod index;
mod log;
mod raw_batch;
mod record;
mod record_ref;
mod segment;
mod varint;

pub use batch::{BATCH_HEADER_LEN, BatchRecords, BatchRef, LOG_OVERHEAD, MAGIC_V2};
pub use buffer_source::{BufferSource, VecBuffers};
pub use compression::{Compression, DecodedBatch, MAX_DECOMPRESSED_BYTES};
pub use config::{
    DEFAULT_INDEX_INTERVAL_BYTES, DEFAULT_MAX_BATCH_BYTES, DEFAULT_SEGMENT_BYTES, LogConfig,
};
pub use error::{DecodeError, LogError};
pub use fetch::{Batches, Fetch, Records};
pub use log::Log;
pub use record::{Header, Record};
pub use record_ref::{HeaderRef, Headers, HeadersIter, RecordRef};
pub use segment::{
    INDEX_SUFFIX, LOG_SUFFIX, Recovery, Segment, TIME_INDEX_SUFFIX, segment_file_name,
};
