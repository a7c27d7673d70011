//! A one-call Prometheus endpoint: `metrics-exporter-prometheus` with its built-in HTTP listener, on loopback by default.
//!
//! # How a taken port is reported
//!
//! The exporter binds its listener synchronously, inside
//! `PrometheusBuilder::build`, but reports a failure as a `String`, which
//! loses the `io::ErrorKind`. The exporter's bind stays the authority: when it
//! fails, we bind the same address once more, at once, only to recover the
//! `io::Error`, and return it as [`PrometheusError::Bind`]. If that second
//! bind succeeds (the port was freed in between), we return the exporter's own
//! error as [`PrometheusError::Exporter`]. Either way the error is true; no
//! success is ever reported for a port we do not hold.
//!
//! Port 0 asks the system for a free port. The exporter does not tell which
//! one it got, so we bind port 0 first, read the port, close that socket and
//! hand the port to the exporter. In the gap another process could take it;
//! then the exporter's bind fails, nothing is left running, and we probe a new
//! port (up to eight times) before reporting the error.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener};

use metrics_exporter_prometheus::{BuildError, PrometheusBuilder, PrometheusHandle};

use crate::error::PrometheusError;
use crate::sync::{mpsc, thread};

/// The address [`install_prometheus`] listens on: `127.0.0.1:9000`, the
/// exporter's usual port, on loopback only.
pub const DEFAULT_PROMETHEUS_ADDR: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9000));

/// The name of the thread that serves scrapes.
const THREAD_NAME: &str = "mempool-prometheus";

/// A running Prometheus endpoint, returned by [`install_prometheus`].
///
/// The listener runs on its own thread for the rest of the process; this
/// value only describes it, and dropping it stops nothing.
///
/// # Examples
///
/// ```no_run
/// let exporter = mempool::install_prometheus_on(([127, 0, 0, 1], 0))?;
/// println!("scrape http://{}/metrics", exporter.local_addr());
/// assert!(exporter.render().is_empty() || exporter.render().contains("# TYPE"));
/// # Ok::<(), mempool::PrometheusError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PrometheusExporter {
    addr: SocketAddr,
    handle: PrometheusHandle,
}

impl PrometheusExporter {
    /// The address the listener is bound to, with the port resolved when
    /// port 0 was asked for.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The exporter's handle, for [`render`](Self::render) and upkeep.
    #[must_use]
    pub fn handle(&self) -> &PrometheusHandle {
        &self.handle
    }

    /// The text a scrape of `/metrics` would return now.
    #[must_use]
    pub fn render(&self) -> String {
        self.handle.render()
    }
}

/// Installs the Prometheus exporter as the global `metrics` recorder, serving
/// scrapes on `http://127.0.0.1:9000/metrics` ([`DEFAULT_PROMETHEUS_ADDR`]).
///
/// Call it once, early in `main`, before creating a
/// [`MetricsCollector`](crate::MetricsCollector). See
/// [`install_prometheus_on`] for another address.
///
/// # Errors
///
/// See [`install_prometheus_on`].
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use mempool::{MetricsCollector, Reporter};
///
/// mempool::install_prometheus()?;
/// let pool = mempool::global();
/// let _reporter = Reporter::spawn(MetricsCollector::new(pool), pool, Duration::from_secs(5))
///     .expect("thread");
/// # Ok::<(), mempool::PrometheusError>(())
/// ```
pub fn install_prometheus() -> Result<PrometheusExporter, PrometheusError> {
    install_prometheus_on(DEFAULT_PROMETHEUS_ADDR)
}

/// Installs the Prometheus exporter as the global `metrics` recorder, serving
/// scrapes over HTTP on `addr`; port 0 picks a free port, which
/// [`PrometheusExporter::local_addr`] gives.
///
/// The listener runs on a thread named `mempool-prometheus` with a
/// single-threaded Tokio runtime, for the rest of the process. Bind a
/// loopback address unless the endpoint must be reachable from elsewhere.
///
/// # Errors
///
/// * [`PrometheusError::Bind`] if `addr` cannot be bound; its source is the
///   `io::Error`, of kind `AddrInUse` when the port is taken;
/// * [`PrometheusError::RecorderAlreadyInstalled`] if a global recorder is
///   already set (the listener is then closed again);
/// * [`PrometheusError::Spawn`] if the runtime or thread cannot start;
/// * [`PrometheusError::Exporter`] for other exporter failures.
///
/// # Examples
///
/// ```no_run
/// use std::io::ErrorKind;
/// use mempool::PrometheusError;
///
/// let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let error = mempool::install_prometheus_on(taken.local_addr().unwrap()).unwrap_err();
/// assert!(matches!(error, PrometheusError::Bind { ref source, .. } if source.kind() == ErrorKind::AddrInUse));
/// ```
pub fn install_prometheus_on(
    addr: impl Into<SocketAddr>,
) -> Result<PrometheusExporter, PrometheusError> {
    let requested = addr.into();
    // With port 0, another process may take the probed port before the
    // exporter binds it; probing again a few times makes that race harmless.
    let mut attempts = if requested.port() == 0 { 8 } else { 1 };
    loop {
        attempts -= 1;
        match install_once(resolve_port(requested)?) {
            Err(PrometheusError::Bind { source, .. })
                if attempts > 0 && source.kind() == std::io::ErrorKind::AddrInUse => {}
            result => return result,
        }
    }
}

/// One attempt at [`install_prometheus_on`], on a port that is not 0.
fn install_once(addr: SocketAddr) -> Result<PrometheusExporter, PrometheusError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(PrometheusError::Spawn)?;
    let built = {
        let _entered = runtime.enter();
        PrometheusBuilder::new().with_http_listener(addr).build()
    };
    let (recorder, exporter) = match built {
        Ok(built) => built,
        Err(error @ BuildError::FailedToCreateHTTPListener(_)) => {
            // Recover the io::Error the exporter turned into a String.
            return Err(match TcpListener::bind(addr) {
                Err(source) => PrometheusError::Bind { addr, source },
                Ok(_) => PrometheusError::Exporter(error),
            });
        }
        Err(error) => return Err(PrometheusError::Exporter(error)),
    };
    let handle = recorder.handle();
    // The thread serves only once the recorder is installed: if that fails,
    // it drops the exporter (closing the listener) and ends.
    let (start, started) = mpsc::sync_channel::<()>(1);
    let thread = thread::Builder::new()
        .name(THREAD_NAME.to_owned())
        .spawn(move || {
            if started.recv().is_ok() {
                // Serving only ends if the listener fails; there is no one to
                // report that to, and scrapes would show it.
                let _ = runtime.block_on(exporter);
            }
        })
        .map_err(PrometheusError::Spawn)?;
    if let Err(error) = metrics::set_global_recorder(recorder) {
        drop(start);
        let _ = thread.join();
        return Err(PrometheusError::RecorderAlreadyInstalled(error));
    }
    start
        .send(())
        .expect("the exporter thread waits for its start signal");
    Ok(PrometheusExporter { addr, handle })
}

/// Replaces port 0 by a port the system reports free.
fn resolve_port(addr: SocketAddr) -> Result<SocketAddr, PrometheusError> {
    if addr.port() != 0 {
        return Ok(addr);
    }
    TcpListener::bind(addr)
        .and_then(|probe| probe.local_addr())
        .map_err(|source| PrometheusError::Bind { addr, source })
}
