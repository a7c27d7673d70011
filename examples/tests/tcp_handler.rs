//! Drives the frame server with a real TCP client on 127.0.0.1: bounded
//! request loops, bad frames that get error replies on a connection that
//! survives, and every pooled buffer back in the pool at the end.

use std::future::Future;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mempool::{BufferPool, PooledBuf};
use mempool_examples::frame::Status;
use mempool_examples::frame_client::FrameClient;
use mempool_examples::frame_server::{Echo, FrameServer, FrameSink, ServerConfig, Summary};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Every test finishes well within this, or fails instead of hanging.
const DEADLINE: Duration = Duration::from_secs(20);

async fn bounded<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, test)
        .await
        .expect("the test ran past its deadline")
}

/// A pool of the test's own, so its counters see only this test.
fn own_pool() -> &'static BufferPool {
    Box::leak(Box::new(BufferPool::new()))
}

struct Running {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<io::Result<Summary>>,
}

impl Running {
    async fn start(sink: impl FrameSink, config: ServerConfig) -> Self {
        let server = FrameServer::bind(([127, 0, 0, 1], 0).into(), sink, config)
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        assert!(addr.ip().is_loopback());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run_until(async {
            let _ = stopped.await;
        }));
        Self { addr, stop, task }
    }

    async fn client(&self) -> FrameClient {
        FrameClient::connect(self.addr).await.unwrap()
    }

    async fn stop(self) -> Summary {
        self.stop.send(()).unwrap();
        self.task.await.unwrap().unwrap()
    }
}

fn payload(index: usize) -> Vec<u8> {
    let len = 1 + (index * 997) % 5000;
    (0..len).map(|i| (i + index) as u8).collect()
}

fn assert_all_returned(pool: &BufferPool) {
    let stats = pool.stats();
    assert_eq!(stats.in_use, 0, "{stats:?}");
    assert_eq!(stats.gets, stats.puts);
}

#[tokio::test]
async fn echoes_a_bounded_loop_of_frames_and_returns_every_buffer() {
    bounded(async {
        const FRAMES: usize = 200;
        let pool = own_pool();
        let server = Running::start(Echo, ServerConfig::default().pool(pool)).await;
        let mut client = server.client().await;
        for index in 0..FRAMES {
            let sent = payload(index);
            let reply = client.request(&sent).await.unwrap();
            assert_eq!(reply.status, Status::Ok);
            assert_eq!(reply.body, sent, "frame {index}");
        }
        drop(client);
        let summary = server.stop().await;
        assert_eq!(
            (summary.connections, summary.frames, summary.errors),
            (1, FRAMES as u64, 0)
        );
        assert_all_returned(pool);
        let stats = pool.stats();
        // A frame buffer and a reply buffer per frame, reused from the pool.
        assert_eq!(stats.gets, 2 * FRAMES as u64);
        assert!(
            stats.hits >= stats.gets - 10,
            "buffers are reused: {stats:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn bad_frames_get_error_replies_and_the_connection_survives() {
    bounded(async {
        let pool = own_pool();
        let refuse_bad = |frame: PooledBuf<'static>, reply: &mut PooledBuf<'static>| {
            if frame.starts_with(b"bad") {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the sink refused it",
                ));
            }
            reply.write_all(&frame)
        };
        let config = ServerConfig::default().max_frame_len(1024).pool(pool);
        let server = Running::start(refuse_bad, config).await;
        let mut client = server.client().await;

        let empty = client.request(b"").await.unwrap();
        assert_eq!(
            (empty.status, empty.text()),
            (Status::Error, "empty frame".to_owned())
        );

        let oversized = client.request(&[0xAA; 5000]).await.unwrap();
        assert_eq!(oversized.status, Status::Error);
        assert_eq!(
            oversized.text(),
            "frame of 5000 bytes is above the maximum of 1024 bytes"
        );

        let refused = client.request(b"bad frame").await.unwrap();
        assert_eq!(
            (refused.status, refused.text()),
            (Status::Error, "the sink refused it".to_owned())
        );

        // Exactly at the limit is fine, and the stream is still in step.
        for sent in [&[0x55; 1024][..], b"after the errors"] {
            let reply = client.request(sent).await.unwrap();
            assert_eq!((reply.status, &reply.body[..]), (Status::Ok, sent));
        }
        drop(client);
        let summary = server.stop().await;
        assert_eq!(
            (summary.frames, summary.errors, summary.failed_connections),
            (2, 3, 0)
        );
        assert_all_returned(pool);
    })
    .await;
}

#[tokio::test]
async fn an_oversized_frame_arriving_in_pieces_is_discarded_exactly() {
    bounded(async {
        let pool = own_pool();
        let config = ServerConfig::default().max_frame_len(100).pool(pool);
        let server = Running::start(Echo, config).await;
        let mut client = server.client().await;

        // 3000 declared bytes, sent in uneven pieces; the last piece carries
        // the start of the next, good frame in the same write.
        client.send_raw(&3000u32.to_be_bytes()).await.unwrap();
        for piece in [1000, 1, 1500] {
            client.send_raw(&vec![0xEE; piece]).await.unwrap();
            tokio::task::yield_now().await;
        }
        let mut tail = vec![0xEE; 499];
        tail.extend_from_slice(&2u32.to_be_bytes());
        tail.extend_from_slice(b"ok");
        client.send_raw(&tail).await.unwrap();

        let refused = client.read_reply().await.unwrap();
        assert_eq!(refused.status, Status::Error);
        assert!(refused.text().contains("3000 bytes"), "{}", refused.text());
        let good = client.read_reply().await.unwrap();
        assert_eq!((good.status, &good.body[..]), (Status::Ok, &b"ok"[..]));
        drop(client);
        let summary = server.stop().await;
        assert_eq!((summary.frames, summary.errors), (1, 1));
        assert_all_returned(pool);
    })
    .await;
}

#[tokio::test]
async fn an_absurd_length_gets_an_error_reply_then_a_close() {
    bounded(async {
        let pool = own_pool();
        let config = ServerConfig::default()
            .max_frame_len(1024)
            .max_discard_len(1 << 20)
            .pool(pool);
        let server = Running::start(Echo, config).await;
        let mut client = server.client().await;
        client.send_raw(&u32::MAX.to_be_bytes()).await.unwrap();
        let reply = client.read_reply().await.unwrap();
        assert_eq!(reply.status, Status::Error);
        assert!(
            reply.text().contains("4294967295 bytes"),
            "{}",
            reply.text()
        );
        assert!(reply.text().ends_with("closing"));
        client.expect_closed().await.unwrap();

        // The server itself goes on serving new connections.
        let mut again = server.client().await;
        assert_eq!(again.request(b"hi").await.unwrap().status, Status::Ok);
        drop(again);
        let summary = server.stop().await;
        assert_eq!(
            (summary.connections, summary.frames, summary.errors),
            (2, 1, 1)
        );
        assert_all_returned(pool);
    })
    .await;
}

#[tokio::test]
async fn a_client_silent_inside_a_frame_times_out_and_is_closed() {
    bounded(async {
        let pool = own_pool();
        let config = ServerConfig::default()
            .idle_timeout(Duration::from_millis(100))
            .pool(pool);
        let server = Running::start(Echo, config).await;
        let mut client = server.client().await;
        client.send_raw(&10u32.to_be_bytes()).await.unwrap();
        client.send_raw(b"abc").await.unwrap(); // 7 bytes never come
        let reply = client.read_reply().await.unwrap();
        assert_eq!(
            (reply.status, reply.text()),
            (
                Status::Error,
                "idle timeout inside a frame, closing".to_owned()
            )
        );
        client.expect_closed().await.unwrap();
        let summary = server.stop().await;
        assert_eq!((summary.frames, summary.errors), (0, 1));
        assert_all_returned(pool);
    })
    .await;
}

#[tokio::test]
async fn a_client_gone_mid_frame_leaves_no_buffer_behind() {
    bounded(async {
        let pool = own_pool();
        let server = Running::start(Echo, ServerConfig::default().pool(pool)).await;
        let mut client = server.client().await;
        assert_eq!(client.request(b"first").await.unwrap().status, Status::Ok);
        client.send_raw(&100u32.to_be_bytes()).await.unwrap();
        client.send_raw(&[1; 10]).await.unwrap();
        drop(client);
        let summary = server.stop().await;
        assert_eq!((summary.connections, summary.failed_connections), (1, 1));
        assert_all_returned(pool);
    })
    .await;
}

#[tokio::test]
async fn concurrent_clients_each_get_their_own_replies() {
    bounded(async {
        const CLIENTS: usize = 4;
        const FRAMES: usize = 50;
        let pool = own_pool();
        let server = Running::start(Echo, ServerConfig::default().pool(pool)).await;
        let mut clients = Vec::new();
        for client_index in 0..CLIENTS {
            let mut client = server.client().await;
            clients.push(tokio::spawn(async move {
                for index in 0..FRAMES {
                    let sent = payload(client_index * FRAMES + index);
                    let reply = client.request(&sent).await.unwrap();
                    assert_eq!((reply.status, reply.body), (Status::Ok, sent));
                }
            }));
        }
        for client in clients {
            client.await.unwrap();
        }
        let summary = server.stop().await;
        assert_eq!(
            (summary.connections, summary.frames),
            (CLIENTS as u64, (CLIENTS * FRAMES) as u64)
        );
        assert_all_returned(pool);
    })
    .await;
}

/// Swapping echo for a log append is a few lines: a sink that keeps each
/// frame (as a storage log would) and replies with its offset. The kept
/// frames stay in use until the log drops them.
#[tokio::test]
async fn a_sink_that_keeps_frames_replies_with_offsets() {
    bounded(async {
        const FRAMES: usize = 20;
        let pool = own_pool();
        let log: Arc<Mutex<Vec<PooledBuf<'static>>>> = Arc::default();
        let appender = {
            let log = Arc::clone(&log);
            move |frame: PooledBuf<'static>, reply: &mut PooledBuf<'static>| {
                let mut log = log.lock().unwrap();
                let offset = log.len() as u64;
                log.push(frame);
                reply.write_all(&offset.to_be_bytes())
            }
        };
        let server = Running::start(appender, ServerConfig::default().pool(pool)).await;
        let mut client = server.client().await;
        for index in 0..FRAMES {
            let reply = client.request(&payload(index)).await.unwrap();
            assert_eq!(
                (reply.status, reply.body),
                (Status::Ok, (index as u64).to_be_bytes().to_vec())
            );
        }
        drop(client);
        server.stop().await;
        assert_eq!(
            pool.stats().in_use,
            FRAMES as u64,
            "the log holds its frames"
        );
        for (index, frame) in log.lock().unwrap().iter().enumerate() {
            assert_eq!(&frame[..], &payload(index)[..]);
        }
        log.lock().unwrap().clear();
        assert_all_returned(pool);
    })
    .await;
}

/// The real thing: frames appended to a `takhin-log` log on disk, answered
/// with their offsets, read back from the log, and every buffer returned.
#[tokio::test]
async fn frames_are_appended_to_the_storage_log() {
    bounded(async {
        const FRAMES: usize = 50;
        let dir = tempfile::tempdir().unwrap();
        let sink = mempool_examples::log_sink::LogAppend::open(dir.path()).unwrap();
        let server = Running::start(sink.clone(), ServerConfig::default()).await;
        let mut client = server.client().await;
        for index in 0..FRAMES {
            let reply = client.request(&payload(index)).await.unwrap();
            assert_eq!(
                (reply.status, reply.body),
                (Status::Ok, (index as u64).to_be_bytes().to_vec())
            );
        }
        drop(client);
        server.stop().await;
        sink.with_log(|log| {
            log.flush().unwrap();
            assert_eq!(log.next_offset(), FRAMES as u64);
            let fetch = log.read_range(0, 1 << 20).unwrap();
            let mut count = 0;
            for (index, record) in fetch.records().enumerate() {
                let record = record.unwrap();
                assert_eq!(record.offset, index as u64);
                assert_eq!(record.value, Some(&payload(index)[..]));
                count += 1;
            }
            assert_eq!(count, FRAMES);
        });
    })
    .await;
}
