//! Compressed v2 batches: the codec named by the low three bits of a batch's
//! attributes, and [`DecodedBatch`], a batch whose records section was
//! decompressed into one scratch buffer from a [`BufferSource`].
//!
//! Producers compress, and a broker stores their batches as they came, so a
//! log holds batches of every codec. Decoding one takes a single buffer (two
//! or more only when a streaming codec outgrows the first guess, each twice
//! the last); records then decode in place from it, as [`RecordRef`]s.
//!
//! [`RecordRef`]: crate::RecordRef

use std::io::Read;

use crate::batch::{self, BatchRecords, COMPRESSION_MASK};
use crate::{BATCH_HEADER_LEN, BatchRef, BufferSource, DecodeError, LogError, Record};

/// The most bytes a batch's records may decompress to: a bound on what a
/// hostile batch can make the reader take.
pub const MAX_DECOMPRESSED_BYTES: usize = 256 << 20;

/// The header xerial's snappy-java puts before its blocks (Java clients).
const XERIAL_MAGIC: &[u8] = b"\x82SNAPPY\0";
/// Magic, version and compatible-version fields.
const XERIAL_HEADER_LEN: usize = 16;
/// A snappy element yields at most 64 bytes from 3 (a copy), or no more
/// than it holds (a literal), so a block decompresses to less than 22 times
/// its size: a block that claims more is refused before a buffer is taken.
const SNAPPY_MAX_EXPANSION: usize = 22;

/// A record batch compression codec (Kafka's `compression.type`).
///
/// # Examples
///
/// ```
/// use takhin_log::Compression;
///
/// assert_eq!(Compression::from_attributes(0x0004)?, Compression::Zstd);
/// assert_eq!(Compression::Lz4.attribute_bits(), 3);
/// assert!(Compression::from_attributes(0x0007).is_err());
/// # Ok::<(), takhin_log::DecodeError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// Records stored as they are.
    #[default]
    None,
    /// gzip members (RFC 1952).
    Gzip,
    /// Raw snappy, or snappy-java's xerial framing (read only).
    Snappy,
    /// The LZ4 frame format, independent or linked blocks.
    Lz4,
    /// Zstandard frames.
    Zstd,
}

impl Compression {
    /// The codec in a batch's attributes.
    ///
    /// # Errors
    ///
    /// [`DecodeError::Field`] for codec ids 5 to 7, which Kafka does not define.
    ///
    /// # Examples
    ///
    /// See [`Compression`].
    pub fn from_attributes(attributes: i16) -> Result<Self, DecodeError> {
        Ok(match attributes & COMPRESSION_MASK {
            0 => Compression::None,
            1 => Compression::Gzip,
            2 => Compression::Snappy,
            3 => Compression::Lz4,
            4 => Compression::Zstd,
            other => {
                return Err(DecodeError::Field {
                    field: "compression codec",
                    value: other.into(),
                });
            }
        })
    }

    /// The codec's id, as stored in the attributes' low three bits.
    ///
    /// # Examples
    ///
    /// See [`Compression`].
    pub fn attribute_bits(self) -> i16 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

impl<'a> BatchRef<'a> {
    /// The batch's compression codec.
    ///
    /// # Errors
    ///
    /// As [`Compression::from_attributes`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mut log = takhin_log::Log::open(dir.path(), Default::default())?;
    /// log.append(&takhin_log::Record::new(0, None, Some(b"v")))?;
    /// let fetch = log.read(0)?.unwrap();
    /// let batch = fetch.batches().next().unwrap()?;
    /// assert_eq!(batch.compression()?, takhin_log::Compression::None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn compression(&self) -> Result<Compression, DecodeError> {
        Compression::from_attributes(self.attributes())
    }

    /// Decompresses the records section into a buffer from `source` (an
    /// uncompressed batch takes none), so that its records can be decoded.
    ///
    /// # Errors
    ///
    /// [`LogError::Corrupt`] (position 0) with [`DecodeError::Decompress`]
    /// when the codec rejects the bytes or they decompress to more than
    /// [`MAX_DECOMPRESSED_BYTES`]; a buffer error when `source` fails.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mut log = takhin_log::Log::open(dir.path(), Default::default())?;
    /// log.append(&takhin_log::Record::new(0, None, Some(b"v")))?;
    /// let fetch = log.read(0)?.unwrap();
    /// let batch = fetch.batches().next().unwrap()?;
    /// let decoded = batch.decompress(mempool::global())?;
    /// assert_eq!(decoded.records().next().unwrap()?.value, Some(&b"v"[..]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn decompress<S: BufferSource>(
        &self,
        source: S,
    ) -> Result<DecodedBatch<'a, S::Buf>, LogError> {
        let codec = self.compression().map_err(|e| LogError::corrupt(0, e))?;
        let input = self.records_section();
        let fail = |reason: String| {
            LogError::corrupt(
                0,
                DecodeError::Decompress {
                    codec: codec.name(),
                    reason,
                },
            )
        };
        let hint = input.len().saturating_mul(4);
        let decoded = match codec {
            Compression::None => None,
            Compression::Gzip => Some(read_all(
                flate2::read::MultiGzDecoder::new(input),
                hint,
                source,
                fail,
            )?),
            Compression::Lz4 => Some(read_all(
                lz4_flex::frame::FrameDecoder::new(input),
                hint,
                source,
                fail,
            )?),
            Compression::Zstd => {
                let decoder = zstd::stream::read::Decoder::with_buffer(input)
                    .map_err(|e| fail(e.to_string()))?;
                Some(read_all(decoder, hint, source, fail)?)
            }
            Compression::Snappy => Some(snappy(input, source, fail)?),
        };
        Ok(DecodedBatch {
            batch: *self,
            decoded,
        })
    }
}

/// A batch ready to decode: its records section decompressed into a
/// buffer from a [`BufferSource`], or, uncompressed, read in place. See
/// [`BatchRef::decompress`].
#[derive(Debug)]
pub struct DecodedBatch<'a, Buf> {
    batch: BatchRef<'a>,
    /// The decompressed records section and its length.
    decoded: Option<(Buf, usize)>,
}

impl<'a, Buf: std::ops::Deref<Target = [u8]>> DecodedBatch<'a, Buf> {
    /// The batch as stored (compressed).
    ///
    /// # Examples
    ///
    /// See [`BatchRef::decompress`].
    pub fn batch(&self) -> BatchRef<'a> {
        self.batch
    }

    /// Iterates over the records, decoding each in place from the
    /// decompressed bytes; as [`BatchRef::records`] otherwise.
    ///
    /// # Examples
    ///
    /// See [`BatchRef::decompress`].
    pub fn records(&self) -> BatchRecords<'_> {
        match &self.decoded {
            Some((buf, len)) => self.batch.records_in(&buf[..*len]),
            None => self.batch.records(),
        }
    }
}

/// Encodes `records` (whose plain batch is `len` bytes) as one batch at
/// `base_offset` whose records section is compressed with `codec`: (buffer,
/// batch length). Takes two buffers from `source`, the plain batch and the
/// compressed one.
pub(crate) fn encode<S: BufferSource>(
    records: &[Record<'_>],
    len: usize,
    base_offset: u64,
    codec: Compression,
    source: S,
) -> Result<(S::Buf, usize), LogError> {
    let mut plain = source.take(len)?;
    batch::encode(&mut plain, base_offset, records);
    let body = &plain[BATCH_HEADER_LEN..];
    // Room for incompressible input in every codec's framing.
    let bound = body.len() + body.len() / 6 + 1024;
    let mut out = source.take(BATCH_HEADER_LEN + bound)?;
    out[..BATCH_HEADER_LEN].copy_from_slice(&plain[..BATCH_HEADER_LEN]);
    let left = {
        let mut sink: &mut [u8] = &mut out[BATCH_HEADER_LEN..];
        compress_into(codec, body, &mut sink).map_err(LogError::Io)?;
        sink.len()
    };
    let total = BATCH_HEADER_LEN + bound - left;
    batch::seal_compressed(&mut out[..total], codec.attribute_bits());
    Ok((out, total))
}

/// Compresses `body` into `sink`, advancing it past what was written.
fn compress_into(codec: Compression, body: &[u8], sink: &mut &mut [u8]) -> std::io::Result<()> {
    use std::io::Write;
    match codec {
        Compression::None => sink.write_all(body),
        Compression::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(sink, flate2::Compression::fast());
            encoder.write_all(body)?;
            encoder.finish().map(drop)
        }
        Compression::Snappy => {
            let packed = snap::raw::Encoder::new()
                .compress(body, sink)
                .map_err(std::io::Error::other)?;
            let rest = std::mem::take(sink);
            *sink = &mut rest[packed..];
            Ok(())
        }
        Compression::Lz4 => {
            // Independent blocks: Kafka's Java reader rejects linked ones.
            let info = lz4_flex::frame::FrameInfo::new()
                .block_mode(lz4_flex::frame::BlockMode::Independent);
            let mut encoder = lz4_flex::frame::FrameEncoder::with_frame_info(info, sink);
            encoder.write_all(body)?;
            encoder.finish().map(drop).map_err(std::io::Error::other)
        }
        Compression::Zstd => {
            let mut encoder = zstd::stream::write::Encoder::new(sink, 3)?;
            encoder.write_all(body)?;
            encoder.finish().map(drop)
        }
    }
}

/// Reads `reader` to its end into a buffer from `source`, starting at
/// `hint` bytes and doubling (with one copy) when full.
fn read_all<S: BufferSource>(
    mut reader: impl Read,
    hint: usize,
    source: S,
    fail: impl Fn(String) -> LogError,
) -> Result<(S::Buf, usize), LogError> {
    let mut buf = source.take(hint.clamp(4096, MAX_DECOMPRESSED_BYTES))?;
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            if filled >= MAX_DECOMPRESSED_BYTES {
                return Err(fail(format!(
                    "more than {MAX_DECOMPRESSED_BYTES} decompressed bytes"
                )));
            }
            let mut bigger = source.take((filled * 2).min(MAX_DECOMPRESSED_BYTES))?;
            bigger[..filled].copy_from_slice(&buf[..filled]);
            buf = bigger;
        }
        match reader.read(&mut buf[filled..]) {
            Ok(0) => return Ok((buf, filled)),
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(fail(e.to_string())),
        }
    }
}

/// Raw snappy (librdkafka, Python clients), or xerial blocks (Java clients):
/// the sizes are known up front, so one exact buffer.
fn snappy<S: BufferSource>(
    input: &[u8],
    source: S,
    fail: impl Fn(String) -> LogError,
) -> Result<(S::Buf, usize), LogError> {
    let blocks = if input.starts_with(XERIAL_MAGIC) && input.len() >= XERIAL_HEADER_LEN {
        xerial_blocks(&input[XERIAL_HEADER_LEN..]).map_err(&fail)?
    } else {
        vec![input]
    };
    let mut total = 0usize;
    for block in &blocks {
        let claimed = snap::raw::decompress_len(block).map_err(|e| fail(e.to_string()))?;
        if claimed > block.len().saturating_mul(SNAPPY_MAX_EXPANSION) {
            return Err(fail(format!(
                "a {}-byte snappy block cannot hold {claimed} bytes",
                block.len()
            )));
        }
        total = total.saturating_add(claimed);
    }
    if total > MAX_DECOMPRESSED_BYTES {
        return Err(fail(format!("{total} decompressed bytes is too many")));
    }
    let mut buf = source.take(total)?;
    let mut decoder = snap::raw::Decoder::new();
    let mut at = 0;
    for block in blocks {
        at += decoder
            .decompress(block, &mut buf[at..])
            .map_err(|e| fail(e.to_string()))?;
    }
    Ok((buf, at))
}

/// Splits xerial's `[u32 BE length][raw snappy block]...` body.
fn xerial_blocks(mut body: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut blocks = Vec::new();
    while !body.is_empty() {
        let Some((len, rest)) = body.split_first_chunk::<4>() else {
            return Err("truncated xerial block length".into());
        };
        let len = u32::from_be_bytes(*len) as usize;
        if len > rest.len() {
            return Err(format!(
                "xerial block of {len} bytes with {} left",
                rest.len()
            ));
        }
        blocks.push(&rest[..len]);
        body = &rest[len..];
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Header, Log, LogConfig, VecBuffers};

    #[test]
    fn snappy_at_its_best_ratio_decodes_and_a_length_beyond_it_is_refused() {
        // A megabyte of zeros: snappy's best case, close to the bound.
        let zeros = vec![0u8; 1 << 20];
        let block = snap::raw::Encoder::new().compress_vec(&zeros).unwrap();
        assert!(block.len() * (SNAPPY_MAX_EXPANSION - 1) < zeros.len());
        let fail = |reason| {
            LogError::corrupt(
                0,
                DecodeError::Decompress {
                    codec: "snappy",
                    reason,
                },
            )
        };
        let (buf, len) = snappy(&block, VecBuffers, fail).unwrap();
        assert_eq!(&buf[..len], &zeros[..]);
        // A varint that claims 200 MiB, and three bytes of nothing.
        let mut hostile = Vec::new();
        let mut claim = 200u32 << 20;
        while claim >= 0x80 {
            hostile.push(claim as u8 | 0x80);
            claim >>= 7;
        }
        hostile.extend_from_slice(&[claim as u8, 0, 0, 0]);
        let error = snappy(&hostile, VecBuffers, fail).unwrap_err();
        assert!(error.to_string().contains("cannot hold"), "{error}");
    }

    #[test]
    fn append_compresses_with_each_codec_and_reads_back_after_reopen() {
        let incompressible = mempool_test_support::noise(20_000);
        let headers = [Header::new("h", Some(b"1")), Header::new("n", None)];
        let records = [
            Record::new(5, Some(b"k"), Some(&[b'a'; 3000])).with_headers(&headers),
            Record::new(9, None, None),
            Record::new(7, Some(b""), Some(&incompressible)),
        ];
        for codec in [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let dir = tempfile::tempdir().unwrap();
            let config = LogConfig::default().with_compression(codec);
            {
                let mut log = Log::open(dir.path(), config).unwrap();
                assert_eq!(log.append_batch(&records).unwrap(), 0);
                assert_eq!(log.append_batch(&records).unwrap(), 3);
            }
            let log = Log::open(dir.path(), config).unwrap();
            assert_eq!(log.next_offset(), 6, "{codec:?}");
            assert_eq!(
                log.find_offset_by_timestamp(8).unwrap(),
                Some(1),
                "{codec:?}"
            );
            let fetch = log.read_range(0, 1 << 20).unwrap();
            let mut offset = 0;
            for batch in fetch.batches() {
                let batch = batch.unwrap();
                assert_eq!(batch.compression().unwrap(), codec);
                let decoded = batch.decompress(mempool::global()).unwrap();
                for (got, want) in decoded.records().zip(&records) {
                    let got = got.unwrap();
                    assert_eq!((got.offset, got.timestamp), (offset, want.timestamp));
                    assert_eq!((got.key, got.value), (want.key, want.value), "{codec:?}");
                    assert_eq!(got.headers.len(), want.headers.len());
                    offset += 1;
                }
            }
            assert_eq!(offset, 6);
        }
    }
}
