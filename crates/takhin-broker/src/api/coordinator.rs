//! FindCoordinator (key 10), InitProducerId (key 22) and OffsetFetch (key 9):
//! what the clients need with their default settings, though the broker runs
//! no groups and no transactions. librdkafka enables LZ4 only when
//! FindCoordinator is advertised and then asks it every second; kafka-python
//! 3 turns idempotence on by default and asks for a producer id; librdkafka
//! 2.16 crashes (SIGSEGV) when a consumer with a `group.id` is assigned a
//! partition without an offset and OffsetFetch is not advertised. The broker
//! is its own coordinator, hands out producer ids without deduplicating, and
//! has no committed offsets.

use std::sync::atomic::Ordering;

use kafka_protocol::messages as m;
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{
    BrokerId, FindCoordinatorRequest, FindCoordinatorResponse, InitProducerIdResponse, ProducerId,
};
use kafka_protocol::protocol::StrBytes;

use crate::server::State;

/// This broker, as the coordinator of any key.
pub(super) fn find(
    state: &State,
    request: FindCoordinatorRequest,
    version: i16,
) -> FindCoordinatorResponse {
    let host = StrBytes::from_string(state.advertised.ip().to_string());
    let port = i32::from(state.advertised.port());
    let response = FindCoordinatorResponse::default()
        .with_node_id(BrokerId(0))
        .with_host(host.clone())
        .with_port(port);
    if version < 4 {
        return response;
    }
    let coordinators = request
        .coordinator_keys
        .into_iter()
        .map(|key| {
            Coordinator::default()
                .with_key(key)
                .with_node_id(BrokerId(0))
                .with_host(host.clone())
                .with_port(port)
        })
        .collect();
    response.with_coordinators(coordinators)
}

/// A fresh producer id, epoch 0.
pub(super) fn init_producer_id(state: &State) -> InitProducerIdResponse {
    let id = state.next_producer_id.fetch_add(1, Ordering::Relaxed);
    InitProducerIdResponse::default()
        .with_producer_id(ProducerId(id))
        .with_producer_epoch(0)
}

/// What Kafka answers for a group without committed offsets: offset -1,
/// empty metadata, no error, for each partition asked about.
pub(super) fn offset_fetch(request: m::OffsetFetchRequest) -> m::OffsetFetchResponse {
    use m::offset_fetch_response as r;
    let topics = request.topics.unwrap_or_default().into_iter().map(|topic| {
        let partitions = topic.partition_indexes.iter().map(|&index| {
            r::OffsetFetchResponsePartition::default()
                .with_partition_index(index)
                .with_committed_offset(-1)
                .with_committed_leader_epoch(-1)
                .with_metadata(Some(StrBytes::default()))
        });
        r::OffsetFetchResponseTopic::default()
            .with_name(topic.name)
            .with_partitions(partitions.collect())
    });
    let groups = request.groups.into_iter().map(|group| {
        let topics = group.topics.unwrap_or_default().into_iter().map(|topic| {
            let partitions = topic.partition_indexes.iter().map(|&index| {
                r::OffsetFetchResponsePartitions::default()
                    .with_partition_index(index)
                    .with_committed_offset(-1)
                    .with_committed_leader_epoch(-1)
                    .with_metadata(Some(StrBytes::default()))
            });
            r::OffsetFetchResponseTopics::default()
                .with_name(topic.name)
                .with_topic_id(topic.topic_id)
                .with_partitions(partitions.collect())
        });
        r::OffsetFetchResponseGroup::default()
            .with_group_id(group.group_id)
            .with_topics(topics.collect())
    });
    m::OffsetFetchResponse::default()
        .with_topics(topics.collect())
        .with_groups(groups.collect())
}
