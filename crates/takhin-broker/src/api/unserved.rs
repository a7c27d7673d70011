//! Requests the broker does not serve, but `kafka-protocol` decodes: an
//! unserved API, or a served one at a version outside [`SUPPORTED_APIS`].
//! Each gets its response at the requested version with UNSUPPORTED_VERSION
//! where the schema has a place for it: the top-level error code if there is
//! one at that version, else the code of every topic, partition, group or
//! resource the request named, echoed back.
//!
//! [`SUPPORTED_APIS`]: super::SUPPORTED_APIS

use bytes::Bytes;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::{self as m, ApiKey};

use super::{Reply, decode, encoded};
use crate::server::State;
use crate::wire::ResponseWriter;

const UNSUPPORTED: i16 = ResponseError::UnsupportedVersion.code();

/// Answers a decodable request that is not served: the error response
/// above, `Close` for a body that does not decode or a response that has no
/// place for an error at this version.
pub(super) fn answer(
    state: &State,
    key: ApiKey,
    version: i16,
    mut body: Bytes,
    correlation_id: i32,
    writer: &mut ResponseWriter,
) -> Reply {
    let header_version = key.response_header_version(version);
    // Decodes the request (the body must decode, and only the body), or closes.
    macro_rules! request {
        ($request:ty) => {
            match decode::<$request>(&mut body, version) {
                Some(request) => request,
                None => return Reply::Close("malformed request body"),
            }
        };
    }
    // Answers `$response`, counting `$code`.
    macro_rules! reply {
        ($code:expr, $response:expr) => {{
            if $code != 0 {
                state.metrics.error(key as i16, $code);
            }
            encoded(
                writer,
                correlation_id,
                header_version,
                &$response,
                version,
                Vec::new(),
            )
        }};
    }
    // The response's top-level error code, the request decoded first.
    macro_rules! top_level {
        ($request:ty, $response:ty) => {{
            let _: $request = request!($request);
            reply!(
                UNSUPPORTED,
                <$response>::default().with_error_code(UNSUPPORTED)
            )
        }};
    }
    // The error in what `$echo` makes of the decoded request.
    macro_rules! echoed {
        ($request:ty, $echo:expr) => {{
            let request = request!($request);
            reply!(UNSUPPORTED, $echo(request))
        }};
    }
    use ApiKey as K;
    match key {
        // Served APIs at versions outside the table.
        K::Produce => {
            let request = request!(m::ProduceRequest);
            if request.acks == 0 {
                // The client reads no answer; Kafka closes to signal the error.
                return Reply::Close("produce with acks=0 at an unserved version");
            }
            reply!(UNSUPPORTED, produce(request))
        }
        K::Fetch if version >= 7 => top_level!(m::FetchRequest, m::FetchResponse),
        K::ListOffsets => echoed!(m::ListOffsetsRequest, list_offsets),
        K::Metadata if version >= 13 => top_level!(m::MetadataRequest, m::MetadataResponse),
        K::Metadata => {
            let request = request!(m::MetadataRequest);
            match request.topics {
                Some(topics) if !topics.is_empty() => reply!(UNSUPPORTED, metadata(topics)),
                // All topics, or none: no place for the error.
                _ => Reply::Close("unsupported version, no error field"),
            }
        }
        K::FindCoordinator => echoed!(m::FindCoordinatorRequest, coordinators),
        K::InitProducerId => top_level!(m::InitProducerIdRequest, m::InitProducerIdResponse),

        // OffsetFetch past the served v9: v10, which kafka-protocol lists
        // but does not decode, closes here (the answer is for a later one).
        K::OffsetFetch => reply!(
            0,
            super::coordinator::offset_fetch(request!(m::OffsetFetchRequest))
        ),

        // Unserved APIs whose errors are per topic, partition, group or
        // resource.
        K::OffsetCommit => echoed!(m::OffsetCommitRequest, offset_commit),
        K::TxnOffsetCommit => echoed!(m::TxnOffsetCommitRequest, txn_offset_commit),
        K::DescribeGroups => echoed!(m::DescribeGroupsRequest, describe_groups),
        K::DeleteGroups => echoed!(m::DeleteGroupsRequest, delete_groups),
        K::CreateTopics => echoed!(m::CreateTopicsRequest, create_topics),
        K::DeleteTopics => echoed!(m::DeleteTopicsRequest, delete_topics),
        K::CreatePartitions => echoed!(m::CreatePartitionsRequest, create_partitions),
        K::DeleteRecords => echoed!(m::DeleteRecordsRequest, delete_records),
        K::OffsetForLeaderEpoch => echoed!(m::OffsetForLeaderEpochRequest, leader_epochs),
        K::DescribeConfigs => echoed!(m::DescribeConfigsRequest, describe_configs),
        K::AlterConfigs => echoed!(m::AlterConfigsRequest, alter_configs),
        K::IncrementalAlterConfigs => {
            echoed!(m::IncrementalAlterConfigsRequest, incremental_alter_configs)
        }
        K::AddPartitionsToTxn if version <= 3 => {
            echoed!(m::AddPartitionsToTxnRequest, add_partitions_to_txn)
        }
        K::WriteTxnMarkers => echoed!(m::WriteTxnMarkersRequest, write_txn_markers),
        K::DescribeProducers => echoed!(m::DescribeProducersRequest, describe_producers),
        K::DescribeTransactions => {
            echoed!(m::DescribeTransactionsRequest, describe_transactions)
        }
        K::ConsumerGroupDescribe => {
            echoed!(m::ConsumerGroupDescribeRequest, consumer_group_describe)
        }
        K::ShareGroupDescribe => echoed!(m::ShareGroupDescribeRequest, share_group_describe),
        K::DescribeShareGroupOffsets => {
            echoed!(m::DescribeShareGroupOffsetsRequest, share_group_offsets)
        }
        K::DescribeTopicPartitions => {
            echoed!(m::DescribeTopicPartitionsRequest, describe_topic_partitions)
        }
        K::ElectLeaders if version >= 1 => {
            top_level!(m::ElectLeadersRequest, m::ElectLeadersResponse)
        }
        K::ElectLeaders => echoed!(m::ElectLeadersRequest, elect_leaders),
        K::AlterReplicaLogDirs => echoed!(m::AlterReplicaLogDirsRequest, alter_log_dirs),
        K::CreateAcls => echoed!(m::CreateAclsRequest, create_acls),
        K::DeleteAcls => echoed!(m::DeleteAclsRequest, delete_acls),
        K::AlterClientQuotas => echoed!(m::AlterClientQuotasRequest, alter_client_quotas),
        K::AlterUserScramCredentials => {
            echoed!(m::AlterUserScramCredentialsRequest, alter_scram_credentials)
        }

        // Unserved APIs with a top-level error code (at this version).
        K::AddPartitionsToTxn if version >= 4 => {
            top_level!(m::AddPartitionsToTxnRequest, m::AddPartitionsToTxnResponse)
        }
        K::DescribeLogDirs if version >= 3 => {
            top_level!(m::DescribeLogDirsRequest, m::DescribeLogDirsResponse)
        }
        K::JoinGroup => top_level!(m::JoinGroupRequest, m::JoinGroupResponse),
        K::Heartbeat => top_level!(m::HeartbeatRequest, m::HeartbeatResponse),
        K::LeaveGroup => top_level!(m::LeaveGroupRequest, m::LeaveGroupResponse),
        K::SyncGroup => top_level!(m::SyncGroupRequest, m::SyncGroupResponse),
        K::ListGroups => top_level!(m::ListGroupsRequest, m::ListGroupsResponse),
        K::SaslHandshake => top_level!(m::SaslHandshakeRequest, m::SaslHandshakeResponse),
        K::SaslAuthenticate => {
            top_level!(m::SaslAuthenticateRequest, m::SaslAuthenticateResponse)
        }
        K::AddOffsetsToTxn => top_level!(m::AddOffsetsToTxnRequest, m::AddOffsetsToTxnResponse),
        K::EndTxn => top_level!(m::EndTxnRequest, m::EndTxnResponse),
        K::DescribeAcls => top_level!(m::DescribeAclsRequest, m::DescribeAclsResponse),
        K::CreateDelegationToken => top_level!(
            m::CreateDelegationTokenRequest,
            m::CreateDelegationTokenResponse
        ),
        K::RenewDelegationToken => top_level!(
            m::RenewDelegationTokenRequest,
            m::RenewDelegationTokenResponse
        ),
        K::ExpireDelegationToken => top_level!(
            m::ExpireDelegationTokenRequest,
            m::ExpireDelegationTokenResponse
        ),
        K::DescribeDelegationToken => top_level!(
            m::DescribeDelegationTokenRequest,
            m::DescribeDelegationTokenResponse
        ),
        K::AlterPartitionReassignments => top_level!(
            m::AlterPartitionReassignmentsRequest,
            m::AlterPartitionReassignmentsResponse
        ),
        K::ListPartitionReassignments => top_level!(
            m::ListPartitionReassignmentsRequest,
            m::ListPartitionReassignmentsResponse
        ),
        K::OffsetDelete => top_level!(m::OffsetDeleteRequest, m::OffsetDeleteResponse),
        K::DescribeClientQuotas => top_level!(
            m::DescribeClientQuotasRequest,
            m::DescribeClientQuotasResponse
        ),
        K::DescribeUserScramCredentials => top_level!(
            m::DescribeUserScramCredentialsRequest,
            m::DescribeUserScramCredentialsResponse
        ),
        K::Vote => top_level!(m::VoteRequest, m::VoteResponse),
        K::BeginQuorumEpoch => {
            top_level!(m::BeginQuorumEpochRequest, m::BeginQuorumEpochResponse)
        }
        K::EndQuorumEpoch => top_level!(m::EndQuorumEpochRequest, m::EndQuorumEpochResponse),
        K::DescribeQuorum => top_level!(m::DescribeQuorumRequest, m::DescribeQuorumResponse),
        K::AlterPartition => top_level!(m::AlterPartitionRequest, m::AlterPartitionResponse),
        K::UpdateFeatures => top_level!(m::UpdateFeaturesRequest, m::UpdateFeaturesResponse),
        K::Envelope => top_level!(m::EnvelopeRequest, m::EnvelopeResponse),
        K::FetchSnapshot => top_level!(m::FetchSnapshotRequest, m::FetchSnapshotResponse),
        K::DescribeCluster => top_level!(m::DescribeClusterRequest, m::DescribeClusterResponse),
        K::BrokerRegistration => {
            top_level!(m::BrokerRegistrationRequest, m::BrokerRegistrationResponse)
        }
        K::BrokerHeartbeat => top_level!(m::BrokerHeartbeatRequest, m::BrokerHeartbeatResponse),
        K::UnregisterBroker => {
            top_level!(m::UnregisterBrokerRequest, m::UnregisterBrokerResponse)
        }
        K::ListTransactions => {
            top_level!(m::ListTransactionsRequest, m::ListTransactionsResponse)
        }
        K::AllocateProducerIds => {
            top_level!(
                m::AllocateProducerIdsRequest,
                m::AllocateProducerIdsResponse
            )
        }
        K::ConsumerGroupHeartbeat => top_level!(
            m::ConsumerGroupHeartbeatRequest,
            m::ConsumerGroupHeartbeatResponse
        ),
        K::ControllerRegistration => top_level!(
            m::ControllerRegistrationRequest,
            m::ControllerRegistrationResponse
        ),
        K::GetTelemetrySubscriptions => top_level!(
            m::GetTelemetrySubscriptionsRequest,
            m::GetTelemetrySubscriptionsResponse
        ),
        K::PushTelemetry => top_level!(m::PushTelemetryRequest, m::PushTelemetryResponse),
        K::AssignReplicasToDirs => top_level!(
            m::AssignReplicasToDirsRequest,
            m::AssignReplicasToDirsResponse
        ),
        K::ListConfigResources => {
            top_level!(
                m::ListConfigResourcesRequest,
                m::ListConfigResourcesResponse
            )
        }
        K::ShareGroupHeartbeat => {
            top_level!(
                m::ShareGroupHeartbeatRequest,
                m::ShareGroupHeartbeatResponse
            )
        }
        K::ShareFetch => top_level!(m::ShareFetchRequest, m::ShareFetchResponse),
        K::ShareAcknowledge => {
            top_level!(m::ShareAcknowledgeRequest, m::ShareAcknowledgeResponse)
        }
        K::AddRaftVoter => top_level!(m::AddRaftVoterRequest, m::AddRaftVoterResponse),
        K::RemoveRaftVoter => top_level!(m::RemoveRaftVoterRequest, m::RemoveRaftVoterResponse),
        K::UpdateRaftVoter => top_level!(m::UpdateRaftVoterRequest, m::UpdateRaftVoterResponse),
        K::AlterShareGroupOffsets => top_level!(
            m::AlterShareGroupOffsetsRequest,
            m::AlterShareGroupOffsetsResponse
        ),
        K::DeleteShareGroupOffsets => top_level!(
            m::DeleteShareGroupOffsetsRequest,
            m::DeleteShareGroupOffsetsResponse
        ),
        // DescribeLogDirs v1-2 (errors per log dir, and none to name) and
        // the share-group state APIs between brokers: closed, logged, counted.
        _ => Reply::Close("unserved api without an error response here"),
    }
}

fn produce(request: m::ProduceRequest) -> m::ProduceResponse {
    use m::produce_response::{PartitionProduceResponse, TopicProduceResponse};
    let topics = request.topic_data.into_iter().map(|topic| {
        let partitions = topic.partition_data.iter().map(|p| {
            PartitionProduceResponse::default()
                .with_index(p.index)
                .with_error_code(UNSUPPORTED)
                .with_base_offset(-1)
        });
        TopicProduceResponse::default()
            .with_name(topic.name)
            .with_topic_id(topic.topic_id)
            .with_partition_responses(partitions.collect())
    });
    m::ProduceResponse::default().with_responses(topics.collect())
}

fn list_offsets(request: m::ListOffsetsRequest) -> m::ListOffsetsResponse {
    use m::list_offsets_response::{ListOffsetsPartitionResponse, ListOffsetsTopicResponse};
    let topics = request.topics.into_iter().map(|topic| {
        let partitions = topic.partitions.iter().map(|p| {
            ListOffsetsPartitionResponse::default()
                .with_partition_index(p.partition_index)
                .with_error_code(UNSUPPORTED)
        });
        ListOffsetsTopicResponse::default()
            .with_name(topic.name)
            .with_partitions(partitions.collect())
    });
    m::ListOffsetsResponse::default().with_topics(topics.collect())
}

fn metadata(topics: Vec<m::metadata_request::MetadataRequestTopic>) -> m::MetadataResponse {
    let topics = topics.into_iter().map(|topic| {
        m::metadata_response::MetadataResponseTopic::default()
            .with_name(topic.name)
            .with_topic_id(topic.topic_id)
            .with_error_code(UNSUPPORTED)
    });
    m::MetadataResponse::default().with_topics(topics.collect())
}

fn coordinators(request: m::FindCoordinatorRequest) -> m::FindCoordinatorResponse {
    let coordinators = request.coordinator_keys.into_iter().map(|key| {
        m::find_coordinator_response::Coordinator::default()
            .with_key(key)
            .with_node_id(m::BrokerId(-1))
            .with_port(-1)
            .with_error_code(UNSUPPORTED)
    });
    m::FindCoordinatorResponse::default().with_coordinators(coordinators.collect())
}

fn offset_commit(request: m::OffsetCommitRequest) -> m::OffsetCommitResponse {
    use m::offset_commit_response::{OffsetCommitResponsePartition, OffsetCommitResponseTopic};
    let topics = request.topics.into_iter().map(|topic| {
        let partitions = topic.partitions.iter().map(|p| {
            OffsetCommitResponsePartition::default()
                .with_partition_index(p.partition_index)
                .with_error_code(UNSUPPORTED)
        });
        OffsetCommitResponseTopic::default()
            .with_name(topic.name)
            .with_topic_id(topic.topic_id)
            .with_partitions(partitions.collect())
    });
    m::OffsetCommitResponse::default().with_topics(topics.collect())
}

fn txn_offset_commit(request: m::TxnOffsetCommitRequest) -> m::TxnOffsetCommitResponse {
    use m::txn_offset_commit_response::{
        TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
    };
    let topics = request.topics.into_iter().map(|topic| {
        let partitions = topic.partitions.iter().map(|p| {
            TxnOffsetCommitResponsePartition::default()
                .with_partition_index(p.partition_index)
                .with_error_code(UNSUPPORTED)
        });
        TxnOffsetCommitResponseTopic::default()
            .with_name(topic.name)
            .with_partitions(partitions.collect())
    });
    m::TxnOffsetCommitResponse::default().with_topics(topics.collect())
}

fn describe_groups(request: m::DescribeGroupsRequest) -> m::DescribeGroupsResponse {
    let groups = request.groups.into_iter().map(|group| {
        m::describe_groups_response::DescribedGroup::default()
            .with_group_id(group)
            .with_error_code(UNSUPPORTED)
    });
    m::DescribeGroupsResponse::default().with_groups(groups.collect())
}

fn delete_groups(request: m::DeleteGroupsRequest) -> m::DeleteGroupsResponse {
    let groups = request.groups_names.into_iter().map(|group| {
        m::delete_groups_response::DeletableGroupResult::default()
            .with_group_id(group)
            .with_error_code(UNSUPPORTED)
    });
    m::DeleteGroupsResponse::default().with_results(groups.collect())
}

fn create_topics(request: m::CreateTopicsRequest) -> m::CreateTopicsResponse {
    let topics = request.topics.into_iter().map(|topic| {
        m::create_topics_response::CreatableTopicResult::default()
            .with_name(topic.name)
            .with_error_code(UNSUPPORTED)
            .with_num_partitions(-1)
            .with_replication_factor(-1)
    });
    m::CreateTopicsResponse::default().with_topics(topics.collect())
}

fn delete_topics(request: m::DeleteTopicsRequest) -> m::DeleteTopicsResponse {
    use m::delete_topics_response::DeletableTopicResult;
    // v0-5 name the topics in `topic_names`, v6 in `topics`.
    let by_name = request.topic_names.into_iter().map(|name| {
        DeletableTopicResult::default()
            .with_name(Some(name))
            .with_error_code(UNSUPPORTED)
    });
    let by_state = request.topics.into_iter().map(|topic| {
        DeletableTopicResult::default()
            .with_name(topic.name)
            .with_topic_id(topic.topic_id)
            .with_error_code(UNSUPPORTED)
    });
    m::DeleteTopicsResponse::default().with_responses(by_name.chain(by_state).collect())
}

fn create_partitions(request: m::CreatePartitionsRequest) -> m::CreatePartitionsResponse {
    let topics = request.topics.into_iter().map(|topic| {
        m::create_partitions_response::CreatePartitionsTopicResult::default()
            .with_name(topic.name)
            .with_error_code(UNSUPPORTED)
    });
    m::CreatePartitionsResponse::default().with_results(topics.collect())
}

fn delete_records(request: m::DeleteRecordsRequest) -> m::DeleteRecordsResponse {
    use m::delete_records_response::{DeleteRecordsPartitionResult, DeleteRecordsTopicResult};
    let topics = request.topics.into_iter().map(|topic| {
        let partitions = topic.partitions.iter().map(|p| {
            DeleteRecordsPartitionResult::default()
                .with_partition_index(p.partition_index)
                .with_low_watermark(-1)
                .with_error_code(UNSUPPORTED)
        });
        DeleteRecordsTopicResult::default()
            .with_name(topic.name)
            .with_partitions(partitions.collect())
    });
    m::DeleteRecordsResponse::default().with_topics(topics.collect())
}

fn leader_epochs(request: m::OffsetForLeaderEpochRequest) -> m::OffsetForLeaderEpochResponse {
    use m::offset_for_leader_epoch_response::{EpochEndOffset, OffsetForLeaderTopicResult};
    let topics = request.topics.into_iter().map(|topic| {
        let partitions = topic.partitions.iter().map(|p| {
            EpochEndOffset::default()
                .with_partition(p.partition)
                .with_error_code(UNSUPPORTED)
        });
        OffsetForLeaderTopicResult::default()
            .with_topic(topic.topic)
            .with_partitions(partitions.collect())
    });
    m::OffsetForLeaderEpochResponse::default().with_topics(topics.collect())
}

fn describe_configs(request: m::DescribeConfigsRequest) -> m::DescribeConfigsResponse {
    let results = request.resources.into_iter().map(|resource| {
        m::describe_configs_response::DescribeConfigsResult::default()
            .with_resource_type(resource.resource_type)
            .with_resource_name(resource.resource_name)
            .with_error_code(UNSUPPORTED)
    });
    m::DescribeConfigsResponse::default().with_results(results.collect())
}

fn alter_configs(request: m::AlterConfigsRequest) -> m::AlterConfigsResponse {
    let results = request.resources.into_iter().map(|resource| {
        m::alter_configs_response::AlterConfigsResourceResponse::default()
            .with_resource_type(resource.resource_type)
            .with_resource_name(resource.resource_name)
            .with_error_code(UNSUPPORTED)
    });
    m::AlterConfigsResponse::default().with_responses(results.collect())
}

fn incremental_alter_configs(
    request: m::IncrementalAlterConfigsRequest,
) -> m::IncrementalAlterConfigsResponse {
    let results = request.resources.into_iter().map(|resource| {
        m::incremental_alter_configs_response::AlterConfigsResourceResponse::default()
            .with_resource_type(resource.resource_type)
            .with_resource_name(resource.resource_name)
            .with_error_code(UNSUPPORTED)
    });
    m::IncrementalAlterConfigsResponse::default().with_responses(results.collect())
}

fn add_partitions_to_txn(request: m::AddPartitionsToTxnRequest) -> m::AddPartitionsToTxnResponse {
    use m::add_partitions_to_txn_response::{
        AddPartitionsToTxnPartitionResult, AddPartitionsToTxnTopicResult,
    };
    let topics = request.v3_and_below_topics.into_iter().map(|topic| {
        let partitions = topic.partitions.iter().map(|&index| {
            AddPartitionsToTxnPartitionResult::default()
                .with_partition_index(index)
                .with_partition_error_code(UNSUPPORTED)
        });
        AddPartitionsToTxnTopicResult::default()
            .with_name(topic.name)
            .with_results_by_partition(partitions.collect())
    });
    m::AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(topics.collect())
}

fn write_txn_markers(request: m::WriteTxnMarkersRequest) -> m::WriteTxnMarkersResponse {
    use m::write_txn_markers_response as r;
    let markers = request.markers.into_iter().map(|marker| {
        let topics = marker.topics.into_iter().map(|topic| {
            let partitions = topic.partition_indexes.iter().map(|&index| {
                r::WritableTxnMarkerPartitionResult::default()
                    .with_partition_index(index)
                    .with_error_code(UNSUPPORTED)
            });
            r::WritableTxnMarkerTopicResult::default()
                .with_name(topic.name)
                .with_partitions(partitions.collect())
        });
        r::WritableTxnMarkerResult::default()
            .with_producer_id(marker.producer_id)
            .with_topics(topics.collect())
    });
    m::WriteTxnMarkersResponse::default().with_markers(markers.collect())
}

fn describe_producers(request: m::DescribeProducersRequest) -> m::DescribeProducersResponse {
    use m::describe_producers_response::{PartitionResponse, TopicResponse};
    let topics = request.topics.into_iter().map(|topic| {
        let partitions = topic.partition_indexes.iter().map(|&index| {
            PartitionResponse::default()
                .with_partition_index(index)
                .with_error_code(UNSUPPORTED)
        });
        TopicResponse::default()
            .with_name(topic.name)
            .with_partitions(partitions.collect())
    });
    m::DescribeProducersResponse::default().with_topics(topics.collect())
}

fn describe_transactions(
    request: m::DescribeTransactionsRequest,
) -> m::DescribeTransactionsResponse {
    let states = request.transactional_ids.into_iter().map(|id| {
        m::describe_transactions_response::TransactionState::default()
            .with_transactional_id(id)
            .with_error_code(UNSUPPORTED)
    });
    m::DescribeTransactionsResponse::default().with_transaction_states(states.collect())
}

fn consumer_group_describe(
    request: m::ConsumerGroupDescribeRequest,
) -> m::ConsumerGroupDescribeResponse {
    let groups = request.group_ids.into_iter().map(|group| {
        m::consumer_group_describe_response::DescribedGroup::default()
            .with_group_id(group)
            .with_error_code(UNSUPPORTED)
    });
    m::ConsumerGroupDescribeResponse::default().with_groups(groups.collect())
}

fn share_group_describe(request: m::ShareGroupDescribeRequest) -> m::ShareGroupDescribeResponse {
    let groups = request.group_ids.into_iter().map(|group| {
        m::share_group_describe_response::DescribedGroup::default()
            .with_group_id(group)
            .with_error_code(UNSUPPORTED)
    });
    m::ShareGroupDescribeResponse::default().with_groups(groups.collect())
}

fn share_group_offsets(
    request: m::DescribeShareGroupOffsetsRequest,
) -> m::DescribeShareGroupOffsetsResponse {
    let groups = request.groups.into_iter().map(|group| {
        m::describe_share_group_offsets_response::DescribeShareGroupOffsetsResponseGroup::default()
            .with_group_id(group.group_id)
            .with_error_code(UNSUPPORTED)
    });
    m::DescribeShareGroupOffsetsResponse::default().with_groups(groups.collect())
}

fn describe_topic_partitions(
    request: m::DescribeTopicPartitionsRequest,
) -> m::DescribeTopicPartitionsResponse {
    let topics = request.topics.into_iter().map(|topic| {
        m::describe_topic_partitions_response::DescribeTopicPartitionsResponseTopic::default()
            .with_name(Some(topic.name))
            .with_error_code(UNSUPPORTED)
    });
    m::DescribeTopicPartitionsResponse::default().with_topics(topics.collect())
}

/// v0 (v1+ have a top-level code).
fn elect_leaders(request: m::ElectLeadersRequest) -> m::ElectLeadersResponse {
    use m::elect_leaders_response::{PartitionResult, ReplicaElectionResult};
    let topics = request.topic_partitions.unwrap_or_default().into_iter();
    let results = topics.map(|topic| {
        let partitions = topic.partitions.iter().map(|&id| {
            PartitionResult::default()
                .with_partition_id(id)
                .with_error_code(UNSUPPORTED)
        });
        ReplicaElectionResult::default()
            .with_topic(topic.topic)
            .with_partition_result(partitions.collect())
    });
    m::ElectLeadersResponse::default().with_replica_election_results(results.collect())
}

fn alter_log_dirs(request: m::AlterReplicaLogDirsRequest) -> m::AlterReplicaLogDirsResponse {
    use m::alter_replica_log_dirs_response::{
        AlterReplicaLogDirPartitionResult, AlterReplicaLogDirTopicResult,
    };
    let topics = request.dirs.into_iter().flat_map(|dir| dir.topics);
    let results = topics.map(|topic| {
        let partitions = topic.partitions.iter().map(|&index| {
            AlterReplicaLogDirPartitionResult::default()
                .with_partition_index(index)
                .with_error_code(UNSUPPORTED)
        });
        AlterReplicaLogDirTopicResult::default()
            .with_topic_name(topic.name)
            .with_partitions(partitions.collect())
    });
    m::AlterReplicaLogDirsResponse::default().with_results(results.collect())
}

/// One result per creation, in order (the response names nothing).
fn create_acls(request: m::CreateAclsRequest) -> m::CreateAclsResponse {
    let results = request.creations.iter().map(|_| {
        m::create_acls_response::AclCreationResult::default().with_error_code(UNSUPPORTED)
    });
    m::CreateAclsResponse::default().with_results(results.collect())
}

/// One result per filter, in order.
fn delete_acls(request: m::DeleteAclsRequest) -> m::DeleteAclsResponse {
    let results = request.filters.iter().map(|_| {
        m::delete_acls_response::DeleteAclsFilterResult::default().with_error_code(UNSUPPORTED)
    });
    m::DeleteAclsResponse::default().with_filter_results(results.collect())
}

fn alter_client_quotas(request: m::AlterClientQuotasRequest) -> m::AlterClientQuotasResponse {
    use m::alter_client_quotas_response::{EntityData, EntryData};
    let entries = request.entries.into_iter().map(|entry| {
        let entity = entry.entity.into_iter().map(|e| {
            EntityData::default()
                .with_entity_type(e.entity_type)
                .with_entity_name(e.entity_name)
        });
        EntryData::default()
            .with_entity(entity.collect())
            .with_error_code(UNSUPPORTED)
    });
    m::AlterClientQuotasResponse::default().with_entries(entries.collect())
}

fn alter_scram_credentials(
    request: m::AlterUserScramCredentialsRequest,
) -> m::AlterUserScramCredentialsResponse {
    let deleted = request.deletions.into_iter().map(|d| d.name);
    let upserted = request.upsertions.into_iter().map(|u| u.name);
    let results = deleted.chain(upserted).map(|user| {
        m::alter_user_scram_credentials_response::AlterUserScramCredentialsResult::default()
            .with_user(user)
            .with_error_code(UNSUPPORTED)
    });
    m::AlterUserScramCredentialsResponse::default().with_results(results.collect())
}
