//! [`BrokerError`]: why the broker could not start or stopped.

use std::io;

/// Why starting or running a [`Broker`](crate::Broker) failed. Errors of a
/// single request are answered with a Kafka error code instead.
///
/// # Examples
///
/// ```
/// let error = takhin_broker::BrokerError::Config("max request size above the memory".into());
/// assert!(error.to_string().contains("max request size"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    /// A socket or directory operation failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// A partition's log could not be opened or flushed.
    #[error("storage error: {0}")]
    Log(#[from] takhin_log::LogError),
    /// The request pool could not be built.
    #[error("request pool: {0}")]
    Pool(#[from] mempool::BuildError),
    /// The metrics endpoint could not start.
    #[error("metrics endpoint: {0}")]
    Metrics(#[from] mempool::PrometheusError),
    /// The settings contradict each other.
    #[error("invalid configuration: {0}")]
    Config(String),
}
