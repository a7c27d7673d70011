//! Metadata (key 3), v0 to v8: this broker as the only node, leader of every
//! partition; requested topics are created on first use.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use crate::server::State;
use crate::topics::{Topic, valid_topic_name};

/// The cluster id reported from v2 on.
pub const CLUSTER_ID: &str = "takhin-broker";

pub(super) fn handle(state: &State, request: MetadataRequest, version: i16) -> MetadataResponse {
    let broker = MetadataResponseBroker::default()
        .with_node_id(BrokerId(0))
        .with_host(StrBytes::from_string(state.advertised.ip().to_string()))
        .with_port(i32::from(state.advertised.port()));
    // v0: an empty list means all topics; v1+: null does.
    let requested = match request.topics {
        Some(topics) if !(version == 0 && topics.is_empty()) => Some(topics),
        _ => None,
    };
    let topics = match requested {
        None => state
            .topics
            .all()
            .into_iter()
            .map(|(name, topic)| describe(StrBytes::from_string(name), Ok(&topic)))
            .collect(),
        Some(requested) => requested
            .into_iter()
            .filter_map(|t| t.name)
            .map(|name| {
                let name = name.0;
                let found = if !valid_topic_name(&name) {
                    Err(ResponseError::InvalidTopicException)
                } else if request.allow_auto_topic_creation {
                    state.topics.get_or_create(&name).map_err(|error| {
                        eprintln!("takhin-broker: cannot create topic {name}: {error}");
                        ResponseError::KafkaStorageError
                    })
                } else {
                    state
                        .topics
                        .get(&name)
                        .ok_or(ResponseError::UnknownTopicOrPartition)
                };
                if let Err(error) = &found {
                    state.metrics.error(3, error.code());
                }
                describe(name, found.as_ref().map_err(|e| *e))
            })
            .collect(),
    };
    MetadataResponse::default()
        .with_brokers(vec![broker])
        .with_cluster_id(Some(StrBytes::from_static_str(CLUSTER_ID)))
        .with_controller_id(BrokerId(0))
        .with_topics(topics)
}

fn describe(name: StrBytes, topic: Result<&Topic, ResponseError>) -> MetadataResponseTopic {
    let response = MetadataResponseTopic::default().with_name(Some(TopicName(name)));
    let topic = match topic {
        Ok(topic) => topic,
        Err(error) => return response.with_error_code(error.code()),
    };
    let partitions = (0..topic.len() as i32)
        .map(|index| {
            MetadataResponsePartition::default()
                .with_partition_index(index)
                .with_leader_id(BrokerId(0))
                // No epochs: clients then skip KIP-320 offset validation.
                .with_leader_epoch(-1)
                .with_replica_nodes(vec![BrokerId(0)])
                .with_isr_nodes(vec![BrokerId(0)])
        })
        .collect();
    response.with_partitions(partitions)
}
