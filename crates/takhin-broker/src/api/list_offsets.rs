//! ListOffsets (key 2), v1 to v5: earliest (-2), latest (-1), or the first
//! offset at or after a timestamp, through the log's time index.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};

use crate::server::State;

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;

pub(super) fn handle(state: &State, request: ListOffsetsRequest) -> ListOffsetsResponse {
    let topics = request
        .topics
        .into_iter()
        .map(|topic| {
            let partitions = topic
                .partitions
                .into_iter()
                .map(|p| {
                    let response = ListOffsetsPartitionResponse::default()
                        .with_partition_index(p.partition_index)
                        .with_leader_epoch(-1);
                    let Some(partition) = state.topics.partition(&topic.name, p.partition_index)
                    else {
                        let code = ResponseError::UnknownTopicOrPartition.code();
                        state.metrics.error(2, code);
                        return response.with_error_code(code);
                    };
                    let log = partition.log();
                    let found = match p.timestamp {
                        LATEST => Ok(Some((log.next_offset(), -1))),
                        EARLIEST => Ok(Some((log.start_offset(), -1))),
                        timestamp => log.find_offset_by_timestamp(timestamp).and_then(|offset| {
                            // The timestamp of the record found, as Kafka answers.
                            let Some(offset) = offset else {
                                return Ok(None);
                            };
                            let record_timestamp = log.read(offset)?.and_then(|fetch| {
                                let batch = fetch.batches().next()?.ok()?;
                                let decoded = batch.decompress(mempool::global()).ok()?;
                                decoded
                                    .records()
                                    .filter_map(Result::ok)
                                    .find(|r| r.offset >= offset)
                                    .map(|r| r.timestamp)
                            });
                            Ok(Some((offset, record_timestamp.unwrap_or(timestamp))))
                        }),
                    };
                    match found {
                        Ok(Some((offset, timestamp))) => response
                            .with_offset(offset as i64)
                            .with_timestamp(timestamp),
                        Ok(None) => response.with_offset(-1).with_timestamp(-1),
                        Err(error) => {
                            eprintln!("takhin-broker: list offsets failed: {error}");
                            let code = ResponseError::KafkaStorageError.code();
                            state.metrics.error(2, code);
                            response.with_error_code(code)
                        }
                    }
                })
                .collect();
            ListOffsetsTopicResponse::default()
                .with_name(topic.name)
                .with_partitions(partitions)
        })
        .collect();
    ListOffsetsResponse::default().with_topics(topics)
}
