//! [`LogConfig`]: segment size, index interval, batch size limit and the
//! codec `append_batch` compresses with.
//!
//! Setters never panic; [`LogConfig::validate`] runs where the configuration
//! is used (`Segment::create`, `Segment::open`, `Log::open`), so a bad value
//! is a typed [`LogError::InvalidConfig`], the rule `mempool`'s builder
//! follows too.

use crate::{Compression, LogError};

/// Sizes that govern a [`Segment`](crate::Segment) and a [`Log`](crate::Log),
/// and how they store the batches they encode.
///
/// # Examples
///
/// ```
/// let config = takhin_log::LogConfig::default().with_segment_bytes(64 << 20);
/// assert_eq!(config.segment_bytes(), 64 << 20);
/// assert_eq!(config.index_interval_bytes(), 4096);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogConfig {
    segment_bytes: u32,
    index_interval_bytes: u32,
    max_batch_bytes: u32,
    compression: Compression,
}

/// Kafka's `log.segment.bytes` default: 1 GiB.
pub const DEFAULT_SEGMENT_BYTES: u32 = 1 << 30;
/// Kafka's `index.interval.bytes` default: 4 KiB.
pub const DEFAULT_INDEX_INTERVAL_BYTES: u32 = 4096;
/// Kafka's `message.max.bytes` default: 1 MiB plus the 12-byte log overhead.
pub const DEFAULT_MAX_BATCH_BYTES: u32 = 1_048_588;

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            index_interval_bytes: DEFAULT_INDEX_INTERVAL_BYTES,
            max_batch_bytes: DEFAULT_MAX_BATCH_BYTES,
            compression: Compression::None,
        }
    }
}

impl LogConfig {
    /// Sets the size at which a [`Log`](crate::Log) rolls to a new segment.
    /// A segment always takes at least one batch, so a batch larger than
    /// this gets a segment of its own. Index positions are `u32`, hence the
    /// type. Defaults to [`DEFAULT_SEGMENT_BYTES`]. 0 is refused where the
    /// configuration is used ([`LogConfig::validate`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = takhin_log::LogConfig::default().with_segment_bytes(1 << 20);
    /// assert_eq!(config.segment_bytes(), 1 << 20);
    /// ```
    #[must_use]
    pub fn with_segment_bytes(mut self, bytes: u32) -> Self {
        self.segment_bytes = bytes;
        self
    }

    /// Sets how many data bytes may pass between two index entries: a batch
    /// is indexed when more than this many bytes were written since the last
    /// entry (Kafka's rule; the first batch, at position 0, never needs one).
    /// Smaller means bigger indexes and shorter scans. Defaults to
    /// [`DEFAULT_INDEX_INTERVAL_BYTES`].
    ///
    /// # Examples
    ///
    /// ```
    /// let config = takhin_log::LogConfig::default().with_index_interval_bytes(0);
    /// assert_eq!(config.index_interval_bytes(), 0); // index every batch but the first
    /// ```
    #[must_use]
    pub fn with_index_interval_bytes(mut self, bytes: u32) -> Self {
        self.index_interval_bytes = bytes;
        self
    }

    /// Sets the largest batch accepted by `append_batch` and by recovery,
    /// log overhead included. Recovery treats a larger length prefix as a
    /// torn tail, so it also caps what a corrupt file can make us allocate.
    /// Defaults to [`DEFAULT_MAX_BATCH_BYTES`]. A value below the 61-byte
    /// batch header is refused where the configuration is used
    /// ([`LogConfig::validate`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = takhin_log::LogConfig::default().with_max_batch_bytes(4 << 20);
    /// assert_eq!(config.max_batch_bytes(), 4 << 20);
    /// ```
    #[must_use]
    pub fn with_max_batch_bytes(mut self, bytes: u32) -> Self {
        self.max_batch_bytes = bytes;
        self
    }

    /// The roll size; see [`LogConfig::with_segment_bytes`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(takhin_log::LogConfig::default().segment_bytes(), 1 << 30);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn segment_bytes(&self) -> u32 {
        self.segment_bytes
    }

    /// The index interval; see [`LogConfig::with_index_interval_bytes`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(takhin_log::LogConfig::default().index_interval_bytes(), 4096);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn index_interval_bytes(&self) -> u32 {
        self.index_interval_bytes
    }

    /// The batch size limit; see [`LogConfig::with_max_batch_bytes`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(takhin_log::LogConfig::default().max_batch_bytes(), 1_048_588);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_batch_bytes(&self) -> u32 {
        self.max_batch_bytes
    }

    /// Sets the codec `append_batch` compresses each batch's records with
    /// (Kafka's `compression.type` on the broker); the batch size limit and
    /// the roll apply to the compressed batch. Batches appended with
    /// [`Log::append_raw`](crate::Log::append_raw) keep the codec their
    /// producer chose. Reads of a compressed batch decode through
    /// [`BatchRef::decompress`](crate::BatchRef::decompress). Defaults to [`Compression::None`].
    ///
    /// # Examples
    ///
    /// ```
    /// use takhin_log::{Compression, Log, LogConfig, Record};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let config = LogConfig::default().with_compression(Compression::Zstd);
    /// let mut log = Log::open(dir.path(), config)?;
    /// let value = [b'x'; 10_000];
    /// log.append_batch(&[Record::new(0, None, Some(&value)), Record::new(1, None, Some(&value))])?;
    /// assert!(log.size_bytes() < 200);
    /// let fetch = log.read(0)?.unwrap();
    /// let batch = fetch.batches().next().unwrap()?;
    /// assert_eq!(batch.compression()?, Compression::Zstd);
    /// let decoded = batch.decompress(mempool::global())?;
    /// assert_eq!(decoded.records().count(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// The codec of `append_batch`; see [`LogConfig::with_compression`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(takhin_log::LogConfig::default().compression(), takhin_log::Compression::None);
    /// ```
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Checks the values together; `Segment::create`, `Segment::open` and
    /// `Log::open` call it, so a setter never has to panic.
    ///
    /// # Errors
    ///
    /// [`LogError::InvalidConfig`] for a `segment_bytes` of 0 or a
    /// `max_batch_bytes` below the 61-byte batch header. Every
    /// [`Compression`] is valid with any sizes: a batch that compresses
    /// to more than `max_batch_bytes` is refused when appended.
    ///
    /// # Examples
    ///
    /// ```
    /// use takhin_log::{LogConfig, LogError};
    ///
    /// let config = LogConfig::default().with_segment_bytes(0);
    /// assert!(matches!(config.validate(), Err(LogError::InvalidConfig { setting: "segment_bytes", .. })));
    /// assert!(LogConfig::default().validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), LogError> {
        let check = |setting, value: u32, min: usize| {
            if (value as usize) < min {
                return Err(LogError::InvalidConfig {
                    setting,
                    value: u64::from(value),
                    min: min as u64,
                });
            }
            Ok(())
        };
        check("segment_bytes", self.segment_bytes, 1)?;
        check(
            "max_batch_bytes",
            self.max_batch_bytes,
            crate::BATCH_HEADER_LEN,
        )
    }
}
