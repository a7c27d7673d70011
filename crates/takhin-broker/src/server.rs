//! [`Broker`]: the listener, one task per connection, and shutdown.
//!
//! A connection is served one request at a time, in order, as Kafka does
//! (it stops reading a socket while one of its requests is in progress):
//! read a frame into a pooled buffer, handle it, write the answer.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::Duration;

use takhin_log::LogConfig;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use crate::api::{self, Reply};
use crate::metrics::Metrics;
use crate::request_pool::FrameError;
use crate::topics::Topics;
use crate::wire::ResponseWriter;
use crate::{BrokerError, Config, RequestPool};

/// How often the logs are synced to disk in the background (appends reach
/// the page cache at once, so a killed process loses nothing; this bounds
/// what a power loss can take).
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// What every connection shares.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) topics: Topics,
    pub(crate) requests: RequestPool,
    /// The listener's address, advertised in Metadata and FindCoordinator.
    pub(crate) advertised: SocketAddr,
    pub(crate) metrics: Metrics,
    pub(crate) next_producer_id: AtomicI64,
}

/// A bound, not yet serving broker.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), takhin_broker::BrokerError> {
/// let dir = tempfile::tempdir()?;
/// let broker = takhin_broker::Broker::bind(&takhin_broker::Config::new(dir.path())).await?;
/// let addr = broker.local_addr(); // 127.0.0.1 and a free port
/// broker.run(async {}).await?; // shuts down at once: the future is ready
/// # assert!(addr.ip().is_loopback());
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Broker {
    listener: TcpListener,
    state: Arc<State>,
}

impl Broker {
    /// Opens (recovering) every partition under `config.data_dir`, builds
    /// the request pool and binds `config.listen`.
    ///
    /// # Errors
    ///
    /// [`BrokerError::Config`] for contradicting sizes; the errors of the
    /// pool, of opening the logs and of binding.
    pub async fn bind(config: &Config) -> Result<Self, BrokerError> {
        let max_frame = usize::try_from(config.max_request_size)
            .map_err(|_| BrokerError::Config("max request size too large".into()))?;
        let mut requests = RequestPool::new(max_frame, config.max_request_memory)?;
        if config.request_buffers == crate::RequestBuffers::Vec {
            requests = requests.with_vec_buffers();
        }
        let max_batch = u32::try_from(config.max_message_bytes)
            .map_err(|_| BrokerError::Config("max message bytes above 4 GiB".into()))?;
        let log_config = LogConfig::default().with_max_batch_bytes(max_batch);
        let topics = Topics::open(&config.data_dir, config.partitions, log_config)?;
        let listener = TcpListener::bind(config.listen).await?;
        let advertised = listener.local_addr()?;
        let state = State {
            topics,
            requests,
            advertised,
            metrics: Metrics,
            next_producer_id: AtomicI64::new(1),
        };
        Ok(Broker {
            listener,
            state: Arc::new(state),
        })
    }

    /// The address clients connect to.
    ///
    /// # Examples
    ///
    /// See [`Broker`].
    pub fn local_addr(&self) -> SocketAddr {
        self.state.advertised
    }

    /// The request buffers' pool and figures.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), takhin_broker::BrokerError> {
    /// # let dir = tempfile::tempdir()?;
    /// let mut config = takhin_broker::Config::new(dir.path());
    /// config.max_request_memory = 16 << 20;
    /// config.max_request_size = 8 << 20;
    /// let broker = takhin_broker::Broker::bind(&config).await?;
    /// assert_eq!(broker.request_pool().pool().memory_budget(), Some(16 << 20));
    /// # Ok(())
    /// # }
    /// ```
    pub fn request_pool(&self) -> &RequestPool {
        &self.state.requests
    }

    /// Serves clients until `shutdown` completes, then stops accepting,
    /// syncs every log and returns. Connections still open are dropped
    /// with the runtime; what they appended is in the logs.
    ///
    /// # Errors
    ///
    /// [`BrokerError::Log`] if the final sync fails.
    ///
    /// # Examples
    ///
    /// See [`Broker`].
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), BrokerError> {
        let flusher = tokio::spawn(flush_periodically(self.state.clone()));
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        tokio::spawn(serve(self.state.clone(), stream));
                    }
                    // Out of descriptors and the like: keep the listener.
                    Err(error) => {
                        eprintln!("takhin-broker: accept failed: {error}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
            }
        }
        flusher.abort();
        self.state.topics.flush_all()
    }
}

async fn flush_periodically(state: Arc<State>) {
    let mut interval = tokio::time::interval(FLUSH_INTERVAL);
    loop {
        interval.tick().await;
        let state = state.clone();
        let flushed = tokio::task::spawn_blocking(move || state.topics.flush_all()).await;
        if let Ok(Err(error)) = flushed {
            eprintln!("takhin-broker: background flush failed: {error}");
        }
    }
}

async fn serve(state: Arc<State>, mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "?".to_owned(), |a| a.to_string());
    let mut writer = ResponseWriter::default();
    loop {
        let frame = match state.requests.read_frame(&mut stream, &state.metrics).await {
            Ok(Some(frame)) => frame,
            Ok(None) => return,
            Err(error) => {
                eprintln!("takhin-broker: closing {peer}: {error}");
                state.metrics.rejected(match error {
                    // The peer reset, or went away mid-frame.
                    FrameError::Io(_) => "reset or truncated frame",
                    FrameError::TooLarge { .. } => "frame too large",
                    FrameError::TooSmall { .. } => "frame too small",
                    FrameError::Stalled { .. } => "frame stalled",
                    FrameError::Pool(_) => "request pool",
                });
                return;
            }
        };
        match api::handle(&state, frame, &mut writer).await {
            Reply::Frame(chunks) => {
                let mut written = 0;
                for chunk in &chunks {
                    if stream.write_all(chunk).await.is_err() {
                        return;
                    }
                    written += chunk.len();
                }
                state.metrics.written(written);
            }
            Reply::Nothing => {}
            Reply::Close(reason) => {
                eprintln!("takhin-broker: closing {peer}: {reason}");
                state.metrics.rejected(reason);
                return;
            }
        }
    }
}
