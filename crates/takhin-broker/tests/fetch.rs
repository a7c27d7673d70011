//! Fetch semantics against the broker binary: KIP-74 (the first batch comes
//! whole even above the limits, later partitions stay within them), the
//! long poll (woken by an append, or ending at max_wait_ms), offsets out of
//! range and unknown partitions; and acks=0 answering nothing.

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::kafka::{a_batch, connect, create_topic, produce, receive, send};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, FetchRequest, FetchResponse, TopicName,
};
use kafka_protocol::protocol::{Decodable, StrBytes};

fn fetch(
    topic: &str,
    partitions: &[(i32, i64)],
    max_bytes: i32,
    partition_max: i32,
    wait_ms: i32,
) -> FetchRequest {
    let partitions = partitions
        .iter()
        .map(|&(partition, offset)| {
            FetchPartition::default()
                .with_partition(partition)
                .with_fetch_offset(offset)
                .with_partition_max_bytes(partition_max)
        })
        .collect();
    let topic = FetchTopic::default()
        .with_topic(TopicName(StrBytes::from_string(topic.into())))
        .with_partitions(partitions);
    FetchRequest::default()
        .with_max_wait_ms(wait_ms)
        .with_min_bytes(1)
        .with_max_bytes(max_bytes)
        .with_topics(vec![topic])
}

fn answer(stream: &mut std::net::TcpStream, request: &FetchRequest) -> FetchResponse {
    send(stream, ApiKey::Fetch, 11, request);
    let mut body = receive(stream).expect("a fetch answer");
    FetchResponse::decode(&mut body, 11).unwrap()
}

fn records(response: &FetchResponse, index: usize) -> usize {
    let partition = &response.responses[0].partitions[index];
    assert_eq!(partition.error_code, 0, "partition {index}");
    partition.records.as_ref().map_or(0, Bytes::len)
}

#[test]
fn fetch_follows_kip_74_long_polls_and_reports_errors() {
    let dir = tempfile::tempdir().unwrap();
    let broker = common::Broker::start(dir.path(), &["--partitions", "2"]);
    let addr = broker.addr;
    create_topic(addr, "f");
    let batch = a_batch();
    let mut producer = connect(addr);
    for partition in [0, 1] {
        for _ in 0..3 {
            let mut request = produce("f", Bytes::from(batch.clone()));
            request.topic_data[0].partition_data[0].index = partition;
            send(&mut producer, ApiKey::Produce, 8, &request);
            receive(&mut producer).unwrap();
        }
    }
    let mut consumer = connect(addr);
    let one = batch.len();

    // Limits of 1 byte: the first partition still gets its first batch whole,
    // the second nothing.
    let response = answer(&mut consumer, &fetch("f", &[(0, 0), (1, 0)], 1, 1, 0));
    assert_eq!((records(&response, 0), records(&response, 1)), (one, 0));
    assert_eq!(response.session_id, 0);
    assert_eq!(response.responses[0].partitions[0].high_watermark, 6);
    // Room for two batches in total, partitions at most three each.
    let response = answer(
        &mut consumer,
        &fetch("f", &[(0, 0), (1, 2)], 2 * one as i32, 3 * one as i32, 0),
    );
    assert_eq!((records(&response, 0), records(&response, 1)), (2 * one, 0));
    let response = answer(
        &mut consumer,
        &fetch("f", &[(0, 2), (1, 2)], 1 << 20, 1 << 20, 0),
    );
    assert_eq!(
        (records(&response, 0), records(&response, 1)),
        (2 * one, 2 * one)
    );

    // Out of range, and an unknown partition.
    let response = answer(&mut consumer, &fetch("f", &[(0, 7)], 1 << 20, 1 << 20, 0));
    assert_eq!(
        response.responses[0].partitions[0].error_code, 1,
        "OFFSET_OUT_OF_RANGE"
    );
    let response = answer(&mut consumer, &fetch("f", &[(9, 0)], 1 << 20, 1 << 20, 0));
    assert_eq!(
        response.responses[0].partitions[0].error_code, 3,
        "UNKNOWN_TOPIC_OR_PARTITION"
    );

    // At the end, the fetch waits for max_wait_ms...
    let started = Instant::now();
    let response = answer(&mut consumer, &fetch("f", &[(0, 6)], 1 << 20, 1 << 20, 300));
    assert_eq!(records(&response, 0), 0);
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    // ...unless an append wakes it.
    let appender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        send(
            &mut producer,
            ApiKey::Produce,
            8,
            &produce("f", Bytes::from(batch)),
        );
        receive(&mut producer).unwrap();
    });
    let started = Instant::now();
    let response = answer(
        &mut consumer,
        &fetch("f", &[(0, 6)], 1 << 20, 1 << 20, 10_000),
    );
    assert_eq!(records(&response, 0), one);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    appender.join().unwrap();

    // acks=0: no answer at all; the next answer on the connection is the
    // next request's, and the batch is in the log.
    let mut fire_and_forget = connect(addr);
    let batch = common::kafka::a_batch();
    send(
        &mut fire_and_forget,
        ApiKey::Produce,
        8,
        &produce("f", Bytes::from(batch)).with_acks(0),
    );
    send(
        &mut fire_and_forget,
        ApiKey::ApiVersions,
        3,
        &ApiVersionsRequest::default(),
    );
    let mut body = receive(&mut fire_and_forget).expect("the ApiVersions answer");
    assert_eq!(
        ApiVersionsResponse::decode(&mut body, 3)
            .unwrap()
            .error_code,
        0
    );
    let response = answer(&mut consumer, &fetch("f", &[(0, 8)], 1 << 20, 1 << 20, 0));
    assert_eq!(response.responses[0].partitions[0].high_watermark, 10);

    let (status, _) = broker.stop("TERM");
    assert!(status.success());
}
