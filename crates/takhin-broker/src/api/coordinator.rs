//! FindCoordinator (key 10) and InitProducerId (key 22): what the clients
//! need with their default settings, though the broker runs no groups and
//! no transactions. librdkafka enables LZ4 only when FindCoordinator is
//! advertised and then asks it every second; kafka-python 3 turns
//! idempotence on by default and asks for a producer id. The broker is its
//! own coordinator, and hands out producer ids without deduplicating.

use std::sync::atomic::Ordering;

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
