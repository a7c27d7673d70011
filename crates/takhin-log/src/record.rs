//! [`Record`] and [`Header`]: what a producer hands to `append`.

/// One record to append: a timestamp, an optional key, an optional value and
/// headers, all borrowed from the caller.
///
/// The offset is assigned by the log. A `None` key or value is written as
/// Kafka's null (length -1), which is not the same as an empty slice.
///
/// # Examples
///
/// ```
/// use takhin_log::{Header, Record};
///
/// let headers = [Header::new("trace", Some(b"abc"))];
/// let record = Record::new(1_700_000_000_000, Some(b"user-1"), Some(b"hello")).with_headers(&headers);
/// assert_eq!(record.key, Some(&b"user-1"[..]));
/// assert_eq!(record.headers.len(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Create time in milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// The key, or `None` for a null key.
    pub key: Option<&'a [u8]>,
    /// The value, or `None` for a null value (a tombstone).
    pub value: Option<&'a [u8]>,
    /// Record headers, in order.
    pub headers: &'a [Header<'a>],
}

impl<'a> Record<'a> {
    /// A record without headers.
    ///
    /// # Examples
    ///
    /// ```
    /// let record = takhin_log::Record::new(5, None, Some(b"v"));
    /// assert!(record.key.is_none() && record.headers.is_empty());
    /// ```
    pub fn new(timestamp: i64, key: Option<&'a [u8]>, value: Option<&'a [u8]>) -> Self {
        Record {
            timestamp,
            key,
            value,
            headers: &[],
        }
    }

    /// Replaces the headers.
    ///
    /// # Examples
    ///
    /// ```
    /// use takhin_log::{Header, Record};
    ///
    /// let headers = [Header::new("k", None)];
    /// assert_eq!(Record::new(0, None, None).with_headers(&headers).headers.len(), 1);
    /// ```
    #[must_use]
    pub fn with_headers(mut self, headers: &'a [Header<'a>]) -> Self {
        self.headers = headers;
        self
    }
}

/// One record header: a UTF-8 key and an optional value.
///
/// # Examples
///
/// ```
/// let header = takhin_log::Header::new("content-type", Some(b"json"));
/// assert_eq!(header.key, "content-type");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// The header key.
    pub key: &'a str,
    /// The header value, or `None` for null.
    pub value: Option<&'a [u8]>,
}

impl<'a> Header<'a> {
    /// A header from its key and value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(takhin_log::Header::new("k", None).value.is_none());
    /// ```
    pub fn new(key: &'a str, value: Option<&'a [u8]>) -> Self {
        Header { key, value }
    }
}
