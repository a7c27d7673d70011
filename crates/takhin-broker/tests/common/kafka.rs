//! Speaking the protocol from the tests, with `kafka-protocol`'s client side.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, MetadataRequest, MetadataResponse, ProduceRequest, RequestHeader, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use takhin_log::{Log, LogConfig, Record};

pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    // The prefix and the frame go in two writes: without this, Nagle holds
    // the second until the broker's delayed ACK (40 ms a request).
    stream.set_nodelay(true).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

pub fn send<T: Encodable>(stream: &mut TcpStream, key: ApiKey, version: i16, body: &T) {
    let header = RequestHeader::default()
        .with_request_api_key(key as i16)
        .with_request_api_version(version)
        .with_correlation_id(7)
        .with_client_id(Some(StrBytes::from_static_str("hostile")));
    let mut frame = BytesMut::new();
    header
        .encode(&mut frame, key.request_header_version(version))
        .unwrap();
    body.encode(&mut frame, version).unwrap();
    stream
        .write_all(&(frame.len() as i32).to_be_bytes())
        .unwrap();
    stream.write_all(&frame).unwrap();
}

/// The response body after the correlation id (header v0) or `None` if the
/// broker closed the connection.
pub fn receive(stream: &mut TcpStream) -> Option<Bytes> {
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).ok()?;
    let mut frame = vec![0u8; i32::from_be_bytes(size) as usize];
    stream.read_exact(&mut frame).unwrap();
    assert_eq!(frame[..4], 7i32.to_be_bytes(), "correlation id");
    Some(Bytes::from(frame).slice(4..))
}

/// A produce request for partition 0 of `topic` with `batch` as its records.
pub fn produce(topic: &str, batch: Bytes) -> ProduceRequest {
    let partition = PartitionProduceData::default()
        .with_index(0)
        .with_records(Some(batch));
    let topic = TopicProduceData::default()
        .with_name(TopicName(StrBytes::from_string(topic.into())))
        .with_partition_data(vec![partition]);
    ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(1000)
        .with_topic_data(vec![topic])
}

/// A two-record v2 batch, base offset 0.
pub fn a_batch() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), LogConfig::default()).unwrap();
    log.append_batch(&[
        Record::new(1, Some(b"k"), Some(b"v")),
        Record::new(2, None, Some(b"w")),
    ])
    .unwrap();
    log.read(0).unwrap().unwrap().bytes().to_vec()
}

/// Creates `topic` through Metadata (auto-creation).
pub fn create_topic(addr: SocketAddr, topic: &str) {
    let mut stream = connect(addr);
    let name = TopicName(StrBytes::from_string(topic.into()));
    let request = MetadataRequest::default()
        .with_topics(Some(vec![
            MetadataRequestTopic::default().with_name(Some(name)),
        ]))
        .with_allow_auto_topic_creation(true);
    send(&mut stream, ApiKey::Metadata, 8, &request);
    let mut body = receive(&mut stream).expect("a metadata answer");
    assert_eq!(
        MetadataResponse::decode(&mut body, 8).unwrap().topics[0].error_code,
        0
    );
}
