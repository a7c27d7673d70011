//! Hostile frames against the broker binary: each gets Kafka's answer (an
//! error code where the protocol has one, a closed connection where Kafka
//! closes too), and the broker keeps serving other connections. Unserved
//! APIs get UNSUPPORTED_VERSION where their response has a place for it
//! (every such API: `tests/unserved.rs`).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use bytes::{Bytes, BytesMut};
use common::kafka::{a_batch, connect, create_topic, produce, receive, send};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, DescribeGroupsRequest, DescribeGroupsResponse,
    GroupId, HeartbeatRequest, HeartbeatResponse, JoinGroupRequest, JoinGroupResponse,
    ProduceResponse, RequestHeader,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

/// The broker closed the connection (end of stream or reset; a read that
/// times out is a hang, not a close).
fn closed(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(n) => n == 0,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

/// ApiVersions v3 on a fresh connection: the broker still serves.
fn serves(addr: SocketAddr) {
    let mut stream = connect(addr);
    send(
        &mut stream,
        ApiKey::ApiVersions,
        3,
        &ApiVersionsRequest::default(),
    );
    let mut body = receive(&mut stream).expect("an answer");
    let response = ApiVersionsResponse::decode(&mut body, 3).unwrap();
    assert_eq!(response.error_code, 0);
}

fn produce_error(stream: &mut TcpStream, batch: Vec<u8>) -> (i16, i64) {
    send(
        stream,
        ApiKey::Produce,
        8,
        &produce("hostile", Bytes::from(batch)),
    );
    let mut body = receive(stream).expect("a produce answer");
    let response = ProduceResponse::decode(&mut body, 8).unwrap();
    let partition = &response.responses[0].partition_responses[0];
    (partition.error_code, partition.base_offset)
}

#[test]
fn hostile_frames_get_kafkas_answer_and_the_broker_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let broker = common::Broker::start(
        dir.path(),
        &["--max-request-size", "1MiB", "--max-request-memory", "4MiB"],
    );
    let addr = broker.addr;

    // Create the topic, then a good batch, a bad CRC, a torn batch, a bad
    // count: each on the same connection, which stays usable.
    create_topic(addr, "hostile");
    let mut stream = connect(addr);
    let good = a_batch();
    assert_eq!(produce_error(&mut stream, good.clone()), (0, 0));
    let mut bad_crc = good.clone();
    *bad_crc.last_mut().unwrap() ^= 0x40;
    assert_eq!(produce_error(&mut stream, bad_crc).0, 2, "CORRUPT_MESSAGE");
    assert_eq!(
        produce_error(&mut stream, good[..good.len() - 3].to_vec()).0,
        2,
        "torn batch"
    );
    let mut bad_magic = good.clone();
    bad_magic[16] = 1;
    assert_eq!(produce_error(&mut stream, bad_magic).0, 2, "magic 1");
    assert_eq!(
        produce_error(&mut stream, good.clone()),
        (0, 2),
        "offsets go on"
    );

    // A too-new ApiVersions: UNSUPPORTED_VERSION and our list, in v0 (KIP-511).
    let mut stream = connect(addr);
    send(
        &mut stream,
        ApiKey::ApiVersions,
        3,
        &ApiVersionsRequest::default(),
    );
    let mut frame = BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(18)
        .with_request_api_version(9)
        .with_correlation_id(7)
        .encode(&mut frame, 2)
        .unwrap();
    frame.extend_from_slice(&[0, 0, 0]); // tagged fields and whatever a v9 body holds
    receive(&mut stream).unwrap();
    stream
        .write_all(&(frame.len() as i32).to_be_bytes())
        .unwrap();
    stream.write_all(&frame).unwrap();
    let mut body = receive(&mut stream).expect("a v0 answer");
    let response = ApiVersionsResponse::decode(&mut body, 0).unwrap();
    assert_eq!(response.error_code, 35);
    assert!(
        response
            .api_keys
            .iter()
            .any(|k| k.api_key == 0 && k.max_version == 8)
    );
    serves(addr);

    // An API the broker does not serve, with a top-level error code:
    // UNSUPPORTED_VERSION at the requested version, flexible or not.
    let mut stream = connect(addr);
    send(
        &mut stream,
        ApiKey::JoinGroup,
        5,
        &JoinGroupRequest::default(),
    );
    let mut body = receive(&mut stream).expect("a join group answer");
    assert_eq!(
        JoinGroupResponse::decode(&mut body, 5).unwrap().error_code,
        35
    );
    send(
        &mut stream,
        ApiKey::Heartbeat,
        4,
        &HeartbeatRequest::default(),
    );
    // Response header v1: the correlation id, then no tagged fields.
    let mut body = receive(&mut stream).expect("a heartbeat answer").slice(1..);
    assert_eq!(
        HeartbeatResponse::decode(&mut body, 4).unwrap().error_code,
        35
    );
    // Per-group codes only (DescribeGroups): each group named gets it.
    let group = GroupId(StrBytes::from_static_str("g"));
    send(
        &mut stream,
        ApiKey::DescribeGroups,
        1,
        &DescribeGroupsRequest::default().with_groups(vec![group.clone()]),
    );
    let mut body = receive(&mut stream).expect("a describe groups answer");
    let groups = DescribeGroupsResponse::decode(&mut body, 1).unwrap().groups;
    assert_eq!((&groups[0].group_id, groups[0].error_code), (&group, 35));
    // A version kafka-protocol cannot decode (OffsetCommit v0 and v1 are
    // below its range): closed, as Kafka closes an unsupported version.
    send(
        &mut stream,
        ApiKey::Heartbeat,
        0,
        &HeartbeatRequest::default(),
    );
    receive(&mut stream).expect("a heartbeat v0 answer");
    stream
        .write_all(&[&8i32.to_be_bytes()[..], &[0, 8, 0, 1, 0, 0, 0, 7]].concat())
        .unwrap();
    assert!(closed(&mut stream));

    // Frames with no error response in the protocol close the connection,
    // as Kafka closes it; the others keep working.
    let hostile: [(&str, Vec<u8>); 6] = [
        ("huge length prefix", i32::MAX.to_be_bytes().to_vec()),
        ("negative length", (-5i32).to_be_bytes().to_vec()),
        (
            "frame above --max-request-size",
            (2i32 << 20).to_be_bytes().to_vec(),
        ),
        (
            "shorter than a header",
            [&4i32.to_be_bytes()[..], &[0, 18, 0, 0]].concat(),
        ),
        (
            "unknown api key",
            [&8i32.to_be_bytes()[..], &[0x27, 0x0f, 0, 0, 0, 0, 0, 7]].concat(),
        ),
        (
            "produce v99",
            [&8i32.to_be_bytes()[..], &[0, 0, 0, 99, 0, 0, 0, 7]].concat(),
        ),
    ];
    for (what, bytes) in hostile {
        let mut stream = connect(addr);
        stream.write_all(&bytes).unwrap();
        assert!(closed(&mut stream), "{what}: still open");
        serves(addr);
    }

    // A truncated frame: the peer goes away mid-frame; its buffer returns.
    let mut stream = connect(addr);
    stream.write_all(&100i32.to_be_bytes()).unwrap();
    stream.write_all(&[0, 18, 0, 3, 0]).unwrap();
    drop(stream);
    serves(addr);

    let (status, _) = broker.stop("TERM");
    assert!(status.success());
}
