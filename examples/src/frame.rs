//! The wire format of the frame server: length-prefixed frames.
//!
//! ```text
//! request:  ┌ u32 BE: n ┬ payload: n bytes ┐        n >= 1
//! reply:    ┌ u32 BE: 1+m ┬ status: u8 ┬ body: m bytes ┐
//!           status 0 = ok (body from the sink), 1 = error (UTF-8 message)
//! ```

/// Bytes before a request payload: its length, `u32` big-endian.
pub const REQUEST_HEADER_LEN: usize = 4;

/// Bytes before a reply body: the length of status plus body (`u32`
/// big-endian), then the status byte.
pub const REPLY_HEADER_LEN: usize = 5;

/// Whether a reply carries the sink's answer or an error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    /// The frame was handled; the body is the sink's reply.
    Ok = 0,
    /// The frame was refused; the body is a UTF-8 message saying why.
    Error = 1,
}

impl Status {
    /// The status encoded by `byte`, or `None` for an unknown value.
    ///
    /// # Examples
    ///
    /// ```
    /// use mempool_examples::frame::Status;
    ///
    /// assert_eq!(Status::from_byte(1), Some(Status::Error));
    /// assert_eq!(Status::from_byte(7), None);
    /// ```
    #[must_use]
    pub fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0 => Some(Self::Ok),
            1 => Some(Self::Error),
            _ => None,
        }
    }
}

/// The reply header for a body of `body_len` bytes.
///
/// # Panics
///
/// Panics if `1 + body_len` does not fit in a `u32`.
///
/// # Examples
///
/// ```
/// use mempool_examples::frame::{reply_header, Status};
///
/// assert_eq!(reply_header(Status::Error, 3), [0, 0, 0, 4, 1]);
/// ```
#[must_use]
pub fn reply_header(status: Status, body_len: usize) -> [u8; REPLY_HEADER_LEN] {
    let len = u32::try_from(1 + body_len).expect("a reply body fits in a u32 length");
    let [a, b, c, d] = len.to_be_bytes();
    [a, b, c, d, status as u8]
}
