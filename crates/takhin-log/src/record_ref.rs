//! [`RecordRef`] and [`HeaderRef`]: records decoded in place, borrowing the
//! read buffer, so that a fetch copies no key or value.

use crate::DecodeError;
use crate::varint::{get_varint, get_varlong};

/// A record decoded in place: every slice borrows the buffer the batch was
/// read into, so iterating a fetch allocates nothing.
///
/// # Examples
///
/// ```
/// use takhin_log::{LogConfig, Record, Segment};
///
/// let dir = tempfile::tempdir()?;
/// let mut segment = Segment::create(dir.path(), 0, LogConfig::default())?;
/// segment.append(&Record::new(42, Some(b"k"), Some(b"v")))?;
/// let fetch = segment.read(0)?.expect("offset 0 is present");
/// let record = fetch.records().next().expect("one record")?;
/// assert_eq!((record.offset, record.timestamp), (0, 42));
/// assert_eq!((record.key, record.value), (Some(&b"k"[..]), Some(&b"v"[..])));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// The record's offset in the log.
    pub offset: u64,
    /// The record's timestamp (batch base timestamp plus its delta).
    pub timestamp: i64,
    /// The key, `None` when null.
    pub key: Option<&'a [u8]>,
    /// The value, `None` when null.
    pub value: Option<&'a [u8]>,
    /// The record's headers, decoded lazily.
    pub headers: Headers<'a>,
}

/// The headers of a [`RecordRef`], already validated; iterating decodes them
/// in place.
///
/// # Examples
///
/// ```
/// use takhin_log::{Header, LogConfig, Record, Segment};
///
/// let dir = tempfile::tempdir()?;
/// let mut segment = Segment::create(dir.path(), 0, LogConfig::default())?;
/// let headers = [Header::new("h", Some(b"1")), Header::new("n", None)];
/// segment.append(&Record::new(0, None, Some(b"v")).with_headers(&headers))?;
/// let fetch = segment.read(0)?.unwrap();
/// let record = fetch.records().next().unwrap()?;
/// let decoded: Vec<_> = record.headers.iter().map(|h| (h.key, h.value)).collect();
/// assert_eq!(decoded, [(&b"h"[..], Some(&b"1"[..])), (&b"n"[..], None)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Headers<'a> {
    bytes: &'a [u8],
    count: u32,
}

/// One header of a [`RecordRef`], borrowing the read buffer.
///
/// The key is raw bytes: Kafka writes UTF-8, but decoding does not check it.
/// Use [`HeaderRef::key_str`] to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderRef<'a> {
    /// The header key bytes.
    pub key: &'a [u8],
    /// The header value, `None` when null.
    pub value: Option<&'a [u8]>,
}

impl<'a> HeaderRef<'a> {
    /// The key as `&str`.
    ///
    /// # Errors
    ///
    /// Returns the UTF-8 error when the key is not valid UTF-8.
    ///
    /// # Examples
    ///
    /// ```
    /// let header = takhin_log::HeaderRef { key: b"trace", value: None };
    /// assert_eq!(header.key_str(), Ok("trace"));
    /// ```
    pub fn key_str(&self) -> Result<&'a str, std::str::Utf8Error> {
        std::str::from_utf8(self.key)
    }
}

impl<'a> Headers<'a> {
    /// The number of headers.
    ///
    /// # Examples
    ///
    /// ```
    /// # use takhin_log::{LogConfig, Record, Segment};
    /// # let dir = tempfile::tempdir()?;
    /// # let mut segment = Segment::create(dir.path(), 0, LogConfig::default())?;
    /// segment.append(&Record::new(0, None, None))?;
    /// let fetch = segment.read(0)?.unwrap();
    /// assert_eq!(fetch.records().next().unwrap()?.headers.len(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether there are no headers.
    ///
    /// # Examples
    ///
    /// ```
    /// # use takhin_log::{LogConfig, Record, Segment};
    /// # let dir = tempfile::tempdir()?;
    /// # let mut segment = Segment::create(dir.path(), 0, LogConfig::default())?;
    /// segment.append(&Record::new(0, None, None))?;
    /// let fetch = segment.read(0)?.unwrap();
    /// assert!(fetch.records().next().unwrap()?.headers.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Iterates over the headers in order.
    ///
    /// # Examples
    ///
    /// See [`Headers`].
    pub fn iter(&self) -> HeadersIter<'a> {
        HeadersIter {
            rest: self.bytes,
            left: self.count,
        }
    }
}

impl<'a> IntoIterator for Headers<'a> {
    type Item = HeaderRef<'a>;
    type IntoIter = HeadersIter<'a>;

    fn into_iter(self) -> HeadersIter<'a> {
        self.iter()
    }
}

/// Iterator over the headers of a record; see [`Headers::iter`].
#[derive(Debug, Clone)]
pub struct HeadersIter<'a> {
    rest: &'a [u8],
    left: u32,
}

impl<'a> Iterator for HeadersIter<'a> {
    type Item = HeaderRef<'a>;

    fn next(&mut self) -> Option<HeaderRef<'a>> {
        if self.left == 0 {
            return None;
        }
        // The bytes were validated by `decode_record`, so an error cannot
        // happen here; stopping is the conservative answer if it ever did.
        let (header, used) = decode_header(self.rest).ok()?;
        self.rest = &self.rest[used..];
        self.left -= 1;
        Some(header)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

/// Reads a cursor of bytes, checking every length against what is left.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    pub(crate) fn varint(&mut self) -> Result<i32, DecodeError> {
        let (v, n) = get_varint(&self.bytes[self.pos..])?;
        self.pos += n;
        Ok(v)
    }

    pub(crate) fn varlong(&mut self) -> Result<i64, DecodeError> {
        let (v, n) = get_varlong(&self.bytes[self.pos..])?;
        self.pos += n;
        Ok(v)
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(DecodeError::Truncated {
                needed: n,
                available: self.remaining(),
            });
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    /// A length-prefixed byte string; -1 means null.
    pub(crate) fn nullable_bytes(
        &mut self,
        field: &'static str,
    ) -> Result<Option<&'a [u8]>, DecodeError> {
        let length = self.varint()?;
        if length == -1 {
            return Ok(None);
        }
        let available = self.remaining();
        match usize::try_from(length) {
            Ok(n) if n <= available => self.take(n).map(Some),
            _ => Err(DecodeError::Length {
                field,
                length: i64::from(length),
                available,
            }),
        }
    }
}

fn decode_header(bytes: &[u8]) -> Result<(HeaderRef<'_>, usize), DecodeError> {
    let mut cursor = Cursor::new(bytes);
    let key = cursor
        .nullable_bytes("header key")?
        .ok_or(DecodeError::Length {
            field: "header key",
            length: -1,
            available: cursor.remaining(),
        })?;
    let value = cursor.nullable_bytes("header value")?;
    Ok((HeaderRef { key, value }, cursor.pos()))
}

/// Decodes one length-prefixed record from the front of `bytes`, given the
/// batch's base offset and base timestamp. Returns the record, its offset
/// delta and the bytes consumed.
pub(crate) fn decode_record(
    bytes: &[u8],
    base_offset: u64,
    base_timestamp: i64,
) -> Result<(RecordRef<'_>, i32, usize), DecodeError> {
    let mut outer = Cursor::new(bytes);
    let length = outer.varint()?;
    let available = outer.remaining();
    let body_len = match usize::try_from(length) {
        Ok(n) if n <= available => n,
        _ => {
            return Err(DecodeError::Length {
                field: "record",
                length: i64::from(length),
                available,
            });
        }
    };
    let body = outer.take(body_len)?;
    let mut cursor = Cursor::new(body);
    let _attributes = cursor.take(1)?;
    let timestamp_delta = cursor.varlong()?;
    let offset_delta = cursor.varint()?;
    let key = cursor.nullable_bytes("key")?;
    let value = cursor.nullable_bytes("value")?;
    let header_count = cursor.varint()?;
    let header_bytes = &body[cursor.pos()..];
    // Each header takes at least two bytes, which bounds a hostile count.
    let count = match u32::try_from(header_count) {
        Ok(n) if n as usize <= header_bytes.len() / 2 => n,
        _ => {
            return Err(DecodeError::Length {
                field: "header count",
                length: i64::from(header_count),
                available: header_bytes.len(),
            });
        }
    };
    let mut rest = header_bytes;
    for _ in 0..count {
        let (_, used) = decode_header(rest)?;
        rest = &rest[used..];
    }
    if !rest.is_empty() {
        return Err(DecodeError::Length {
            field: "record trailing bytes",
            length: rest.len() as i64,
            available: 0,
        });
    }
    if offset_delta < 0 {
        return Err(DecodeError::Field {
            field: "offset delta",
            value: i64::from(offset_delta),
        });
    }
    let record = RecordRef {
        offset: base_offset.wrapping_add(offset_delta as u64),
        timestamp: base_timestamp.wrapping_add(timestamp_delta),
        key,
        value,
        headers: Headers {
            bytes: header_bytes,
            count,
        },
    };
    Ok((record, offset_delta, outer.pos()))
}
