//! A tokio server that reads length-prefixed frames into pooled buffers.
//!
//! Each frame is read into a `PooledBuf` taken for its exact length (Go's
//! `GetBuffer`), appended to a `takhin-log` storage log (whose batch buffer is
//! pooled too), answered with its offset, and returned to the pool when its
//! guard drops at the end of the handler (Go's `defer PutBuffer`). Oversized
//! and malformed frames get an error reply and the connection stays usable;
//! see `mempool_examples::frame_server` and `mempool_examples::log_sink`.
//!
//! Run it:
//!
//! * `cargo run -p mempool-examples --example tcp_handler` starts the server
//!   on a free loopback port with a log in a temporary directory, drives it
//!   with a client (good frames, an empty one, an oversized one), prints the
//!   replies, reads the records back from the log, prints the pool's
//!   counters, and stops;
//! * `... --example tcp_handler -- --serve 127.0.0.1:7070` serves (into a
//!   temporary log) until the process is killed: it only listens.

use std::io;
use std::net::SocketAddr;

use mempool_examples::frame::Status;
use mempool_examples::frame_client::FrameClient;
use mempool_examples::frame_server::{FrameServer, ServerConfig};
use mempool_examples::log_sink::LogAppend;
use tokio::sync::oneshot;

#[tokio::main(flavor = "current_thread")]
async fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = ServerConfig::default().max_frame_len(64 << 10);
    let dir = tempfile::tempdir()?;
    let sink = LogAppend::open(dir.path()).map_err(io::Error::other)?;
    if let [flag, addr] = args.as_slice() {
        if flag == "--serve" {
            let addr: SocketAddr = addr
                .parse()
                .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?;
            let server = FrameServer::bind(addr, sink, config).await?;
            println!("serving length-prefixed frames on {}", server.local_addr()?);
            server.run_until(std::future::pending()).await?;
            return Ok(());
        }
    }

    // Demo: server and client in one process, on loopback.
    let server = FrameServer::bind(([127, 0, 0, 1], 0).into(), sink.clone(), config).await?;
    let addr = server.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));

    let mut client = FrameClient::connect(addr).await?;
    let payloads = [&b"hello"[..], b"record batch", &[7u8; 3000]];
    for (offset, payload) in payloads.iter().enumerate() {
        let reply = client.request(payload).await?;
        assert_eq!(
            (reply.status, &reply.body[..]),
            (Status::Ok, &(offset as u64).to_be_bytes()[..])
        );
        println!(
            "appended a frame of {} bytes at offset {offset}",
            payload.len()
        );
    }
    for payload in [&[][..], &vec![1u8; 100 << 10][..]] {
        let reply = client.request(payload).await?;
        assert_eq!(reply.status, Status::Error);
        println!("frame of {} bytes refused: {}", payload.len(), reply.text());
    }
    let reply = client.request(b"still alive").await?;
    assert_eq!(reply.status, Status::Ok);
    let offset = u64::from_be_bytes(reply.body[..].try_into().expect("an 8-byte offset"));
    println!("the connection survived: \"still alive\" appended at offset {offset}");
    drop(client);

    let _ = stop.send(());
    let summary = running.await.expect("the server task does not panic")?;
    println!("server summary: {summary:?}");
    let values: Vec<usize> = sink.with_log(|log| {
        let fetch = log.read_range(0, 1 << 20).map_err(io::Error::other)?;
        fetch
            .records()
            .map(|record| record.map(|r| r.value.map_or(0, <[u8]>::len)))
            .collect::<Result<_, _>>()
            .map_err(io::Error::other)
    })?;
    println!("read the records back from the log: value sizes {values:?}");
    assert_eq!(values, [5, 12, 3000, 11]);
    let stats = mempool::stats();
    println!(
        "pool: {} gets, {} puts, {} hits, {} in use",
        stats.gets, stats.puts, stats.hits, stats.in_use
    );
    assert_eq!(stats.in_use, 0, "every guard went back");
    Ok(())
}
