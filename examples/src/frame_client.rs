//! A client for the frame server: one request, one reply, in order.

use std::io::{self, Write};
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::frame::{REQUEST_HEADER_LEN, Status};

/// The longest reply body the client accepts, against a server gone wrong.
pub const MAX_REPLY_LEN: usize = 64 << 20;

/// A decoded reply frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Ok or error.
    pub status: Status,
    /// The sink's answer, or the error message.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as text, for error messages.
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A connection to a frame server.
#[derive(Debug)]
pub struct FrameClient {
    stream: TcpStream,
}

impl FrameClient {
    /// Connects to `addr`.
    ///
    /// # Errors
    ///
    /// The error of connecting.
    pub async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self { stream })
    }

    /// Sends `payload` as one frame and waits for its reply.
    ///
    /// # Errors
    ///
    /// An I/O error, or `InvalidData` for a reply that breaks the format.
    pub async fn request(&mut self, payload: &[u8]) -> io::Result<Reply> {
        let len = u32::try_from(payload.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "payload above 4 GiB"))?;
        // Header and payload leave in one write, from a pooled buffer.
        let mut frame = mempool::try_get_empty_buffer(REQUEST_HEADER_LEN + payload.len())?;
        frame.write_all(&len.to_be_bytes())?;
        frame.write_all(payload)?;
        self.stream.write_all(&frame).await?;
        self.read_reply().await
    }

    /// Sends raw bytes, for tests of malformed input.
    ///
    /// # Errors
    ///
    /// The error of writing.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Reads one reply.
    ///
    /// # Errors
    ///
    /// An I/O error (`UnexpectedEof` if the server closed), or `InvalidData`.
    pub async fn read_reply(&mut self) -> io::Result<Reply> {
        let len = self.stream.read_u32().await? as usize;
        if len == 0 || len > MAX_REPLY_LEN {
            return Err(invalid(format!("reply length {len}")));
        }
        let status = self.stream.read_u8().await?;
        let status =
            Status::from_byte(status).ok_or_else(|| invalid(format!("status {status}")))?;
        let mut body = vec![0; len - 1];
        self.stream.read_exact(&mut body).await?;
        Ok(Reply { status, body })
    }

    /// Waits for the server to close the connection; `Ok(())` if it did so
    /// without sending anything more.
    ///
    /// # Errors
    ///
    /// `InvalidData` if bytes arrived, or the read error.
    pub async fn expect_closed(&mut self) -> io::Result<()> {
        let mut byte = [0u8; 1];
        match self.stream.read(&mut byte).await {
            Ok(0) => Ok(()),
            Ok(_) => Err(invalid("data after the end".to_owned())),
            Err(error) if error.kind() == io::ErrorKind::ConnectionReset => Ok(()),
            Err(error) => Err(error),
        }
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
