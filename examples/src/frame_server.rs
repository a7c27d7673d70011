//! A tokio server that reads length-prefixed frames into pooled buffers and
//! hands each one to a [`FrameSink`].
//!
//! This is Takhin's Go handler, `buf := GetBuffer(n); defer PutBuffer(buf)`,
//! in Rust: the frame and the reply are [`PooledBuf`] guards that go back to
//! the pool when they drop at the end of each loop turn (or inside the sink,
//! for a sink that keeps the frame), on every path out, errors and panics
//! included.
//!
//! # Bad frames
//!
//! A frame that cannot be handled gets an error reply and the connection
//! goes on, in step with the client:
//!
//! * an empty frame (length 0): error reply;
//! * a frame longer than [`ServerConfig::max_frame_len`]: the server reads and
//!   throws away exactly the declared number of bytes, through one 64 KiB
//!   pooled scratch buffer, then sends the error reply. Discarding rather than
//!   closing keeps the byte stream aligned on frame boundaries, so the
//!   client's next request is read correctly, and memory stays bounded
//!   whatever the declared length;
//! * a declared length above [`ServerConfig::max_discard_len`] is almost
//!   certainly garbage (or an attack that would tie the connection up reading
//!   gigabytes), so the server sends the error reply and closes;
//! * a sink that returns an error: its message goes back in the error reply;
//! * a client silent for [`ServerConfig::idle_timeout`], between or inside
//!   frames: error reply, then close.

use std::future::Future;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mempool::{BufferPool, PooledBuf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::timeout;

use crate::frame::{REPLY_HEADER_LEN, REQUEST_HEADER_LEN, Status, reply_header};

/// The longest error message sent back; longer ones are cut at a character
/// boundary.
pub const MAX_ERROR_MESSAGE_LEN: usize = 256;

/// The size of the scratch buffer that oversized frames are discarded through.
const DISCARD_CHUNK: usize = 64 << 10;

/// What the server does with each well-formed frame: echo it, append it to
/// the storage log, ...
///
/// `frame` is the payload in a pooled buffer; the sink may keep it (for
/// example `frame.freeze()` with mempool's `bytes` feature, to append it to a
/// log without a copy) or let it drop. `reply` is an empty pooled buffer with
/// room for at least `max(frame.len(), 256)` bytes; the sink writes its answer
/// into it with [`io::Write`]. An `Err` is sent back as an error reply, and the
/// connection goes on.
///
/// Any `Fn(PooledBuf<'static>, &mut PooledBuf<'static>) -> io::Result<()>`
/// closure is a sink.
///
/// # Examples
///
/// Reply with the frame's length instead of echoing it:
///
/// ```
/// use std::io::Write;
/// use mempool_examples::frame_server::FrameSink;
///
/// fn assert_sink(_: &impl FrameSink) {}
/// let count_bytes = |frame: mempool::PooledBuf<'static>, reply: &mut mempool::PooledBuf<'static>| {
///     reply.write_all(&(frame.len() as u64).to_be_bytes())
/// };
/// assert_sink(&count_bytes);
/// ```
pub trait FrameSink: Send + Sync + 'static {
    /// Handles one frame and writes the reply body into `reply`.
    ///
    /// # Errors
    ///
    /// Any error becomes an error reply carrying its message.
    fn handle(&self, frame: PooledBuf<'static>, reply: &mut PooledBuf<'static>) -> io::Result<()>;
}

impl<F> FrameSink for F
where
    F: Fn(PooledBuf<'static>, &mut PooledBuf<'static>) -> io::Result<()> + Send + Sync + 'static,
{
    fn handle(&self, frame: PooledBuf<'static>, reply: &mut PooledBuf<'static>) -> io::Result<()> {
        self(frame, reply)
    }
}

/// The sink that answers each frame with its own payload.
#[derive(Debug, Default, Clone, Copy)]
pub struct Echo;

impl FrameSink for Echo {
    fn handle(&self, frame: PooledBuf<'static>, reply: &mut PooledBuf<'static>) -> io::Result<()> {
        reply.write_all(&frame)
    }
}

/// Limits of a [`FrameServer`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The longest payload handled; longer frames are discarded with an error
    /// reply. Defaults to 1 MiB.
    pub max_frame_len: usize,
    /// The longest payload discarded to keep a connection; a longer declared
    /// length gets an error reply and the connection is closed. Defaults to
    /// 64 MiB.
    pub max_discard_len: usize,
    /// How long a read may wait for the client before the connection is
    /// closed. Defaults to 30 seconds.
    pub idle_timeout: Duration,
    /// How long [`FrameServer::run_until`] waits, after its shutdown signal,
    /// for open connections to end before it aborts them. Defaults to 5
    /// seconds.
    pub shutdown_grace: Duration,
    /// The pool frames and replies come from. Defaults to the global pool.
    pub pool: &'static BufferPool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_frame_len: 1 << 20,
            max_discard_len: 64 << 20,
            idle_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(5),
            pool: mempool::global(),
        }
    }
}

impl ServerConfig {
    /// Sets [`max_frame_len`](Self::max_frame_len).
    #[must_use]
    pub fn max_frame_len(mut self, len: usize) -> Self {
        self.max_frame_len = len;
        self
    }

    /// Sets [`max_discard_len`](Self::max_discard_len).
    #[must_use]
    pub fn max_discard_len(mut self, len: usize) -> Self {
        self.max_discard_len = len;
        self
    }

    /// Sets [`idle_timeout`](Self::idle_timeout).
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets [`shutdown_grace`](Self::shutdown_grace).
    #[must_use]
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Sets [`pool`](Self::pool).
    #[must_use]
    pub fn pool(mut self, pool: &'static BufferPool) -> Self {
        self.pool = pool;
        self
    }
}

/// What a connection, or a whole server run, did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Connections accepted (1 for a single connection).
    pub connections: u64,
    /// Frames answered with an ok reply.
    pub frames: u64,
    /// Frames answered with an error reply.
    pub errors: u64,
    /// Connections that ended on an I/O error rather than a clean close.
    pub failed_connections: u64,
}

impl Summary {
    fn add(&mut self, other: Summary) {
        self.connections += other.connections;
        self.frames += other.frames;
        self.errors += other.errors;
        self.failed_connections += other.failed_connections;
    }
}

/// A listening frame server.
///
/// # Examples
///
/// ```no_run
/// use mempool_examples::frame_server::{Echo, FrameServer, ServerConfig};
///
/// # async fn run() -> std::io::Result<()> {
/// let server = FrameServer::bind("127.0.0.1:7070".parse().unwrap(), Echo, ServerConfig::default()).await?;
/// server.run_until(std::future::pending()).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct FrameServer<S> {
    listener: TcpListener,
    sink: Arc<S>,
    config: Arc<ServerConfig>,
}

impl<S: FrameSink> FrameServer<S> {
    /// Listens on `addr`; use `127.0.0.1:0` for a free loopback port.
    ///
    /// # Errors
    ///
    /// The error of binding the socket.
    pub async fn bind(addr: SocketAddr, sink: S, config: ServerConfig) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Self {
            listener,
            sink: Arc::new(sink),
            config: Arc::new(config),
        })
    }

    /// The address the server listens on.
    ///
    /// # Errors
    ///
    /// The error of querying the socket.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts connections, each on its own task, until `shutdown` completes;
    /// then stops accepting, waits up to [`ServerConfig::shutdown_grace`] for
    /// the open connections to end, aborts the rest (their buffers go back to
    /// the pool as their tasks drop) and returns what was done.
    ///
    /// # Errors
    ///
    /// An error of accepting a connection.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> io::Result<Summary> {
        let mut connections = JoinSet::new();
        let mut summary = Summary::default();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => {
                    let (stream, _) = accepted?;
                    let sink = Arc::clone(&self.sink);
                    let config = Arc::clone(&self.config);
                    connections.spawn(async move { serve_connection(stream, &*sink, &config).await });
                }
                Some(done) = connections.join_next() => summary.add(finished(done)),
            }
        }
        drop(self.listener);
        let grace = tokio::time::sleep(self.config.shutdown_grace);
        tokio::pin!(grace);
        loop {
            tokio::select! {
                () = &mut grace => break,
                done = connections.join_next() => match done {
                    Some(done) => summary.add(finished(done)),
                    None => break,
                },
            }
        }
        // Dropping the set aborts the connections still open.
        Ok(summary)
    }
}

fn finished(done: Result<io::Result<Summary>, tokio::task::JoinError>) -> Summary {
    match done {
        Ok(Ok(summary)) => summary,
        Ok(Err(_)) | Err(_) => Summary {
            connections: 1,
            failed_connections: 1,
            ..Summary::default()
        },
    }
}

/// Serves one connection until the client closes it, and returns what it did.
///
/// # Errors
///
/// An I/O error on the stream (a reset, a client gone mid-frame); the frames
/// answered before it are lost from the summary.
pub async fn serve_connection<S: FrameSink + ?Sized>(
    mut stream: TcpStream,
    sink: &S,
    config: &ServerConfig,
) -> io::Result<Summary> {
    stream.set_nodelay(true)?;
    let mut summary = Summary {
        connections: 1,
        ..Summary::default()
    };
    loop {
        let mut header = [0u8; REQUEST_HEADER_LEN];
        match timeout(config.idle_timeout, read_header(&mut stream, &mut header)).await {
            Err(_) => {
                send_error(&mut stream, config, "idle timeout, closing").await?;
                summary.errors += 1;
                return Ok(summary);
            }
            Ok(Ok(false)) => return Ok(summary),
            Ok(Ok(true)) => {}
            Ok(Err(error)) => return Err(error),
        }
        let len = u32::from_be_bytes(header) as usize;
        match handle_frame(&mut stream, sink, config, len).await? {
            Outcome::Answered => summary.frames += 1,
            Outcome::Refused => summary.errors += 1,
            Outcome::Closed => {
                summary.errors += 1;
                return Ok(summary);
            }
        }
    }
}

enum Outcome {
    Answered,
    Refused,
    Closed,
}

/// Reads, handles and answers one frame of `len` bytes.
async fn handle_frame<S: FrameSink + ?Sized>(
    stream: &mut TcpStream,
    sink: &S,
    config: &ServerConfig,
    len: usize,
) -> io::Result<Outcome> {
    if len == 0 {
        send_error(stream, config, "empty frame").await?;
        return Ok(Outcome::Refused);
    }
    if len > config.max_discard_len {
        let message = format!(
            "frame of {len} bytes is above the discard limit of {} bytes, closing",
            config.max_discard_len
        );
        send_error(stream, config, &message).await?;
        return Ok(Outcome::Closed);
    }
    if len > config.max_frame_len {
        if !discard(stream, config, len).await? {
            send_error(stream, config, "idle timeout inside a frame, closing").await?;
            return Ok(Outcome::Closed);
        }
        let message = format!(
            "frame of {len} bytes is above the maximum of {} bytes",
            config.max_frame_len
        );
        send_error(stream, config, &message).await?;
        return Ok(Outcome::Refused);
    }

    // `GetBuffer(len)`; the guard is the `defer PutBuffer`.
    let mut frame = config.pool.try_get(len)?;
    match timeout(config.idle_timeout, stream.read_exact(&mut frame)).await {
        Err(_) => {
            send_error(stream, config, "idle timeout inside a frame, closing").await?;
            return Ok(Outcome::Closed);
        }
        Ok(read) => read?,
    };
    let mut reply = config
        .pool
        .try_get_empty(REPLY_HEADER_LEN + len.max(MAX_ERROR_MESSAGE_LEN))?;
    reply.write_all(&[0; REPLY_HEADER_LEN])?; // patched below
    let outcome = match sink.handle(frame, &mut reply) {
        Ok(()) => {
            let body_len = reply.len() - REPLY_HEADER_LEN;
            reply[..REPLY_HEADER_LEN].copy_from_slice(&reply_header(Status::Ok, body_len));
            Outcome::Answered
        }
        Err(error) => {
            reply.clear();
            write_error(&mut reply, &error.to_string())?;
            Outcome::Refused
        }
    };
    stream.write_all(&reply).await?;
    Ok(outcome)
    // `reply` drops here and goes back to the pool; `frame` already went back
    // inside the sink, unless the sink kept it.
}

/// Reads a request header; `false` on a clean end of stream before it.
async fn read_header(
    stream: &mut TcpStream,
    header: &mut [u8; REQUEST_HEADER_LEN],
) -> io::Result<bool> {
    let mut filled = 0;
    while filled < header.len() {
        match stream.read(&mut header[filled..]).await? {
            0 if filled == 0 => return Ok(false),
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            count => filled += count,
        }
    }
    Ok(true)
}

/// Reads and drops exactly `len` bytes; `false` if the client went idle.
async fn discard(
    stream: &mut TcpStream,
    config: &ServerConfig,
    mut len: usize,
) -> io::Result<bool> {
    let mut scratch = config.pool.try_get(DISCARD_CHUNK.min(len))?;
    while len > 0 {
        let want = scratch.len().min(len);
        match timeout(config.idle_timeout, stream.read(&mut scratch[..want])).await {
            Err(_) => return Ok(false),
            Ok(Ok(0)) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(Ok(count)) => len -= count,
            Ok(Err(error)) => return Err(error),
        }
    }
    Ok(true)
}

/// Sends an error reply carrying `message`.
async fn send_error(
    stream: &mut TcpStream,
    config: &ServerConfig,
    message: &str,
) -> io::Result<()> {
    let mut reply = config
        .pool
        .try_get_empty(REPLY_HEADER_LEN + MAX_ERROR_MESSAGE_LEN)?;
    write_error(&mut reply, message)?;
    stream.write_all(&reply).await
}

/// Writes an error reply, the message cut to [`MAX_ERROR_MESSAGE_LEN`] bytes.
fn write_error(reply: &mut PooledBuf<'static>, message: &str) -> io::Result<()> {
    let mut end = message.len().min(MAX_ERROR_MESSAGE_LEN);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let body = &message.as_bytes()[..end];
    reply.write_all(&reply_header(Status::Error, body.len()))?;
    reply.write_all(body)
}
