//! Serves the global pool's metrics for Prometheus on loopback while a small
//! workload runs, then scrapes its own endpoint once and prints the pool's
//! series.
//!
//! ```text
//! cargo run -p mempool-examples --example prometheus --features prometheus -- [ADDR] [SECONDS]
//! curl -s http://127.0.0.1:9000/metrics | grep takhin_mempool
//! ```
//!
//! `ADDR` defaults to 127.0.0.1:9000 (`127.0.0.1:0` picks a free port) and
//! `SECONDS` to 30.

use std::error::Error;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use mempool::{MetricsCollector, Reporter};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = match args.next() {
        Some(addr) => addr.parse()?,
        None => mempool::DEFAULT_PROMETHEUS_ADDR,
    };
    let seconds: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(30);

    // Install the recorder first: the collector registers its handles with it.
    let exporter = mempool::install_prometheus_on(addr)?;
    let addr = exporter.local_addr();
    println!("serving http://{addr}/metrics for {seconds} s");
    let pool = mempool::global();
    let reporter = Reporter::spawn(MetricsCollector::new(pool), pool, Duration::from_secs(1))?;

    // Four "connections": request frames, record batches, and now and then a
    // 20 MiB oversized fetch response, with a few frames held across rounds.
    let deadline = Instant::now() + Duration::from_secs(seconds);
    thread::scope(|scope| {
        for connection in 0..4u32 {
            scope.spawn(move || {
                let mut held = Vec::new();
                let mut round = 0u32;
                while Instant::now() < deadline {
                    let size = match round % 100 {
                        99 if connection == 0 => 20 << 20,
                        n if n % 10 == 0 => 64 << 10,
                        n => 200 + (n as usize * 97 + connection as usize * 13) % 3800,
                    };
                    let mut frame = mempool::get_buffer(size);
                    frame[..4].copy_from_slice(&(size as u32).to_be_bytes());
                    if round % 16 == 0 {
                        held.push(frame);
                    }
                    if held.len() > 8 {
                        held.clear();
                    }
                    round = round.wrapping_add(1);
                    thread::sleep(Duration::from_micros(200));
                }
            });
        }
    });
    reporter.stop(); // publishes the final figures

    let scrape = http_get(addr)?;
    for line in scrape
        .lines()
        .filter(|line| line.starts_with("takhin_mempool_buffer_") && !line.contains("bucket"))
    {
        println!("{line}");
    }
    let stats = mempool::stats();
    let gets = format!("takhin_mempool_buffer_gets_total {}", stats.gets);
    assert!(
        scrape.lines().any(|line| line == gets),
        "{gets} not in\n{scrape}"
    );
    Ok(())
}

/// `GET /metrics` over HTTP/1.0; returns the body.
fn http_get(addr: SocketAddr) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(stream, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response
        .split_once("\r\n\r\n")
        .map_or(response.clone(), |(_, body)| body.to_owned()))
}
