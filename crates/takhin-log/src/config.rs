//! [`LogConfig`]: segment size, index interval and batch size limit.

/// Sizes that govern a [`Segment`](crate::Segment) and a [`Log`](crate::Log).
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
    /// How `append_batch` stores records; see `LogConfig::with_compression`.
    pub(crate) compression: crate::Compression,
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
            compression: crate::Compression::None,
        }
    }
}

impl LogConfig {
    /// Sets the size at which a [`Log`](crate::Log) rolls to a new segment.
    /// A segment always takes at least one batch, so a batch larger than
    /// this gets a segment of its own. Index positions are `u32`, hence the
    /// type. Defaults to [`DEFAULT_SEGMENT_BYTES`].
    ///
    /// # Panics
    ///
    /// Panics if `bytes` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = takhin_log::LogConfig::default().with_segment_bytes(1 << 20);
    /// assert_eq!(config.segment_bytes(), 1 << 20);
    /// ```
    #[must_use]
    pub fn with_segment_bytes(mut self, bytes: u32) -> Self {
        assert!(bytes > 0, "segment_bytes must be positive");
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
    /// Defaults to [`DEFAULT_MAX_BATCH_BYTES`].
    ///
    /// # Panics
    ///
    /// Panics if `bytes` is below the 61-byte batch header.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = takhin_log::LogConfig::default().with_max_batch_bytes(4 << 20);
    /// assert_eq!(config.max_batch_bytes(), 4 << 20);
    /// ```
    #[must_use]
    pub fn with_max_batch_bytes(mut self, bytes: u32) -> Self {
        assert!(
            bytes as usize >= crate::BATCH_HEADER_LEN,
            "max_batch_bytes below 61"
        );
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
}
