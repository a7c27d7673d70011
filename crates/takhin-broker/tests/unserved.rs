//! Requests the broker does not serve but `kafka-protocol` decodes, sent to
//! the broker binary on one raw connection: each gets a response that
//! decodes at the requested version with UNSUPPORTED_VERSION at the right
//! level (OffsetFetch: offset -1, no error), and the connection then still
//! answers ApiVersions. The few left without an error response close, and
//! a new connection is served.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use bytes::{Buf, Bytes, BytesMut};
use common::kafka::{connect, receive, send};
use kafka_protocol::messages::{self as m, ApiKey, GroupId, RequestHeader, TopicName};
use kafka_protocol::protocol::{Decodable, Encodable, Request, StrBytes};

const UNSUPPORTED: i16 = 35;

fn topic() -> TopicName {
    TopicName(StrBytes::from_static_str("orders"))
}

fn group() -> GroupId {
    GroupId(StrBytes::from_static_str("readers"))
}

/// Sends `request` and decodes the answer as `R` at `version`.
fn ask<Q: Encodable, R: Decodable>(
    stream: &mut TcpStream,
    key: ApiKey,
    version: i16,
    request: &Q,
) -> R {
    send(stream, key, version, request);
    let mut body = receive(stream).unwrap_or_else(|| panic!("{key:?} v{version}: closed"));
    if key.response_header_version(version) >= 1 {
        body.advance(1); // the header's empty tagged fields
    }
    let response =
        R::decode(&mut body, version).unwrap_or_else(|e| panic!("{key:?} v{version}: {e}"));
    assert!(!body.has_remaining(), "{key:?} v{version}: trailing bytes");
    response
}

/// The connection still answers ApiVersions.
fn still_serves(stream: &mut TcpStream) {
    let response: m::ApiVersionsResponse = ask(
        stream,
        ApiKey::ApiVersions,
        3,
        &m::ApiVersionsRequest::default(),
    );
    assert_eq!(response.error_code, 0);
}

/// The broker closed the connection (end of stream or reset; a read that
/// times out is a hang, not a close).
fn closed(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(n) => n == 0,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

#[test]
fn unserved_requests_get_their_error_response_and_the_connection_goes_on() {
    use m::offset_commit_request::{OffsetCommitRequestPartition, OffsetCommitRequestTopic};
    let dir = tempfile::tempdir().unwrap();
    let broker = common::Broker::start(dir.path(), &["--metrics", "127.0.0.1:0"]);
    let mut s = connect(broker.addr);

    // OffsetCommit, old (v2) and flexible (v8): per partition.
    let commit = m::OffsetCommitRequest::default()
        .with_group_id(group())
        .with_topics(vec![
            OffsetCommitRequestTopic::default()
                .with_name(topic())
                .with_partitions(vec![
                    OffsetCommitRequestPartition::default().with_partition_index(0),
                    OffsetCommitRequestPartition::default().with_partition_index(2),
                ]),
        ]);
    for version in [2, 8] {
        let r: m::OffsetCommitResponse = ask(&mut s, ApiKey::OffsetCommit, version, &commit);
        assert_eq!(r.topics[0].name, topic());
        let partitions: Vec<_> = r.topics[0]
            .partitions
            .iter()
            .map(|p| (p.partition_index, p.error_code))
            .collect();
        assert_eq!(partitions, [(0, UNSUPPORTED), (2, UNSUPPORTED)]);
        still_serves(&mut s);
    }

    // OffsetFetch v1-v7 (topics) and v8+ (groups): no committed offset.
    let fetch_old = m::OffsetFetchRequest::default()
        .with_group_id(group())
        .with_topics(Some(vec![
            m::offset_fetch_request::OffsetFetchRequestTopic::default()
                .with_name(topic())
                .with_partition_indexes(vec![0, 1]),
        ]));
    for version in [1, 7] {
        let r: m::OffsetFetchResponse = ask(&mut s, ApiKey::OffsetFetch, version, &fetch_old);
        assert_eq!(r.error_code, 0);
        let partitions: Vec<_> = r.topics[0]
            .partitions
            .iter()
            .map(|p| (p.partition_index, p.committed_offset, p.error_code))
            .collect();
        assert_eq!(partitions, [(0, -1, 0), (1, -1, 0)], "v{version}");
    }
    let fetch_new = m::OffsetFetchRequest::default().with_groups(vec![
        m::offset_fetch_request::OffsetFetchRequestGroup::default()
            .with_group_id(group())
            .with_topics(Some(vec![
                m::offset_fetch_request::OffsetFetchRequestTopics::default()
                    .with_name(topic())
                    .with_partition_indexes(vec![3]),
            ])),
    ]);
    let r: m::OffsetFetchResponse = ask(&mut s, ApiKey::OffsetFetch, 8, &fetch_new);
    assert_eq!(r.groups[0].group_id, group());
    assert_eq!(r.groups[0].error_code, 0);
    let p = &r.groups[0].topics[0].partitions[0];
    assert_eq!(
        (p.partition_index, p.committed_offset, p.error_code),
        (3, -1, 0)
    );
    still_serves(&mut s);

    // Per group.
    let describe = m::DescribeGroupsRequest::default().with_groups(vec![group()]);
    for version in [0, 5] {
        let r: m::DescribeGroupsResponse = ask(&mut s, ApiKey::DescribeGroups, version, &describe);
        assert_eq!(r.groups[0].group_id, group());
        assert_eq!(r.groups[0].error_code, UNSUPPORTED);
    }
    let delete = m::DeleteGroupsRequest::default().with_groups_names(vec![group()]);
    let r: m::DeleteGroupsResponse = ask(&mut s, ApiKey::DeleteGroups, 2, &delete);
    assert_eq!(
        (&r.results[0].group_id, r.results[0].error_code),
        (&group(), UNSUPPORTED)
    );
    let r: m::ListGroupsResponse = ask(
        &mut s,
        ApiKey::ListGroups,
        4,
        &m::ListGroupsRequest::default(),
    );
    assert_eq!(r.error_code, UNSUPPORTED);
    still_serves(&mut s);

    // Per topic.
    let create = m::CreateTopicsRequest::default().with_topics(vec![
        m::create_topics_request::CreatableTopic::default()
            .with_name(topic())
            .with_num_partitions(3)
            .with_replication_factor(1),
    ]);
    for version in [2, 5, 7] {
        let r: m::CreateTopicsResponse = ask(&mut s, ApiKey::CreateTopics, version, &create);
        assert_eq!(
            (&r.topics[0].name, r.topics[0].error_code),
            (&topic(), UNSUPPORTED)
        );
    }
    let delete = m::DeleteTopicsRequest::default().with_topic_names(vec![topic()]);
    for version in [1, 5] {
        let r: m::DeleteTopicsResponse = ask(&mut s, ApiKey::DeleteTopics, version, &delete);
        assert_eq!(r.responses[0].name, Some(topic()));
        assert_eq!(r.responses[0].error_code, UNSUPPORTED);
    }
    let delete = m::DeleteTopicsRequest::default().with_topics(vec![
        m::delete_topics_request::DeleteTopicState::default().with_name(Some(topic())),
    ]);
    let r: m::DeleteTopicsResponse = ask(&mut s, ApiKey::DeleteTopics, 6, &delete);
    assert_eq!(r.responses[0].name, Some(topic()));
    assert_eq!(r.responses[0].error_code, UNSUPPORTED);
    let partitions = m::CreatePartitionsRequest::default().with_topics(vec![
        m::create_partitions_request::CreatePartitionsTopic::default()
            .with_name(topic())
            .with_count(4),
    ]);
    for version in [0, 3] {
        let r: m::CreatePartitionsResponse =
            ask(&mut s, ApiKey::CreatePartitions, version, &partitions);
        assert_eq!(
            (&r.results[0].name, r.results[0].error_code),
            (&topic(), UNSUPPORTED)
        );
    }
    still_serves(&mut s);

    // Per partition.
    let records = m::DeleteRecordsRequest::default().with_topics(vec![
        m::delete_records_request::DeleteRecordsTopic::default()
            .with_name(topic())
            .with_partitions(vec![
                m::delete_records_request::DeleteRecordsPartition::default()
                    .with_partition_index(1)
                    .with_offset(5),
            ]),
    ]);
    for version in [0, 2] {
        let r: m::DeleteRecordsResponse = ask(&mut s, ApiKey::DeleteRecords, version, &records);
        let p = &r.topics[0].partitions[0];
        assert_eq!((p.partition_index, p.error_code), (1, UNSUPPORTED));
    }
    let epochs = m::OffsetForLeaderEpochRequest::default().with_topics(vec![
        m::offset_for_leader_epoch_request::OffsetForLeaderTopic::default()
            .with_topic(topic())
            .with_partitions(vec![
                m::offset_for_leader_epoch_request::OffsetForLeaderPartition::default()
                    .with_partition(2),
            ]),
    ]);
    for version in [2, 4] {
        let r: m::OffsetForLeaderEpochResponse =
            ask(&mut s, ApiKey::OffsetForLeaderEpoch, version, &epochs);
        assert_eq!(r.topics[0].topic, topic());
        let p = &r.topics[0].partitions[0];
        assert_eq!((p.partition, p.error_code), (2, UNSUPPORTED));
    }
    still_serves(&mut s);

    // Per config resource.
    let name = StrBytes::from_static_str("orders");
    let describe = m::DescribeConfigsRequest::default().with_resources(vec![
        m::describe_configs_request::DescribeConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(name.clone()),
    ]);
    for version in [1, 4] {
        let r: m::DescribeConfigsResponse =
            ask(&mut s, ApiKey::DescribeConfigs, version, &describe);
        let result = &r.results[0];
        assert_eq!((result.resource_type, &result.resource_name), (2, &name));
        assert_eq!(result.error_code, UNSUPPORTED);
    }
    let alter = m::AlterConfigsRequest::default().with_resources(vec![
        m::alter_configs_request::AlterConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(name.clone()),
    ]);
    for version in [0, 2] {
        let r: m::AlterConfigsResponse = ask(&mut s, ApiKey::AlterConfigs, version, &alter);
        assert_eq!(r.responses[0].resource_name, name);
        assert_eq!(r.responses[0].error_code, UNSUPPORTED);
    }
    let alter = m::IncrementalAlterConfigsRequest::default().with_resources(vec![
        m::incremental_alter_configs_request::AlterConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(name.clone()),
    ]);
    let r: m::IncrementalAlterConfigsResponse =
        ask(&mut s, ApiKey::IncrementalAlterConfigs, 1, &alter);
    assert_eq!(r.responses[0].error_code, UNSUPPORTED);
    still_serves(&mut s);

    // Top-level error codes, including served APIs at unserved versions.
    let r: m::FetchResponse = ask(&mut s, ApiKey::Fetch, 12, &m::FetchRequest::default());
    assert_eq!(r.error_code, UNSUPPORTED);
    let r: m::InitProducerIdResponse = ask(
        &mut s,
        ApiKey::InitProducerId,
        5,
        &m::InitProducerIdRequest::default(),
    );
    assert_eq!(r.error_code, UNSUPPORTED);
    let r: m::DescribeAclsResponse = ask(
        &mut s,
        ApiKey::DescribeAcls,
        3,
        &m::DescribeAclsRequest::default(),
    );
    assert_eq!(r.error_code, UNSUPPORTED);
    let r: m::DescribeLogDirsResponse = ask(
        &mut s,
        ApiKey::DescribeLogDirs,
        4,
        &m::DescribeLogDirsRequest::default(),
    );
    assert_eq!(r.error_code, UNSUPPORTED);
    let r: m::SaslHandshakeResponse = ask(
        &mut s,
        ApiKey::SaslHandshake,
        1,
        &m::SaslHandshakeRequest::default(),
    );
    assert_eq!(r.error_code, UNSUPPORTED);
    still_serves(&mut s);

    // Served APIs at unserved versions, per partition, topic or key.
    let produce = common::kafka::produce("orders", Bytes::new());
    for version in [9, 12] {
        let r: m::ProduceResponse = ask(&mut s, ApiKey::Produce, version, &produce);
        assert_eq!(r.responses[0].name, topic());
        let p = &r.responses[0].partition_responses[0];
        assert_eq!((p.index, p.error_code, p.base_offset), (0, UNSUPPORTED, -1));
    }
    let offsets = m::ListOffsetsRequest::default().with_topics(vec![
        m::list_offsets_request::ListOffsetsTopic::default()
            .with_name(topic())
            .with_partitions(vec![
                m::list_offsets_request::ListOffsetsPartition::default().with_timestamp(-1),
            ]),
    ]);
    let r: m::ListOffsetsResponse = ask(&mut s, ApiKey::ListOffsets, 6, &offsets);
    assert_eq!(r.topics[0].partitions[0].error_code, UNSUPPORTED);
    let metadata = m::MetadataRequest::default().with_topics(Some(vec![
        m::metadata_request::MetadataRequestTopic::default().with_name(Some(topic())),
    ]));
    let r: m::MetadataResponse = ask(&mut s, ApiKey::Metadata, 9, &metadata);
    assert_eq!(r.topics[0].name, Some(topic()));
    assert_eq!(r.topics[0].error_code, UNSUPPORTED);
    let coordinator = m::FindCoordinatorRequest::default()
        .with_coordinator_keys(vec![StrBytes::from_static_str("readers")]);
    let r: m::FindCoordinatorResponse = ask(&mut s, ApiKey::FindCoordinator, 4, &coordinator);
    assert_eq!(r.coordinators[0].error_code, UNSUPPORTED);
    still_serves(&mut s);

    // Transactions, ACLs, quotas, credentials, log dirs, newer describes.
    let txn = m::AddPartitionsToTxnRequest::default().with_v3_and_below_topics(vec![
        m::add_partitions_to_txn_request::AddPartitionsToTxnTopic::default()
            .with_name(topic())
            .with_partitions(vec![1]),
    ]);
    let r: m::AddPartitionsToTxnResponse = ask(&mut s, ApiKey::AddPartitionsToTxn, 3, &txn);
    let p = &r.results_by_topic_v3_and_below[0].results_by_partition[0];
    assert_eq!(
        (p.partition_index, p.partition_error_code),
        (1, UNSUPPORTED)
    );
    let r: m::AddPartitionsToTxnResponse = ask(
        &mut s,
        ApiKey::AddPartitionsToTxn,
        4,
        &m::AddPartitionsToTxnRequest::default(),
    );
    assert_eq!(r.error_code, UNSUPPORTED);
    let markers = m::WriteTxnMarkersRequest::default().with_markers(vec![
        m::write_txn_markers_request::WritableTxnMarker::default()
            .with_producer_id(m::ProducerId(9))
            .with_topics(vec![
                m::write_txn_markers_request::WritableTxnMarkerTopic::default()
                    .with_name(topic())
                    .with_partition_indexes(vec![0]),
            ]),
    ]);
    let r: m::WriteTxnMarkersResponse = ask(&mut s, ApiKey::WriteTxnMarkers, 1, &markers);
    assert_eq!(r.markers[0].producer_id, m::ProducerId(9));
    assert_eq!(r.markers[0].topics[0].partitions[0].error_code, UNSUPPORTED);
    let producers = m::DescribeProducersRequest::default().with_topics(vec![
        m::describe_producers_request::TopicRequest::default()
            .with_name(topic())
            .with_partition_indexes(vec![2]),
    ]);
    let r: m::DescribeProducersResponse = ask(&mut s, ApiKey::DescribeProducers, 0, &producers);
    let p = &r.topics[0].partitions[0];
    assert_eq!((p.partition_index, p.error_code), (2, UNSUPPORTED));
    let id = m::TransactionalId(StrBytes::from_static_str("tx"));
    let txns = m::DescribeTransactionsRequest::default().with_transactional_ids(vec![id.clone()]);
    let r: m::DescribeTransactionsResponse = ask(&mut s, ApiKey::DescribeTransactions, 0, &txns);
    let state = &r.transaction_states[0];
    assert_eq!(
        (&state.transactional_id, state.error_code),
        (&id, UNSUPPORTED)
    );
    let groups = m::ConsumerGroupDescribeRequest::default().with_group_ids(vec![group()]);
    let r: m::ConsumerGroupDescribeResponse =
        ask(&mut s, ApiKey::ConsumerGroupDescribe, 1, &groups);
    assert_eq!(
        (&r.groups[0].group_id, r.groups[0].error_code),
        (&group(), UNSUPPORTED)
    );
    let groups = m::ShareGroupDescribeRequest::default().with_group_ids(vec![group()]);
    let r: m::ShareGroupDescribeResponse = ask(&mut s, ApiKey::ShareGroupDescribe, 1, &groups);
    assert_eq!(
        (&r.groups[0].group_id, r.groups[0].error_code),
        (&group(), UNSUPPORTED)
    );
    let offsets = m::DescribeShareGroupOffsetsRequest::default().with_groups(vec![
        m::describe_share_group_offsets_request::DescribeShareGroupOffsetsRequestGroup::default()
            .with_group_id(group()),
    ]);
    let r: m::DescribeShareGroupOffsetsResponse =
        ask(&mut s, ApiKey::DescribeShareGroupOffsets, 0, &offsets);
    assert_eq!(
        (&r.groups[0].group_id, r.groups[0].error_code),
        (&group(), UNSUPPORTED)
    );
    let partitions = m::DescribeTopicPartitionsRequest::default().with_topics(vec![
        m::describe_topic_partitions_request::TopicRequest::default().with_name(topic()),
    ]);
    let r: m::DescribeTopicPartitionsResponse =
        ask(&mut s, ApiKey::DescribeTopicPartitions, 0, &partitions);
    assert_eq!(
        (&r.topics[0].name, r.topics[0].error_code),
        (&Some(topic()), UNSUPPORTED)
    );
    let elect = m::ElectLeadersRequest::default().with_topic_partitions(Some(vec![
        m::elect_leaders_request::TopicPartitions::default()
            .with_topic(topic())
            .with_partitions(vec![0]),
    ]));
    let r: m::ElectLeadersResponse = ask(&mut s, ApiKey::ElectLeaders, 0, &elect);
    let result = &r.replica_election_results[0];
    assert_eq!(
        (&result.topic, result.partition_result[0].error_code),
        (&topic(), UNSUPPORTED)
    );
    let r: m::ElectLeadersResponse = ask(&mut s, ApiKey::ElectLeaders, 2, &elect);
    assert_eq!(r.error_code, UNSUPPORTED);
    let dirs = m::AlterReplicaLogDirsRequest::default().with_dirs(vec![
        m::alter_replica_log_dirs_request::AlterReplicaLogDir::default().with_topics(vec![
            m::alter_replica_log_dirs_request::AlterReplicaLogDirTopic::default()
                .with_name(topic())
                .with_partitions(vec![0]),
        ]),
    ]);
    let r: m::AlterReplicaLogDirsResponse = ask(&mut s, ApiKey::AlterReplicaLogDirs, 2, &dirs);
    assert_eq!(r.results[0].topic_name, topic());
    assert_eq!(r.results[0].partitions[0].error_code, UNSUPPORTED);
    let acls = m::CreateAclsRequest::default().with_creations(vec![
        m::create_acls_request::AclCreation::default(),
        m::create_acls_request::AclCreation::default(),
    ]);
    for version in [1, 3] {
        let r: m::CreateAclsResponse = ask(&mut s, ApiKey::CreateAcls, version, &acls);
        let codes: Vec<_> = r.results.iter().map(|r| r.error_code).collect();
        assert_eq!(codes, [UNSUPPORTED, UNSUPPORTED]);
    }
    let acls = m::DeleteAclsRequest::default()
        .with_filters(vec![m::delete_acls_request::DeleteAclsFilter::default()]);
    let r: m::DeleteAclsResponse = ask(&mut s, ApiKey::DeleteAcls, 1, &acls);
    assert_eq!(r.filter_results[0].error_code, UNSUPPORTED);
    let quotas = m::AlterClientQuotasRequest::default().with_entries(vec![
        m::alter_client_quotas_request::EntryData::default().with_entity(vec![
            m::alter_client_quotas_request::EntityData::default()
                .with_entity_type(StrBytes::from_static_str("client-id")),
        ]),
    ]);
    for version in [0, 1] {
        let r: m::AlterClientQuotasResponse =
            ask(&mut s, ApiKey::AlterClientQuotas, version, &quotas);
        assert_eq!(r.entries[0].entity[0].entity_type.as_str(), "client-id");
        assert_eq!(r.entries[0].error_code, UNSUPPORTED);
    }
    let user = StrBytes::from_static_str("alice");
    let scram = m::AlterUserScramCredentialsRequest::default().with_deletions(vec![
        m::alter_user_scram_credentials_request::ScramCredentialDeletion::default()
            .with_name(user.clone()),
    ]);
    let r: m::AlterUserScramCredentialsResponse =
        ask(&mut s, ApiKey::AlterUserScramCredentials, 0, &scram);
    assert_eq!(
        (&r.results[0].user, r.results[0].error_code),
        (&user, UNSUPPORTED)
    );
    still_serves(&mut s);

    // No place for an error: DescribeLogDirs v1 (errors per log dir, none
    // to name), Metadata v9 for all topics, produce acks=0 at
    // an unserved version. Each closes; a new connection is served.
    send(
        &mut s,
        ApiKey::DescribeLogDirs,
        1,
        &m::DescribeLogDirsRequest::default(),
    );
    assert!(closed(&mut s));
    let mut s = connect(broker.addr);
    let all_topics = m::MetadataRequest::default().with_topics(None);
    send(&mut s, ApiKey::Metadata, 9, &all_topics);
    assert!(closed(&mut s));
    let mut s = connect(broker.addr);
    still_serves(&mut s);
    send(&mut s, ApiKey::Produce, 9, &produce.clone().with_acks(0));
    assert!(closed(&mut s));
    still_serves(&mut connect(broker.addr));

    // The three closes are counted (and logged on stderr), the answers too.
    let metrics = common::scrape(broker.metrics.expect("a metrics address"));
    let rejected = common::metric(&metrics, "takhin_broker_rejected_frames_total");
    assert_eq!(rejected, 3.0, "{metrics}");
    let errors = common::metric(&metrics, "takhin_broker_request_errors_total");
    assert!(errors >= 50.0, "{errors} error answers:\n{metrics}");

    let (status, _) = broker.stop("TERM");
    assert!(status.success());
}

/// Sends `Q::default()` at every version `kafka-protocol` knows on `stream`
/// and checks the answer: `Q::Response` at that version, or a close where
/// docs/broker.md lists one. Returns (answered, closed).
fn every_version<Q: Request + Default>(addr: SocketAddr, stream: &mut TcpStream) -> (u32, u32) {
    let key = ApiKey::try_from(Q::KEY).unwrap();
    let range = key.valid_versions();
    let (mut answered, mut closes) = (0, 0);
    for version in range.min..=range.max {
        let mut frame = BytesMut::new();
        RequestHeader::default()
            .with_request_api_key(Q::KEY)
            .with_request_api_version(version)
            .with_correlation_id(7)
            .encode(&mut frame, key.request_header_version(version))
            .unwrap();
        // kafka-protocol 0.18's ApiKey ranges run one version past its
        // OffsetCommit, OffsetFetch and InitProducerId message types: those
        // requests cannot be decoded (or, here, encoded), and close.
        let decodable = version <= Q::VERSIONS.max;
        if decodable {
            Q::default()
                .encode(&mut frame, version)
                .unwrap_or_else(|e| panic!("{key:?} v{version}: {e}"));
        }
        stream
            .write_all(&(frame.len() as i32).to_be_bytes())
            .unwrap();
        stream.write_all(&frame).unwrap();
        let expect_close = !decodable
            || match key {
                ApiKey::DescribeLogDirs => version <= 2,
                ApiKey::Metadata => (9..=12).contains(&version), // asks for no topic
                ApiKey::InitializeShareGroupState
                | ApiKey::ReadShareGroupState
                | ApiKey::WriteShareGroupState
                | ApiKey::DeleteShareGroupState
                | ApiKey::ReadShareGroupStateSummary => true,
                _ => false,
            };
        if expect_close {
            assert!(closed(stream), "{key:?} v{version}: not closed");
            *stream = connect(addr);
            closes += 1;
            continue;
        }
        let mut body = receive(stream).unwrap_or_else(|| panic!("{key:?} v{version}: closed"));
        if key.response_header_version(version) >= 1 {
            body.advance(1);
        }
        Q::Response::decode(&mut body, version)
            .unwrap_or_else(|e| panic!("{key:?} v{version}: {e}"));
        assert!(!body.has_remaining(), "{key:?} v{version}: trailing bytes");
        answered += 1;
    }
    (answered, closes)
}

#[test]
fn every_decodable_request_at_every_version_is_answered_or_closes_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let broker = common::Broker::start(dir.path(), &[]);
    let mut s = connect(broker.addr);
    let (mut answered, mut closes) = (0, 0);
    macro_rules! every {
        ($($request:ident),* $(,)?) => {$(
            let (a, c) = every_version::<m::$request>(broker.addr, &mut s);
            answered += a;
            closes += c;
        )*};
    }
    // Every request type but Produce (acks 0 by default: no answer, tested
    // above) and ApiVersions (KIP-511, tests/hostile.rs).
    every!(
        FetchRequest,
        ListOffsetsRequest,
        MetadataRequest,
        OffsetCommitRequest,
        OffsetFetchRequest,
        FindCoordinatorRequest,
        JoinGroupRequest,
        HeartbeatRequest,
        LeaveGroupRequest,
        SyncGroupRequest,
        DescribeGroupsRequest,
        ListGroupsRequest,
        SaslHandshakeRequest,
        CreateTopicsRequest,
        DeleteTopicsRequest,
        DeleteRecordsRequest,
        InitProducerIdRequest,
        OffsetForLeaderEpochRequest,
        AddPartitionsToTxnRequest,
        AddOffsetsToTxnRequest,
        EndTxnRequest,
        WriteTxnMarkersRequest,
        TxnOffsetCommitRequest,
        DescribeAclsRequest,
        CreateAclsRequest,
        DeleteAclsRequest,
        DescribeConfigsRequest,
        AlterConfigsRequest,
        AlterReplicaLogDirsRequest,
        DescribeLogDirsRequest,
        SaslAuthenticateRequest,
        CreatePartitionsRequest,
        CreateDelegationTokenRequest,
        RenewDelegationTokenRequest,
        ExpireDelegationTokenRequest,
        DescribeDelegationTokenRequest,
        DeleteGroupsRequest,
        ElectLeadersRequest,
        IncrementalAlterConfigsRequest,
        AlterPartitionReassignmentsRequest,
        ListPartitionReassignmentsRequest,
        OffsetDeleteRequest,
        DescribeClientQuotasRequest,
        AlterClientQuotasRequest,
        DescribeUserScramCredentialsRequest,
        AlterUserScramCredentialsRequest,
        VoteRequest,
        BeginQuorumEpochRequest,
        EndQuorumEpochRequest,
        DescribeQuorumRequest,
        AlterPartitionRequest,
        UpdateFeaturesRequest,
        EnvelopeRequest,
        FetchSnapshotRequest,
        DescribeClusterRequest,
        DescribeProducersRequest,
        BrokerRegistrationRequest,
        BrokerHeartbeatRequest,
        UnregisterBrokerRequest,
        DescribeTransactionsRequest,
        ListTransactionsRequest,
        AllocateProducerIdsRequest,
        ConsumerGroupHeartbeatRequest,
        ConsumerGroupDescribeRequest,
        ControllerRegistrationRequest,
        GetTelemetrySubscriptionsRequest,
        PushTelemetryRequest,
        AssignReplicasToDirsRequest,
        ListConfigResourcesRequest,
        DescribeTopicPartitionsRequest,
        ShareGroupHeartbeatRequest,
        ShareGroupDescribeRequest,
        ShareFetchRequest,
        ShareAcknowledgeRequest,
        AddRaftVoterRequest,
        RemoveRaftVoterRequest,
        UpdateRaftVoterRequest,
        InitializeShareGroupStateRequest,
        ReadShareGroupStateRequest,
        WriteShareGroupStateRequest,
        DeleteShareGroupStateRequest,
        ReadShareGroupStateSummaryRequest,
        DescribeShareGroupOffsetsRequest,
        AlterShareGroupOffsetsRequest,
        DeleteShareGroupOffsetsRequest,
    );
    eprintln!("{answered} answered, {closes} closed as documented");
    assert!(answered > 250, "{answered}");
    still_serves(&mut s);
    let (status, _) = broker.stop("TERM");
    assert!(status.success());
}
