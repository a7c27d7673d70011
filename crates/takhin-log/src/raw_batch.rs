//! Appending a batch that a producer encoded: checked, given its offsets by
//! rewriting the base offset where it lands in the file, never re-encoded
//! and never decompressed.

use crate::segment::BaseOffset;
use crate::{BatchRef, BufferSource, DecodeError, Log, LogError};

impl<B: BufferSource> Log<B> {
    /// Appends `batch`, one v2 record batch exactly as a client sent it
    /// (compressed or not), and returns the offset its first record gets.
    ///
    /// The batch is checked first: length, magic 2, CRC-32C, sane header
    /// fields, a record count that matches the last offset delta, and, when
    /// uncompressed, every record. Compressed records are not decompressed
    /// (as Kafka, the CRC covers them). The base offset is outside the CRC,
    /// so it is assigned by writing the batch after that field and then the
    /// new base offset in front of it: no copy of the batch, and a crash
    /// between the two writes leaves a batch that recovery cuts. Rolling,
    /// the limits and a failed write are as for [`Log::append_batch`]: a
    /// batch that fails to append leaves nothing behind.
    ///
    /// # Errors
    ///
    /// [`LogError::InvalidBatch`] when a check fails; otherwise as
    /// [`Log::append_batch`] ([`LogError::TooLarge`] above
    /// [`LogConfig::max_batch_bytes`](crate::LogConfig::max_batch_bytes),
    /// [`LogError::OffsetOverflow`] past [`MAX_OFFSET`](crate::MAX_OFFSET)).
    ///
    /// # Examples
    ///
    /// ```
    /// use takhin_log::{Log, LogConfig, Record};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let mut source = Log::open(&dir.path().join("a"), LogConfig::default())?;
    /// source.append_batch(&[Record::new(1, None, Some(b"x")), Record::new(2, None, Some(b"y"))])?;
    /// let encoded = source.read(0)?.unwrap().bytes().to_vec(); // base offset 0
    ///
    /// let mut log = Log::open(&dir.path().join("b"), LogConfig::default())?;
    /// assert_eq!(log.append_raw(&encoded)?, 0);
    /// assert_eq!(log.append_raw(&encoded)?, 2);
    /// let fetch = log.read(2)?.unwrap();
    /// assert_eq!(fetch.records().next().unwrap()?.offset, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn append_raw(&mut self, batch: &[u8]) -> Result<u64, LogError> {
        let count = check(batch).map_err(LogError::InvalidBatch)?;
        self.active_for(batch.len())?
            .append_encoded(batch, count, BaseOffset::Rewritten)
    }
}

/// Checks a client's batch; returns how many offsets it takes.
fn check(bytes: &[u8]) -> Result<u64, DecodeError> {
    let batch = BatchRef::parse(bytes)?;
    if batch.len() != bytes.len() {
        return Err(DecodeError::Inconsistent {
            index: 0,
            what: "bytes after the batch",
            expected: batch.len() as i64,
            found: bytes.len() as i64,
        });
    }
    let count = batch.record_count();
    let offsets = batch.last_offset() - batch.base_offset() + 1;
    if count == 0 || u64::from(count) != offsets {
        return Err(DecodeError::Inconsistent {
            index: 0,
            what: "records count against the last offset delta",
            expected: offsets as i64,
            found: count.into(),
        });
    }
    batch.compression()?;
    batch.validate_records()?;
    Ok(offsets)
}

#[cfg(test)]
mod tests {
    use crate::batch::seal_compressed;
    use crate::{BATCH_HEADER_LEN, Compression, Log, LogConfig, LogError, Record, VecBuffers};

    fn encoded(records: &[Record<'_>]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::open_with(dir.path(), LogConfig::default(), VecBuffers).unwrap();
        log.append_batch(records).unwrap();
        log.read(0).unwrap().unwrap().bytes().to_vec()
    }

    /// Re-frames `records` (an uncompressed batch) with `codec`.
    fn compress(batch: &[u8], codec: Compression) -> Vec<u8> {
        use std::io::Write;
        let body = &batch[BATCH_HEADER_LEN..];
        let packed = match codec {
            Compression::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), Default::default());
                e.write_all(body).unwrap();
                e.finish().unwrap()
            }
            Compression::Snappy => snap::raw::Encoder::new().compress_vec(body).unwrap(),
            Compression::Lz4 => {
                let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
                e.write_all(body).unwrap();
                e.finish().unwrap()
            }
            Compression::Zstd => zstd::encode_all(body, 3).unwrap(),
            _ => body.to_vec(),
        };
        let mut out = batch[..BATCH_HEADER_LEN].to_vec();
        out.extend_from_slice(&packed);
        seal_compressed(&mut out, codec.attribute_bits());
        out
    }

    fn xerial(body: &[u8]) -> Vec<u8> {
        let mut out = b"\x82SNAPPY\0".to_vec();
        out.extend_from_slice(&1i32.to_be_bytes());
        out.extend_from_slice(&1i32.to_be_bytes());
        for chunk in body.chunks(100) {
            let block = snap::raw::Encoder::new().compress_vec(chunk).unwrap();
            out.extend_from_slice(&(block.len() as u32).to_be_bytes());
            out.extend_from_slice(&block);
        }
        out
    }

    #[test]
    fn every_codec_appends_raw_survives_reopen_and_decodes() {
        let dir = tempfile::tempdir().unwrap();
        let value = vec![7u8; 5000];
        let records: Vec<Record<'_>> = (0..20)
            .map(|i| Record::new(1000 + i, Some(b"key"), Some(&value[..100 * i as usize])))
            .collect();
        let plain = encoded(&records);
        let codecs = [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ];
        let mut batches: Vec<Vec<u8>> = codecs.iter().map(|&c| compress(&plain, c)).collect();
        let mut java = plain[..BATCH_HEADER_LEN].to_vec();
        java.extend_from_slice(&xerial(&plain[BATCH_HEADER_LEN..]));
        seal_compressed(&mut java, Compression::Snappy.attribute_bits());
        batches.push(java);
        {
            let mut log = Log::open(dir.path(), LogConfig::default()).unwrap();
            for (i, batch) in batches.iter().enumerate() {
                assert_eq!(log.append_raw(batch).unwrap(), 20 * i as u64);
            }
        }
        let log = Log::open(dir.path(), LogConfig::default()).unwrap();
        assert_eq!(log.next_offset(), 20 * batches.len() as u64);
        let fetch = log.read_range(0, 1 << 24).unwrap();
        let mut next = 0;
        for batch in fetch.batches() {
            let batch = batch.unwrap();
            let decoded = batch.decompress(mempool::global()).unwrap();
            for (record, want) in decoded.records().zip(&records) {
                let record = record.unwrap();
                assert_eq!(record.offset, next);
                assert_eq!((record.key, record.value), (want.key, want.value));
                next += 1;
            }
        }
        assert_eq!(next, log.next_offset());
    }

    #[test]
    fn rejects_bad_crc_count_and_trailing_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::open(dir.path(), LogConfig::default()).unwrap();
        let good = encoded(&[Record::new(0, None, Some(b"v"))]);
        let mut bad_crc = good.clone();
        *bad_crc.last_mut().unwrap() ^= 1;
        let mut trailing = good.clone();
        trailing.push(0);
        let mut bad_count = good.clone();
        bad_count[57..61].copy_from_slice(&2i32.to_be_bytes());
        let crc = crc32c::crc32c(&bad_count[21..]);
        bad_count[17..21].copy_from_slice(&crc.to_be_bytes());
        for bad in [bad_crc, trailing, bad_count, good[..30].to_vec()] {
            assert!(matches!(
                log.append_raw(&bad),
                Err(LogError::InvalidBatch(_))
            ));
        }
        assert_eq!(log.next_offset(), 0);
        assert_eq!(log.append_raw(&good).unwrap(), 0);
    }

    #[test]
    fn garbage_compressed_bytes_fail_to_decompress_cleanly() {
        let plain = encoded(&[Record::new(0, None, Some(b"v"))]);
        for codec in [
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let mut batch = plain.clone();
            seal_compressed(&mut batch, codec.attribute_bits());
            let parsed = crate::BatchRef::parse(&batch).unwrap();
            assert!(parsed.decompress(crate::VecBuffers).is_err(), "{codec:?}");
        }
    }
}
