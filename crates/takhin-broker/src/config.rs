//! [`Config`]: the command line of `takhin-broker`, also the library's
//! settings.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// The largest request frame accepted by default: Kafka's
/// `socket.request.max.bytes` (100 MiB).
pub const DEFAULT_MAX_REQUEST_SIZE: usize = 100 << 20;
/// The request memory budget by default: Kafka's `queued.max.request.bytes`
/// is unbounded by default; we bound it.
pub const DEFAULT_MAX_REQUEST_MEMORY: u64 = 256 << 20;

/// Settings of a [`Broker`](crate::Broker), parsed from the command line by
/// the binary.
///
/// # Examples
///
/// ```
/// use clap::Parser;
/// use takhin_broker::Config;
///
/// let config = Config::try_parse_from([
///     "takhin-broker", "--data-dir", "/tmp/data", "--partitions", "3",
///     "--max-request-memory", "16MiB",
/// ])?;
/// assert_eq!(config.partitions, 3);
/// assert_eq!(config.max_request_memory, 16 << 20);
/// assert_eq!(config.listen.to_string(), "127.0.0.1:9092");
/// # Ok::<(), clap::Error>(())
/// ```
#[derive(Debug, Clone, Parser)]
#[command(
    name = "takhin-broker",
    version,
    about = "A single-node Kafka-protocol broker over takhin-log"
)]
#[non_exhaustive]
pub struct Config {
    /// Address to accept Kafka clients on (port 0 picks a free port). It is
    /// also the address advertised in Metadata.
    #[arg(long, default_value = "127.0.0.1:9092")]
    pub listen: SocketAddr,
    /// Directory holding one takhin-log directory per partition, `<topic>-<partition>/`.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Partitions of each auto-created topic.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub partitions: u32,
    /// Serve Prometheus metrics on this address (e.g. 127.0.0.1:9101).
    #[arg(long)]
    pub metrics: Option<SocketAddr>,
    /// Bytes of request frames held at once (buffer capacities); when spent,
    /// the broker stops reading sockets until a request is done. Suffixes
    /// KiB, MiB, GiB.
    #[arg(long, default_value = "256MiB", value_parser = parse_size)]
    pub max_request_memory: u64,
    /// Largest request frame; a larger length prefix closes the connection.
    /// At most the request memory.
    #[arg(long, default_value = "100MiB", value_parser = parse_size)]
    pub max_request_size: u64,
    /// Largest record batch appended (Kafka's `message.max.bytes`).
    #[arg(long, default_value = "1048588", value_parser = parse_size)]
    pub max_message_bytes: u64,
    /// Where request frames are read into: the budgeted pool, or a fresh
    /// `Vec` per frame with no budget (the benchmark's baseline).
    #[arg(long, value_enum, default_value_t = RequestBuffers::Pool)]
    pub request_buffers: RequestBuffers,
}

impl Config {
    /// A configuration with the defaults, storing under `data_dir` and
    /// listening on a free loopback port.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = takhin_broker::Config::new("/tmp/data");
    /// assert_eq!(config.listen.port(), 0);
    /// ```
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            partitions: 1,
            metrics: None,
            max_request_memory: DEFAULT_MAX_REQUEST_MEMORY,
            max_request_size: DEFAULT_MAX_REQUEST_SIZE as u64,
            max_message_bytes: u64::from(takhin_log::DEFAULT_MAX_BATCH_BYTES),
            request_buffers: RequestBuffers::Pool,
        }
    }
}

/// Where request frames are read into ([`Config::request_buffers`]).
///
/// # Examples
///
/// ```
/// use clap::Parser;
/// let config = takhin_broker::Config::try_parse_from(["b", "--data-dir", "d", "--request-buffers", "vec"])?;
/// assert_eq!(config.request_buffers, takhin_broker::RequestBuffers::Vec);
/// # Ok::<(), clap::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[non_exhaustive]
pub enum RequestBuffers {
    /// The request pool, with its memory budget.
    Pool,
    /// A fresh `Vec` per frame, freed after the request; no budget.
    Vec,
}

/// `123`, `64KiB`, `16MiB`, `1GiB` (also `k`, `m`, `g`, `KB`, `MB`, `GB`
/// as binary multiples).
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let value: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size such as 4096 or 16MiB"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        other => return Err(format!("unknown size unit {other:?}")),
    };
    value
        .checked_mul(1 << shift)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{text:?} is zero or too large"))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_with_binary_units_and_reject_nonsense() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        for bad in ["", "0", "MiB", "12XB", "99999999999999999999GiB"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
