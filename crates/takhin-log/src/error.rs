//! Errors: [`DecodeError`] for bytes that are not a valid v2 batch, [`LogError`]
//! for everything a segment or log operation can hit.

use std::io;
use std::path::PathBuf;

/// Why a byte slice is not a valid Kafka v2 record batch.
///
/// Decoding never panics and never allocates: every length read from the
/// input is checked against the bytes actually present before it is used.
///
/// # Examples
///
/// ```
/// use takhin_log::{BatchRef, DecodeError};
///
/// let error = BatchRef::parse(&[0u8; 10]).unwrap_err();
/// assert_eq!(error, DecodeError::Truncated { needed: 61, available: 10 });
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer bytes are present than the structure being read needs.
    #[error("truncated input: needed {needed} bytes, {available} available")]
    Truncated {
        /// Bytes the structure needs.
        needed: usize,
        /// Bytes actually present.
        available: usize,
    },
    /// The batch length field is below the fixed header size or above the
    /// configured maximum.
    #[error("batch length {length} is outside {min}..={max}")]
    BatchLength {
        /// The length read from the batch header.
        length: i64,
        /// The smallest valid length.
        min: usize,
        /// The largest accepted length (`max_batch_bytes`).
        max: usize,
    },
    /// The magic byte is not 2; only v2 batches are supported.
    #[error("unsupported magic {magic}, only v2 record batches (magic 2) are supported")]
    Magic {
        /// The magic byte found.
        magic: i8,
    },
    /// The CRC-32C stored in the header does not match the batch bytes.
    #[error("crc mismatch: header says {stored:#010x}, bytes hash to {computed:#010x}")]
    Crc {
        /// The CRC in the header.
        stored: u32,
        /// The CRC computed over attributes..end.
        computed: u32,
    },
    /// The batch is compressed: its records decode through
    /// [`BatchRef::decompress`](crate::BatchRef::decompress), not in place.
    #[error("compressed batch (attributes {attributes:#06x}): decompress it first")]
    Compressed {
        /// The batch attributes.
        attributes: i16,
    },
    /// A varint ran past 5 bytes (varint) or 10 bytes (varlong).
    #[error("varint longer than {max_bytes} bytes")]
    VarintTooLong {
        /// The longest encoding allowed for this field.
        max_bytes: usize,
    },
    /// A length field is negative (other than -1 for null) or exceeds the
    /// bytes left in its enclosing structure.
    #[error("{field} length {length} is invalid with {available} bytes left")]
    Length {
        /// Which field carried the length.
        field: &'static str,
        /// The decoded length.
        length: i64,
        /// Bytes left in the enclosing record.
        available: usize,
    },
    /// A batch header field holds a value no valid batch has (a negative
    /// base offset, a negative record count, ...).
    #[error("batch header field {field} has invalid value {value}")]
    Field {
        /// The field's name.
        field: &'static str,
        /// The value found.
        value: i64,
    },
    /// A compressed records section failed to decompress.
    #[error("{codec} records failed to decompress: {reason}")]
    Decompress {
        /// The codec's name.
        codec: &'static str,
        /// What the codec said.
        reason: String,
    },
    /// The record count or offset deltas disagree with the batch header.
    #[error("record {index}: {what} (expected {expected}, found {found})")]
    Inconsistent {
        /// The record's position in the batch.
        index: u32,
        /// What disagrees.
        what: &'static str,
        /// The value implied by the header.
        expected: i64,
        /// The value found.
        found: i64,
    },
}

/// Why a segment or log operation failed.
///
/// # Examples
///
/// ```
/// use takhin_log::{LogConfig, LogError, Segment};
///
/// let dir = tempfile::tempdir()?;
/// let mut segment = Segment::create(dir.path(), 0, LogConfig::default())?;
/// let error = segment.truncate_to(5).unwrap_err();
/// assert!(matches!(error, LogError::OffsetOutOfRange { offset: 5, .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// A file operation failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// A temporary buffer could not be obtained from the pool.
    #[error("could not get a buffer: {0}")]
    Buffer(#[from] mempool::PoolError),
    /// A plain `Vec` buffer could not be allocated.
    #[error("allocating a {requested}-byte buffer failed")]
    Alloc {
        /// The number of bytes requested.
        requested: usize,
    },
    /// Stored bytes failed to decode where the log did not expect a torn
    /// tail (a sealed part of the segment was changed underneath us).
    #[error("corrupt batch at file position {position}: {source}")]
    Corrupt {
        /// File position of the batch.
        position: u64,
        /// What was wrong with it.
        #[source]
        source: DecodeError,
    },
    /// A sealed segment holds a batch that does not check out, or ends
    /// inside one: the disk or someone else changed it. `Log::open` reports
    /// this rather than cut a segment whose records were acknowledged.
    #[error("corrupt segment {}: bad batch at file position {position}: {source}", path.display())]
    CorruptSegment {
        /// The data file.
        path: PathBuf,
        /// File position of the bad batch.
        position: u64,
        /// What was wrong with it.
        #[source]
        source: DecodeError,
    },
    /// Two segments claim the same offsets: the earlier one ends past the
    /// later one's base offset.
    #[error("segment {} ends at offset {next_offset}, past the start of {}", earlier.display(), later.display())]
    Overlap {
        /// The earlier segment's data file.
        earlier: PathBuf,
        /// The later segment's data file.
        later: PathBuf,
        /// Where the earlier segment ends (its next offset).
        next_offset: u64,
    },
    /// Offsets are missing between two segments: the earlier one ends short
    /// of the later one's base offset.
    #[error("segment {} ends at offset {next_offset}, short of the start of {}", earlier.display(), later.display())]
    Gap {
        /// The earlier segment's data file.
        earlier: PathBuf,
        /// The later segment's data file.
        later: PathBuf,
        /// Where the earlier segment ends (its next offset).
        next_offset: u64,
    },
    /// Another `Log` (in this process or another) holds the directory's
    /// `.lock` file.
    #[error("log directory {} is locked by another writer ({})", dir.display(), source)]
    Locked {
        /// The log directory.
        dir: PathBuf,
        /// What `flock` said.
        #[source]
        source: io::Error,
    },
    /// An offset would pass Kafka's `i64` range ([`MAX_OFFSET`](crate::MAX_OFFSET)).
    #[error("offset {offset} is past the largest offset {limit}")]
    OffsetOverflow {
        /// The offset asked for or that a record would get.
        offset: u64,
        /// [`MAX_OFFSET`](crate::MAX_OFFSET).
        limit: u64,
    },
    /// An offset lies outside the range the segment or log holds.
    #[error("offset {offset} is outside {start}..{end}")]
    OffsetOutOfRange {
        /// The offset asked for.
        offset: u64,
        /// The first offset held.
        start: u64,
        /// One past the last offset held.
        end: u64,
    },
    /// A batch given to [`Log::append_raw`](crate::Log::append_raw) failed
    /// its checks.
    #[error("invalid record batch: {0}")]
    InvalidBatch(#[source] DecodeError),
    /// `append_batch` was called with no records.
    #[error("a batch needs at least one record")]
    EmptyBatch,
    /// An encoded batch or a segment would exceed a size limit.
    #[error("{what} of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// What is too large ("batch", "segment").
        what: &'static str,
        /// Its size.
        size: u64,
        /// The limit it broke.
        limit: u64,
    },
    /// A [`LogConfig`](crate::LogConfig) value is out of range; see
    /// [`LogConfig::validate`](crate::LogConfig::validate).
    #[error("{setting} of {value} is below the minimum of {min}")]
    InvalidConfig {
        /// The setting's name, as its `with_*` method spells it.
        setting: &'static str,
        /// The value given.
        value: u64,
        /// The smallest value accepted.
        min: u64,
    },
    /// A file in the log directory has a segment suffix (`.log`, `.index`,
    /// `.timeindex`) but its name is not 20 ASCII digits of an offset up to
    /// [`MAX_OFFSET`](crate::MAX_OFFSET).
    #[error("unexpected segment file name {name:?}")]
    BadFileName {
        /// The file name.
        name: String,
    },
}

impl LogError {
    pub(crate) fn corrupt(position: u64, source: DecodeError) -> Self {
        LogError::Corrupt { position, source }
    }
}
