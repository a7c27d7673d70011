//! [`Fetch`]: whole batches read into one buffer, and iterators that decode
//! them in place.

use std::fmt;
use std::ops::Deref;

use mempool::PooledBuf;

use crate::batch::{BatchRecords, BatchRef};
use crate::{DecodeError, RecordRef};

/// The result of a read: whole v2 batches in one buffer taken from the
/// segment's [`BufferSource`](crate::BufferSource), starting with the batch
/// that holds the requested offset.
///
/// [`Fetch::records`] yields [`RecordRef`]s that borrow the buffer, from the
/// requested offset on; nothing is copied and nothing is allocated. Dropping
/// the fetch gives the buffer back to the pool. [`Fetch::bytes`] is what a
/// broker would send to a consumer as is.
///
/// # Examples
///
/// ```
/// use takhin_log::{LogConfig, Record, Segment};
///
/// let dir = tempfile::tempdir()?;
/// let mut segment = Segment::create(dir.path(), 0, LogConfig::default())?;
/// segment.append_batch(&[Record::new(1, None, Some(b"a")), Record::new(2, None, Some(b"b"))])?;
/// let fetch = segment.read_range(1, 4096)?;
/// let values: Vec<_> = fetch.records().map(|r| r.map(|r| r.value)).collect::<Result<_, _>>()?;
/// assert_eq!(values, [Some(&b"b"[..])]); // offset 0 is skipped
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Fetch<Buf = PooledBuf<'static>> {
    buf: Option<Buf>,
    len: usize,
    start_offset: u64,
}

impl<Buf: Deref<Target = [u8]>> Fetch<Buf> {
    pub(crate) fn new(buf: Buf, len: usize, start_offset: u64) -> Self {
        debug_assert!(len <= buf.len());
        Fetch {
            buf: Some(buf),
            len,
            start_offset,
        }
    }

    pub(crate) fn empty(start_offset: u64) -> Self {
        Fetch {
            buf: None,
            len: 0,
            start_offset,
        }
    }

    /// The raw batches, ready to send.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mut segment = takhin_log::Segment::create(dir.path(), 0, Default::default())?;
    /// segment.append(&takhin_log::Record::new(0, None, Some(b"v")))?;
    /// let fetch = segment.read_range(0, 1 << 20)?;
    /// assert_eq!(fetch.bytes().len(), segment.size() as usize);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bytes(&self) -> &[u8] {
        self.buf.as_deref().map_or(&[], |b| &b[..self.len])
    }

    /// Whether the fetch holds no batch (the offset was the log end).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let segment = takhin_log::Segment::create(dir.path(), 0, Default::default())?;
    /// assert!(segment.read_range(0, 1 << 20)?.is_empty()); // 0 is the end offset
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The offset that was asked for; records before it are skipped.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mut segment = takhin_log::Segment::create(dir.path(), 0, Default::default())?;
    /// segment.append_batch(&[takhin_log::Record::new(0, None, None), takhin_log::Record::new(0, None, None)])?;
    /// assert_eq!(segment.read_range(1, 1 << 20)?.start_offset(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start_offset(&self) -> u64 {
        self.start_offset
    }

    /// Iterates over the batches, checking each one's header and CRC-32C.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let mut segment = takhin_log::Segment::create(dir.path(), 0, Default::default())?;
    /// segment.append(&takhin_log::Record::new(0, None, None))?;
    /// segment.append(&takhin_log::Record::new(0, None, None))?;
    /// assert_eq!(segment.read_range(0, 1 << 20)?.batches().count(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn batches(&self) -> Batches<'_> {
        Batches { rest: self.bytes() }
    }

    /// Iterates over the records from [`Fetch::start_offset`] on, decoding
    /// in place. Yields an error, then stops, at the first batch or record
    /// that fails to decode.
    ///
    /// # Examples
    ///
    /// See [`Fetch`].
    pub fn records(&self) -> Records<'_> {
        Records {
            batches: self.batches(),
            current: None,
            start_offset: self.start_offset,
        }
    }
}

impl<Buf> fmt::Debug for Fetch<Buf> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fetch")
            .field("len", &self.len)
            .field("start_offset", &self.start_offset)
            .finish_non_exhaustive()
    }
}

/// Iterator over the batches of a [`Fetch`].
#[derive(Debug, Clone)]
pub struct Batches<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Batches<'a> {
    type Item = Result<BatchRef<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match BatchRef::parse(self.rest) {
            Ok(batch) => {
                self.rest = &self.rest[batch.len()..];
                Some(Ok(batch))
            }
            Err(error) => {
                self.rest = &[];
                Some(Err(error))
            }
        }
    }
}

/// Iterator over the records of a [`Fetch`]; see [`Fetch::records`].
#[derive(Debug, Clone)]
pub struct Records<'a> {
    batches: Batches<'a>,
    current: Option<BatchRecords<'a>>,
    start_offset: u64,
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<RecordRef<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(records) = &mut self.current {
                match records.next() {
                    Some(Ok(record)) if record.offset < self.start_offset => continue,
                    Some(Err(error)) => {
                        self.batches.rest = &[];
                        self.current = None;
                        return Some(Err(error));
                    }
                    Some(ok) => return Some(ok),
                    None => self.current = None,
                }
            }
            match self.batches.next()? {
                Ok(batch) if batch.last_offset() < self.start_offset => {}
                Ok(batch) => self.current = Some(batch.records()),
                Err(error) => return Some(Err(error)),
            }
        }
    }
}
