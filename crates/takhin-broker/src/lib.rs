//! A single-node, Kafka-compatible broker over [`takhin_log`], one log per
//! partition, with every request frame read into a pooled buffer charged to
//! a memory budget.
//!
//! Real Kafka clients (tested: librdkafka, kafka-python, aiokafka) produce
//! to it and fetch from it with manual partition assignment. It speaks
//! ApiVersions v0-v3 (with the KIP-511 fallback), Metadata v0-v8, Produce
//! v3-v8, Fetch v4-v11, ListOffsets v1-v5, FindCoordinator v0-v3,
//! InitProducerId v0-v4 and OffsetFetch v1-v9 (no committed offsets)
//! ([`SUPPORTED_APIS`]); the wire types come from the
//! `kafka-protocol` crate. There is no replication, no consumer group and
//! no transaction; `docs/broker.md` has the scope, the design and figures.
//!
//! ```no_run
//! # #[tokio::main]
//! # async fn main() -> Result<(), takhin_broker::BrokerError> {
//! let mut config = takhin_broker::Config::new("/var/lib/takhin");
//! config.listen = "127.0.0.1:9092".parse().unwrap();
//! let broker = takhin_broker::Broker::bind(&config).await?;
//! broker.run(async { tokio::signal::ctrl_c().await.unwrap() }).await
//! # }
//! ```
//!
//! # The request path
//!
//! A connection reads a frame's 4-byte length, waits for the
//! [`RequestPool`]'s memory budget (backpressure: a spent budget stops the
//! broker reading sockets), reads the frame into one pooled buffer and
//! freezes it into `bytes::Bytes`; requests are decoded as slices of it, so
//! produce batches are appended from that buffer, their base offset
//! rewritten in the file ([`takhin_log::Log::append_raw`]). Fetch responses
//! reference the pooled buffers the log read batches into, without a copy.
#![doc(test(
    no_crate_inject,
    attr(deny(warnings, rust_2018_idioms), allow(dead_code, unused_variables))
))]
#![deny(missing_docs)]

mod api;
mod config;
mod error;
mod metrics;
mod request_pool;
mod server;
mod topics;
mod wire;

pub use api::{CLUSTER_ID, MAX_FETCH_WAIT, SUPPORTED_APIS};
pub use config::{Config, DEFAULT_MAX_REQUEST_MEMORY, DEFAULT_MAX_REQUEST_SIZE, RequestBuffers};
pub use error::BrokerError;
pub use request_pool::{FRAME_BODY_TIMEOUT, MIN_FRAME_SIZE, RequestPool, request_bucket_sizes};
pub use server::{Broker, FLUSH_INTERVAL};

/// Installs the Prometheus exporter on `addr` and publishes, every second,
/// the request pool (`takhin_mempool_request_buffer_*`) and the global pool
/// the logs use (`takhin_mempool_buffer_*`), next to the broker's own
/// `takhin_broker_*` series. Keep the returned reporters alive.
///
/// # Errors
///
/// [`BrokerError::Metrics`] if the exporter cannot bind or install;
/// [`BrokerError::Io`] if a reporter thread cannot start.
pub fn serve_metrics(
    addr: std::net::SocketAddr,
    requests: &RequestPool,
) -> Result<(std::net::SocketAddr, Vec<mempool::Reporter>), BrokerError> {
    let exporter = mempool::install_prometheus_on(addr)?;
    metrics::Metrics::describe();
    let interval = std::time::Duration::from_secs(1);
    let request_collector =
        mempool::MetricsCollector::with_prefix(requests.pool(), "takhin_mempool_request")
            .expect("a valid prefix");
    let reporters = vec![
        mempool::Reporter::spawn(request_collector, requests.pool(), interval)?,
        mempool::Reporter::spawn(
            mempool::MetricsCollector::new(mempool::global()),
            mempool::global(),
            interval,
        )?,
    ];
    Ok((exporter.local_addr(), reporters))
}
