//! Encoding a response frame with `kafka-protocol`, keeping record sets out
//! of the copy: [`ResponseWriter`] is the `BufMut` the generated encoders
//! write into, and when one of them puts a slice that is a registered
//! `Bytes` (a fetch's record batches, still in the pooled buffer the log read
//! them into), it keeps a reference to those bytes instead of copying them.

use std::ops::Range;

use bytes::buf::UninitSlice;
use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::ResponseHeader;
use kafka_protocol::protocol::Encodable;
use kafka_protocol::protocol::buf::ByteBufMut;

/// A response frame being encoded: a head of copied bytes and a list of
/// chunks, some of which are borrowed record sets.
#[derive(Debug, Default)]
pub(crate) struct ResponseWriter {
    /// Bytes written since the last chunk; reused across responses.
    head: BytesMut,
    /// The frame so far, in order (size prefix first).
    chunks: Vec<Bytes>,
    /// Record sets to pass through without a copy.
    borrowed: Vec<Bytes>,
    /// Bytes in `chunks`.
    chunked: usize,
}

impl ResponseWriter {
    /// Encodes `header` at `header_version` and `body` at `version` into a
    /// frame (with its size prefix) and returns its chunks. `borrowed` are
    /// the `Bytes` inside `body` to reference rather than copy.
    pub(crate) fn encode<T: Encodable>(
        &mut self,
        correlation_id: i32,
        header_version: i16,
        body: &T,
        version: i16,
        borrowed: Vec<Bytes>,
    ) -> Result<Vec<Bytes>, String> {
        self.chunks.clear();
        self.chunked = 0;
        let header = ResponseHeader::default().with_correlation_id(correlation_id);
        let size = header
            .compute_size(header_version)
            .and_then(|h| Ok(h + body.compute_size(version)?))
            .map_err(|e| e.to_string())?;
        let size = i32::try_from(size).map_err(|_| format!("a response of {size} bytes"))?;
        self.borrowed = borrowed;
        self.head.put_i32(size);
        let encoded = header
            .encode(self, header_version)
            .and_then(|()| body.encode(self, version));
        self.borrowed.clear();
        if let Err(error) = encoded {
            self.head.clear();
            self.chunks.clear();
            return Err(error.to_string());
        }
        self.cut();
        debug_assert_eq!(
            self.chunked,
            size as usize + 4,
            "compute_size and encode disagree"
        );
        Ok(std::mem::take(&mut self.chunks))
    }

    /// Moves the head into the chunk list.
    fn cut(&mut self) {
        if !self.head.is_empty() {
            let head = self.head.split().freeze();
            self.chunked += head.len();
            self.chunks.push(head);
        }
    }

    /// The registered `Bytes` that `slice` is exactly, if any.
    fn borrowed(&self, slice: &[u8]) -> Option<Bytes> {
        self.borrowed
            .iter()
            .find(|b| b.as_ptr() == slice.as_ptr() && b.len() == slice.len() && !b.is_empty())
            .cloned()
    }
}

// SAFETY: every method forwards to the `BytesMut` head, which upholds
// `BufMut`'s contract; `put_slice` either forwards too or records a chunk
// without touching the head's uninitialised memory.
unsafe impl BufMut for ResponseWriter {
    fn remaining_mut(&self) -> usize {
        self.head.remaining_mut()
    }

    unsafe fn advance_mut(&mut self, cnt: usize) {
        // SAFETY: the caller guarantees `cnt` bytes of the head's chunk were
        // initialised, as `BytesMut::advance_mut` requires.
        unsafe { self.head.advance_mut(cnt) }
    }

    fn chunk_mut(&mut self) -> &mut UninitSlice {
        self.head.chunk_mut()
    }

    fn put_slice(&mut self, src: &[u8]) {
        match self.borrowed(src) {
            Some(bytes) => {
                self.cut();
                self.chunked += bytes.len();
                self.chunks.push(bytes);
            }
            None => self.head.put_slice(src),
        }
    }
}

impl ByteBufMut for ResponseWriter {
    fn offset(&self) -> usize {
        self.chunked + self.head.len()
    }

    /// Gaps (used by record encoders, never by message encoders) must lie
    /// in the head.
    fn seek(&mut self, offset: usize) {
        self.head.resize(offset - self.chunked, 0);
    }

    fn range(&mut self, r: Range<usize>) -> &mut [u8] {
        &mut self.head[r.start - self.chunked..r.end - self.chunked]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::TopicName;
    use kafka_protocol::messages::fetch_response::{
        FetchResponse, FetchableTopicResponse, PartitionData,
    };
    use kafka_protocol::protocol::StrBytes;

    #[test]
    fn record_sets_are_referenced_and_the_frame_matches_a_plain_encoding() {
        let records = Bytes::from(vec![7u8; 10_000]);
        let partition = PartitionData::default().with_records(Some(records.clone()));
        let topic = FetchableTopicResponse::default()
            .with_topic(TopicName(StrBytes::from_static_str("t")))
            .with_partitions(vec![partition]);
        let response = FetchResponse::default().with_responses(vec![topic]);
        let mut writer = ResponseWriter::default();
        let chunks = writer
            .encode(42, 0, &response, 11, vec![records.clone()])
            .unwrap();
        assert!(
            chunks.iter().any(|c| c.as_ptr() == records.as_ptr()),
            "not borrowed"
        );
        let frame: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();

        let mut plain = BytesMut::new();
        ResponseHeader::default()
            .with_correlation_id(42)
            .encode(&mut plain, 0)
            .unwrap();
        response.encode(&mut plain, 11).unwrap();
        assert_eq!(&frame[4..], &plain[..]);
        assert_eq!(frame[..4], (plain.len() as i32).to_be_bytes());
    }
}
