//! Kafka v2 record batches: the fixed header layout, encoding a slice of
//! [`Record`]s into a caller's buffer, and [`BatchRef`], a batch validated in
//! place.
//!
//! ```text
//! offset  size  field
//!      0     8  baseOffset            i64  ┐ log overhead (12 bytes)
//!      8     4  batchLength           i32  ┘ bytes after this field
//!     12     4  partitionLeaderEpoch  i32
//!     16     1  magic                 i8 = 2
//!     17     4  crc                   u32  CRC-32C of bytes 21..end
//!     21     2  attributes            i16
//!     23     4  lastOffsetDelta       i32
//!     27     8  baseTimestamp         i64
//!     35     8  maxTimestamp          i64
//!     43     8  producerId            i64
//!     51     2  producerEpoch         i16
//!     53     4  baseSequence          i32
//!     57     4  recordsCount          i32
//!     61     …  records (varint length, attributes, deltas, key, value, headers)
//! ```

use crate::record_ref::{RecordRef, decode_record};
use crate::varint::varlong_len;
use crate::{DecodeError, LogError, Record};

/// Bytes before `batchLength` counts: baseOffset and batchLength itself.
pub const LOG_OVERHEAD: usize = 12;
/// Size of the fixed v2 batch header, records excluded.
pub const BATCH_HEADER_LEN: usize = 61;
/// The only magic value this crate reads and writes.
pub const MAGIC_V2: i8 = 2;

const LENGTH_AT: usize = 8;
const LEADER_EPOCH_AT: usize = 12;
const MAGIC_AT: usize = 16;
const CRC_AT: usize = 17;
const ATTRIBUTES_AT: usize = 21;
const LAST_OFFSET_DELTA_AT: usize = 23;
const BASE_TIMESTAMP_AT: usize = 27;
const MAX_TIMESTAMP_AT: usize = 35;
const PRODUCER_ID_AT: usize = 43;
const PRODUCER_EPOCH_AT: usize = 51;
const BASE_SEQUENCE_AT: usize = 53;
const RECORDS_COUNT_AT: usize = 57;
/// Compression codec bits of the attributes; 0 is none.
pub(crate) const COMPRESSION_MASK: i16 = 0x07;
/// Size of baseOffset, the first field. It lies outside the CRC, so a
/// checked batch is given its offsets by rewriting these bytes alone.
pub(crate) const BASE_OFFSET_LEN: usize = 8;

/// Size of one record body (everything after its length varint).
fn record_body_len(record: &Record<'_>, timestamp_delta: i64, offset_delta: i64) -> usize {
    let mut len = 1 + varlong_len(timestamp_delta) + varlong_len(offset_delta);
    len += nullable_len(record.key) + nullable_len(record.value);
    len += varlong_len(record.headers.len() as i64);
    for header in record.headers {
        len += nullable_len(Some(header.key.as_bytes())) + nullable_len(header.value);
    }
    len
}

fn nullable_len(bytes: Option<&[u8]>) -> usize {
    match bytes {
        Some(b) => varlong_len(b.len() as i64) + b.len(),
        None => 1,
    }
}

/// The encoded size of a batch holding `records`.
///
/// # Errors
///
/// [`LogError::EmptyBatch`] for no records, [`LogError::TooLarge`] when a
/// field or the batch cannot be expressed in Kafka's `i32` lengths.
pub(crate) fn encoded_len(records: &[Record<'_>]) -> Result<usize, LogError> {
    let first = records.first().ok_or(LogError::EmptyBatch)?;
    let too_large = |size: usize| LogError::TooLarge {
        what: "batch",
        size: size as u64,
        limit: i32::MAX as u64,
    };
    let mut len = BATCH_HEADER_LEN;
    for (i, record) in records.iter().enumerate() {
        for part in [record.key, record.value].into_iter().flatten() {
            if part.len() > i32::MAX as usize {
                return Err(too_large(part.len()));
            }
        }
        let delta = record.timestamp.wrapping_sub(first.timestamp);
        let body = record_body_len(record, delta, i as i64);
        len = len.saturating_add(varlong_len(body as i64) + body);
    }
    if len - LOG_OVERHEAD > i32::MAX as usize || records.len() > i32::MAX as usize {
        return Err(too_large(len));
    }
    Ok(len)
}

/// Encodes `records` as one v2 batch starting at `base_offset` into `out`,
/// which must be exactly [`encoded_len`] bytes long. Every byte of `out` is
/// written: a pool built with `zero_on_drop(false)` hands out stale bytes.
pub(crate) fn encode(out: &mut [u8], base_offset: u64, records: &[Record<'_>]) {
    let base_timestamp = records[0].timestamp;
    let max_timestamp = records
        .iter()
        .map(|r| r.timestamp)
        .max()
        .unwrap_or(base_timestamp);
    put_i64(out, 0, base_offset as i64);
    put_i32(out, LENGTH_AT, (out.len() - LOG_OVERHEAD) as i32);
    put_i32(out, LEADER_EPOCH_AT, -1);
    out[MAGIC_AT] = MAGIC_V2 as u8;
    put_i16(out, ATTRIBUTES_AT, 0);
    put_i32(out, LAST_OFFSET_DELTA_AT, (records.len() - 1) as i32);
    put_i64(out, BASE_TIMESTAMP_AT, base_timestamp);
    put_i64(out, MAX_TIMESTAMP_AT, max_timestamp);
    put_i64(out, PRODUCER_ID_AT, -1);
    put_i16(out, PRODUCER_EPOCH_AT, -1);
    put_i32(out, BASE_SEQUENCE_AT, -1);
    put_i32(out, RECORDS_COUNT_AT, records.len() as i32);
    let mut pos = BATCH_HEADER_LEN;
    for (i, record) in records.iter().enumerate() {
        let timestamp_delta = record.timestamp.wrapping_sub(base_timestamp);
        let body = record_body_len(record, timestamp_delta, i as i64);
        pos += crate::varint::put_varlong(&mut out[pos..], body as i64);
        out[pos] = 0; // record attributes: unused, but written like every byte
        pos += 1;
        pos += crate::varint::put_varlong(&mut out[pos..], timestamp_delta);
        pos += crate::varint::put_varlong(&mut out[pos..], i as i64);
        pos = put_nullable(out, pos, record.key);
        pos = put_nullable(out, pos, record.value);
        pos += crate::varint::put_varlong(&mut out[pos..], record.headers.len() as i64);
        for header in record.headers {
            pos = put_nullable(out, pos, Some(header.key.as_bytes()));
            pos = put_nullable(out, pos, header.value);
        }
    }
    debug_assert_eq!(pos, out.len(), "encoded_len and encode disagree");
    put_crc(out);
}

/// Finishes a batch whose records section was replaced by its `codec_bits`
/// compressed form: `bytes` is the whole new batch, its header copied from
/// the plain one. Sets the length, the codec bits and the CRC.
pub(crate) fn seal_compressed(bytes: &mut [u8], codec_bits: i16) {
    put_i32(bytes, LENGTH_AT, (bytes.len() - LOG_OVERHEAD) as i32);
    let attributes = (get_i16(bytes, ATTRIBUTES_AT) & !COMPRESSION_MASK) | codec_bits;
    put_i16(bytes, ATTRIBUTES_AT, attributes);
    put_crc(bytes);
}

/// The baseOffset field holding `base`.
pub(crate) fn base_offset_field(base: u64) -> [u8; BASE_OFFSET_LEN] {
    (base as i64).to_be_bytes()
}

/// Stores the CRC-32C of the batch that is exactly `bytes`.
fn put_crc(bytes: &mut [u8]) {
    let crc = crc32c::crc32c(&bytes[ATTRIBUTES_AT..]);
    bytes[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
}

fn put_nullable(out: &mut [u8], mut pos: usize, bytes: Option<&[u8]>) -> usize {
    match bytes {
        Some(b) => {
            pos += crate::varint::put_varlong(&mut out[pos..], b.len() as i64);
            out[pos..pos + b.len()].copy_from_slice(b);
            pos + b.len()
        }
        None => pos + crate::varint::put_varlong(&mut out[pos..], -1),
    }
}

fn put_i64(out: &mut [u8], at: usize, v: i64) {
    out[at..at + 8].copy_from_slice(&v.to_be_bytes());
}
fn put_i32(out: &mut [u8], at: usize, v: i32) {
    out[at..at + 4].copy_from_slice(&v.to_be_bytes());
}
fn put_i16(out: &mut [u8], at: usize, v: i16) {
    out[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

fn get_i64(b: &[u8], at: usize) -> i64 {
    i64::from_be_bytes(b[at..at + 8].try_into().expect("8-byte slice"))
}
fn get_i32(b: &[u8], at: usize) -> i32 {
    i32::from_be_bytes(b[at..at + 4].try_into().expect("4-byte slice"))
}
fn get_i16(b: &[u8], at: usize) -> i16 {
    i16::from_be_bytes(b[at..at + 2].try_into().expect("2-byte slice"))
}

/// Fails with [`DecodeError::Truncated`] unless `bytes` holds `needed` bytes.
fn need(bytes: &[u8], needed: usize) -> Result<(), DecodeError> {
    if bytes.len() < needed {
        return Err(DecodeError::Truncated {
            needed,
            available: bytes.len(),
        });
    }
    Ok(())
}

/// The total size (log overhead included) of the batch whose first
/// [`LOG_OVERHEAD`] bytes are `prefix`, checked against `max_batch_bytes`.
pub(crate) fn batch_size_from_prefix(
    prefix: &[u8],
    max_batch_bytes: usize,
) -> Result<usize, DecodeError> {
    need(prefix, LOG_OVERHEAD)?;
    let length = get_i32(prefix, LENGTH_AT);
    let min = BATCH_HEADER_LEN - LOG_OVERHEAD;
    match usize::try_from(length) {
        Ok(n) if n >= min && n + LOG_OVERHEAD <= max_batch_bytes => Ok(n + LOG_OVERHEAD),
        _ => Err(DecodeError::BatchLength {
            length: i64::from(length),
            min,
            max: max_batch_bytes.saturating_sub(LOG_OVERHEAD),
        }),
    }
}

/// What the log keeps of a batch's fixed header, read without checking the
/// CRC: used to walk batches that were checked when written or recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeaderSummary {
    /// Batch size, log overhead included.
    pub(crate) len: usize,
    pub(crate) base_offset: u64,
    pub(crate) last_offset: u64,
    pub(crate) max_timestamp: i64,
}

/// Reads the fields the log walks by from a batch's fixed header, checking
/// the length against `max_batch_bytes` and the offsets for overflow.
pub(crate) fn header_summary(
    header: &[u8],
    max_batch_bytes: usize,
) -> Result<HeaderSummary, DecodeError> {
    need(header, BATCH_HEADER_LEN)?;
    let len = batch_size_from_prefix(header, max_batch_bytes)?;
    let base_offset = get_i64(header, 0);
    let last_delta = get_i32(header, LAST_OFFSET_DELTA_AT);
    let last_offset = u64::try_from(base_offset)
        .ok()
        .zip(u64::try_from(last_delta).ok())
        .and_then(|(base, delta)| base.checked_add(delta))
        .ok_or(DecodeError::Field {
            field: "last offset delta",
            value: last_delta.into(),
        })?;
    Ok(HeaderSummary {
        len,
        base_offset: base_offset as u64,
        last_offset,
        max_timestamp: get_i64(header, MAX_TIMESTAMP_AT),
    })
}

/// Cuts the checked batch in `bytes` so that it keeps only the records below
/// `offset`, patching the header (count, last offset delta, max timestamp,
/// length, CRC) in place. Returns the new batch size. `offset` must be above
/// the batch's base offset, so at least one record stays.
pub(crate) fn cut_before(bytes: &mut [u8], offset: u64) -> Result<usize, DecodeError> {
    let batch = BatchRef::parse(bytes)?;
    let mut records = batch.records();
    let mut kept = 0i32;
    let mut last_delta = 0;
    let mut max_timestamp = i64::MIN;
    while let Some(record) = records.next() {
        let record = record?;
        if record.offset >= offset {
            break;
        }
        kept += 1;
        last_delta = records.last_delta;
        max_timestamp = max_timestamp.max(record.timestamp);
    }
    let mut end = BATCH_HEADER_LEN;
    let mut walk = batch.records();
    for _ in 0..kept {
        walk.next();
    }
    end += (bytes.len() - BATCH_HEADER_LEN) - walk.rest.len();
    put_i32(bytes, LENGTH_AT, (end - LOG_OVERHEAD) as i32);
    put_i32(bytes, LAST_OFFSET_DELTA_AT, last_delta);
    put_i64(bytes, MAX_TIMESTAMP_AT, max_timestamp);
    put_i32(bytes, RECORDS_COUNT_AT, kept);
    put_crc(&mut bytes[..end]);
    Ok(end)
}

/// A v2 record batch validated in place: its header, length and CRC-32C
/// have been checked; its records decode lazily.
///
/// # Examples
///
/// ```
/// use takhin_log::{BatchRef, LogConfig, Record, Segment};
///
/// let dir = tempfile::tempdir()?;
/// let mut segment = Segment::create(dir.path(), 0, LogConfig::default())?;
/// segment.append_batch(&[Record::new(10, None, Some(b"a")), Record::new(12, None, Some(b"b"))])?;
/// let fetch = segment.read_range(0, 1 << 20)?;
/// let batch = BatchRef::parse(fetch.bytes())?;
/// assert_eq!((batch.base_offset(), batch.last_offset(), batch.record_count()), (0, 1, 2));
/// assert_eq!(batch.max_timestamp(), 12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchRef<'a> {
    bytes: &'a [u8],
}

impl<'a> BatchRef<'a> {
    /// Parses and checks the batch at the front of `input`; bytes after it
    /// are ignored ([`BatchRef::len`] says where the next batch starts).
    ///
    /// This checks the length, the magic, the CRC-32C and that the header
    /// fields are sane; records are checked by
    /// [`BatchRef::validate_records`] or as [`BatchRef::records`] yields them.
    /// Batch lengths are bounded only by `input`.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] naming the first check that failed.
    ///
    /// # Examples
    ///
    /// ```
    /// use takhin_log::{BatchRef, DecodeError};
    ///
    /// let mut bytes = [0u8; 61];
    /// bytes[8..12].copy_from_slice(&1_000_000i32.to_be_bytes());
    /// assert!(matches!(BatchRef::parse(&bytes), Err(DecodeError::BatchLength { .. })));
    /// ```
    pub fn parse(input: &'a [u8]) -> Result<Self, DecodeError> {
        Self::parse_bounded(input, input.len())
    }

    /// As [`BatchRef::parse`], rejecting batches larger than `max_batch_bytes`.
    pub(crate) fn parse_bounded(
        input: &'a [u8],
        max_batch_bytes: usize,
    ) -> Result<Self, DecodeError> {
        need(input, BATCH_HEADER_LEN)?;
        let size = batch_size_from_prefix(input, max_batch_bytes.min(input.len()))?;
        let bytes = &input[..size];
        let magic = bytes[MAGIC_AT] as i8;
        if magic != MAGIC_V2 {
            return Err(DecodeError::Magic { magic });
        }
        let stored = u32::from_be_bytes(bytes[CRC_AT..CRC_AT + 4].try_into().expect("4 bytes"));
        let computed = crc32c::crc32c(&bytes[ATTRIBUTES_AT..]);
        if stored != computed {
            return Err(DecodeError::Crc { stored, computed });
        }
        let batch = BatchRef { bytes };
        let base_offset = get_i64(bytes, 0);
        let last_delta = get_i32(bytes, LAST_OFFSET_DELTA_AT);
        let count = get_i32(bytes, RECORDS_COUNT_AT);
        if base_offset < 0 {
            return Err(DecodeError::Field {
                field: "base offset",
                value: base_offset,
            });
        }
        if last_delta < 0 || base_offset.checked_add(i64::from(last_delta)).is_none() {
            return Err(DecodeError::Field {
                field: "last offset delta",
                value: last_delta.into(),
            });
        }
        // A record takes at least 7 bytes, which bounds a hostile count
        // (compressed records are bounded when they are decompressed).
        let room = if batch.is_compressed() {
            i32::MAX as usize
        } else {
            (size - BATCH_HEADER_LEN) / 7
        };
        if count < 0 || count as usize > room || (count == 0 && last_delta != 0) {
            return Err(DecodeError::Field {
                field: "records count",
                value: count.into(),
            });
        }
        Ok(batch)
    }

    /// The whole batch, log overhead included.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mut segment = takhin_log::Segment::create(dir.path(), 7, Default::default())?;
    /// # let records = [takhin_log::Record::new(5, None, Some(b"a")), takhin_log::Record::new(9, None, Some(b"b"))];
    /// # segment.append_batch(&records)?;
    /// let fetch = segment.read_range(7, 1 << 20)?;
    /// let batch = takhin_log::BatchRef::parse(fetch.bytes())?;
    /// assert_eq!(batch.as_bytes(), fetch.bytes());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The batch size in bytes, log overhead included.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mut segment = takhin_log::Segment::create(dir.path(), 7, Default::default())?;
    /// # let records = [takhin_log::Record::new(5, None, Some(b"a")), takhin_log::Record::new(9, None, Some(b"b"))];
    /// # segment.append_batch(&records)?;
    /// let fetch = segment.read_range(7, 1 << 20)?;
    /// let batch = takhin_log::BatchRef::parse(fetch.bytes())?;
    /// assert_eq!(batch.len(), fetch.bytes().len());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[allow(clippy::len_without_is_empty)] // a batch is never empty: 61 bytes at least
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Offset of the first record.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mut segment = takhin_log::Segment::create(dir.path(), 7, Default::default())?;
    /// # let records = [takhin_log::Record::new(5, None, Some(b"a")), takhin_log::Record::new(9, None, Some(b"b"))];
    /// # segment.append_batch(&records)?;
    /// let fetch = segment.read_range(7, 1 << 20)?;
    /// let batch = takhin_log::BatchRef::parse(fetch.bytes())?;
    /// assert_eq!(batch.base_offset(), 7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn base_offset(&self) -> u64 {
        get_i64(self.bytes, 0) as u64
    }

    /// Offset of the last record (base offset plus lastOffsetDelta).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mut segment = takhin_log::Segment::create(dir.path(), 7, Default::default())?;
    /// # let records = [takhin_log::Record::new(5, None, Some(b"a")), takhin_log::Record::new(9, None, Some(b"b"))];
    /// # segment.append_batch(&records)?;
    /// let fetch = segment.read_range(7, 1 << 20)?;
    /// let batch = takhin_log::BatchRef::parse(fetch.bytes())?;
    /// assert_eq!(batch.last_offset(), 8);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn last_offset(&self) -> u64 {
        self.base_offset() + get_i32(self.bytes, LAST_OFFSET_DELTA_AT) as u64
    }

    /// The batch's first timestamp; record timestamps are deltas from it.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mut segment = takhin_log::Segment::create(dir.path(), 7, Default::default())?;
    /// # let records = [takhin_log::Record::new(5, None, Some(b"a")), takhin_log::Record::new(9, None, Some(b"b"))];
    /// # segment.append_batch(&records)?;
    /// let fetch = segment.read_range(7, 1 << 20)?;
    /// let batch = takhin_log::BatchRef::parse(fetch.bytes())?;
    /// assert_eq!(batch.base_timestamp(), 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn base_timestamp(&self) -> i64 {
        get_i64(self.bytes, BASE_TIMESTAMP_AT)
    }

    /// The largest record timestamp in the batch.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mut segment = takhin_log::Segment::create(dir.path(), 7, Default::default())?;
    /// # let records = [takhin_log::Record::new(5, None, Some(b"a")), takhin_log::Record::new(9, None, Some(b"b"))];
    /// # segment.append_batch(&records)?;
    /// let fetch = segment.read_range(7, 1 << 20)?;
    /// let batch = takhin_log::BatchRef::parse(fetch.bytes())?;
    /// assert_eq!(batch.max_timestamp(), 9);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_timestamp(&self) -> i64 {
        get_i64(self.bytes, MAX_TIMESTAMP_AT)
    }

    /// The number of records the header announces.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mut segment = takhin_log::Segment::create(dir.path(), 7, Default::default())?;
    /// # let records = [takhin_log::Record::new(5, None, Some(b"a")), takhin_log::Record::new(9, None, Some(b"b"))];
    /// # segment.append_batch(&records)?;
    /// let fetch = segment.read_range(7, 1 << 20)?;
    /// let batch = takhin_log::BatchRef::parse(fetch.bytes())?;
    /// assert_eq!(batch.record_count(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn record_count(&self) -> u32 {
        get_i32(self.bytes, RECORDS_COUNT_AT) as u32
    }

    /// The stored CRC-32C.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mut segment = takhin_log::Segment::create(dir.path(), 7, Default::default())?;
    /// # let records = [takhin_log::Record::new(5, None, Some(b"a")), takhin_log::Record::new(9, None, Some(b"b"))];
    /// # segment.append_batch(&records)?;
    /// let fetch = segment.read_range(7, 1 << 20)?;
    /// let batch = takhin_log::BatchRef::parse(fetch.bytes())?;
    /// assert_eq!(batch.crc(), crc32c::crc32c(&fetch.bytes()[21..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn crc(&self) -> u32 {
        u32::from_be_bytes(self.bytes[CRC_AT..CRC_AT + 4].try_into().expect("4 bytes"))
    }

    /// Iterates over the records, decoding each in place.
    ///
    /// Yields an error, then stops, on the first record that does not
    /// decode; after the announced count it stops.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mut segment = takhin_log::Segment::create(dir.path(), 7, Default::default())?;
    /// # let records = [takhin_log::Record::new(5, None, Some(b"a")), takhin_log::Record::new(9, None, Some(b"b"))];
    /// # segment.append_batch(&records)?;
    /// let fetch = segment.read_range(7, 1 << 20)?;
    /// let batch = takhin_log::BatchRef::parse(fetch.bytes())?;
    /// let offsets: Vec<u64> = batch.records().map(|r| r.map(|r| r.offset)).collect::<Result<_, _>>()?;
    /// assert_eq!(offsets, [7, 8]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn records(&self) -> BatchRecords<'a> {
        let mut records = self.records_in(self.records_section());
        if self.is_compressed() {
            records.pending = Some(DecodeError::Compressed {
                attributes: self.attributes(),
            });
        }
        records
    }

    /// The attributes field: codec bits, timestamp type and flags.
    pub(crate) fn attributes(&self) -> i16 {
        get_i16(self.bytes, ATTRIBUTES_AT)
    }

    fn is_compressed(&self) -> bool {
        self.attributes() & COMPRESSION_MASK != 0
    }

    /// Everything after the fixed header: the records, or their compressed
    /// form.
    pub(crate) fn records_section(&self) -> &'a [u8] {
        &self.bytes[BATCH_HEADER_LEN..]
    }

    /// The records of this batch's header decoded from `rest`, the records
    /// section (decompressed, for a compressed batch).
    pub(crate) fn records_in<'b>(&self, rest: &'b [u8]) -> BatchRecords<'b> {
        BatchRecords {
            pending: None,
            rest,
            base_offset: self.base_offset(),
            base_timestamp: self.base_timestamp(),
            left: self.record_count(),
            index: 0,
            last_delta: -1,
            max_delta: get_i32(self.bytes, LAST_OFFSET_DELTA_AT),
        }
    }

    /// Decodes every record and checks that the count, the offset deltas
    /// and the byte length all agree with the header. Allocates nothing.
    /// A compressed batch is trusted on its CRC, as Kafka's recovery trusts
    /// it: only its codec is checked (its records decode, or fail cleanly,
    /// through [`BatchRef::decompress`]).
    ///
    /// # Errors
    ///
    /// The first [`DecodeError`] found.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mut segment = takhin_log::Segment::create(dir.path(), 7, Default::default())?;
    /// # let records = [takhin_log::Record::new(5, None, Some(b"a")), takhin_log::Record::new(9, None, Some(b"b"))];
    /// # segment.append_batch(&records)?;
    /// let fetch = segment.read_range(7, 1 << 20)?;
    /// let batch = takhin_log::BatchRef::parse(fetch.bytes())?;
    /// assert!(batch.validate_records().is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validate_records(&self) -> Result<(), DecodeError> {
        if self.is_compressed() {
            // As Kafka's recovery: the CRC covers the compressed bytes, which
            // decode (or fail cleanly) when read; only the codec is checked.
            return self.compression().map(drop);
        }
        let mut records = self.records();
        for record in records.by_ref() {
            record?;
        }
        if !records.rest.is_empty() {
            return Err(DecodeError::Inconsistent {
                index: self.record_count(),
                what: "bytes after the last record",
                expected: 0,
                found: records.rest.len() as i64,
            });
        }
        let last = get_i32(self.bytes, LAST_OFFSET_DELTA_AT);
        if records.last_delta != last && self.record_count() > 0 {
            return Err(DecodeError::Inconsistent {
                index: self.record_count() - 1,
                what: "last offset delta",
                expected: i64::from(last),
                found: i64::from(records.last_delta),
            });
        }
        Ok(())
    }
}

/// Iterator over the records of a [`BatchRef`].
#[derive(Debug, Clone)]
pub struct BatchRecords<'a> {
    /// An error to yield first (a compressed batch read in place).
    pending: Option<DecodeError>,
    rest: &'a [u8],
    base_offset: u64,
    base_timestamp: i64,
    left: u32,
    index: u32,
    last_delta: i32,
    max_delta: i32,
}

impl<'a> Iterator for BatchRecords<'a> {
    type Item = Result<RecordRef<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.pending.take() {
            self.left = 0;
            return Some(Err(error));
        }
        if self.left == 0 {
            return None;
        }
        let result = decode_record(self.rest, self.base_offset, self.base_timestamp).and_then(
            |(record, delta, used)| {
                if delta <= self.last_delta || delta > self.max_delta {
                    return Err(DecodeError::Inconsistent {
                        index: self.index,
                        what: "offset delta out of order",
                        expected: i64::from(self.last_delta) + 1,
                        found: i64::from(delta),
                    });
                }
                self.last_delta = delta;
                self.rest = &self.rest[used..];
                Ok(record)
            },
        );
        self.index += 1;
        self.left = if result.is_ok() { self.left - 1 } else { 0 };
        Some(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Header;

    fn encode_vec(base: u64, records: &[Record<'_>]) -> Vec<u8> {
        let mut out = vec![0u8; encoded_len(records).unwrap()];
        encode(&mut out, base, records);
        out
    }

    #[test]
    fn crc32c_matches_the_standard_check_value() {
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
    }

    /// Byte-exact fixture, laid out by hand from the Kafka v2 spec.
    #[test]
    fn single_record_batch_is_byte_exact() {
        let bytes = encode_vec(5, &[Record::new(1000, Some(b"k"), Some(b"val"))]);
        let record: &[u8] = &[
            0x14, // body length 10 (zigzag 20)
            0x00, // attributes
            0x00, // timestamp delta 0
            0x00, // offset delta 0
            0x02, b'k', // key length 1, key
            0x06, b'v', b'a', b'l', // value length 3, value
            0x00, // header count 0
        ];
        let mut expected = Vec::new();
        expected.extend_from_slice(&5i64.to_be_bytes());
        expected.extend_from_slice(&((61 - 12 + record.len()) as i32).to_be_bytes());
        expected.extend_from_slice(&(-1i32).to_be_bytes()); // leader epoch
        expected.push(2); // magic
        expected.extend_from_slice(&[0, 0, 0, 0]); // crc, patched below
        expected.extend_from_slice(&0i16.to_be_bytes()); // attributes
        expected.extend_from_slice(&0i32.to_be_bytes()); // last offset delta
        expected.extend_from_slice(&1000i64.to_be_bytes()); // base timestamp
        expected.extend_from_slice(&1000i64.to_be_bytes()); // max timestamp
        expected.extend_from_slice(&(-1i64).to_be_bytes()); // producer id
        expected.extend_from_slice(&(-1i16).to_be_bytes()); // producer epoch
        expected.extend_from_slice(&(-1i32).to_be_bytes()); // base sequence
        expected.extend_from_slice(&1i32.to_be_bytes()); // records count
        expected.extend_from_slice(record);
        // CRC-32C of bytes 21.., computed apart from this crate with a
        // bitwise Castagnoli loop (poly 0x82F63B78).
        expected[17..21].copy_from_slice(&0x7181_5568u32.to_be_bytes());
        assert_eq!(bytes, expected);
        assert_eq!(bytes.len(), 72);
    }

    #[test]
    fn round_trips_nulls_headers_and_negative_deltas() {
        let headers = [Header::new("a", Some(b"1")), Header::new("", None)];
        let records = [
            Record::new(500, None, Some(b"x")).with_headers(&headers),
            Record::new(100, Some(b""), None),
            Record::new(i64::MAX, Some(b"kk"), Some(&[7; 300])),
        ];
        let bytes = encode_vec(1 << 40, &records);
        let batch = BatchRef::parse(&bytes).unwrap();
        batch.validate_records().unwrap();
        assert_eq!(batch.max_timestamp(), i64::MAX);
        let decoded: Vec<_> = batch.records().map(Result::unwrap).collect();
        assert_eq!(decoded.len(), 3);
        for (i, (got, want)) in decoded.iter().zip(&records).enumerate() {
            assert_eq!(got.offset, (1 << 40) + i as u64);
            assert_eq!(
                (got.timestamp, got.key, got.value),
                (want.timestamp, want.key, want.value)
            );
            assert_eq!(got.headers.len(), want.headers.len());
            for (h, w) in got.headers.iter().zip(want.headers) {
                assert_eq!((h.key, h.value), (w.key.as_bytes(), w.value));
            }
        }
    }

    #[test]
    fn detects_a_flipped_bit_anywhere_after_the_crc() {
        let bytes = encode_vec(0, &[Record::new(1, Some(b"key"), Some(b"value"))]);
        for i in ATTRIBUTES_AT..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x10;
            assert!(
                matches!(BatchRef::parse(&bad), Err(DecodeError::Crc { .. })),
                "byte {i}"
            );
        }
    }

    #[test]
    fn empty_batch_is_rejected() {
        assert!(matches!(encoded_len(&[]), Err(LogError::EmptyBatch)));
    }
}
