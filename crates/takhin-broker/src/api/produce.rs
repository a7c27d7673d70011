//! Produce (key 0), v3 to v8: each partition's record set is checked batch
//! by batch (magic 2, CRC-32C, lengths, record count) and appended as it
//! came, compressed or not, with only its base offset rewritten
//! ([`takhin_log::Log::append_raw`]).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};
use takhin_log::{BatchRef, LOG_OVERHEAD, LogError};

use crate::server::State;
use crate::topics::Partition;

/// Appends every partition's batches; `None` for acks=0 (no response).
pub(super) fn handle(state: &State, request: ProduceRequest) -> Option<ProduceResponse> {
    let acks_valid = (-1..=1).contains(&request.acks);
    let mut appended = false;
    let responses = request
        .topic_data
        .into_iter()
        .map(|topic| {
            let partitions = topic
                .partition_data
                .into_iter()
                .map(|data| {
                    let partition = state.topics.partition(&topic.name, data.index);
                    let result = match (&partition, acks_valid) {
                        (_, false) => Err(ResponseError::InvalidRequiredAcks),
                        (None, true) => Err(ResponseError::UnknownTopicOrPartition),
                        (Some(partition), true) => {
                            append(partition, data.records.as_deref().unwrap_or_default())
                        }
                    };
                    let response = PartitionProduceResponse::default().with_index(data.index);
                    match result {
                        Ok((base_offset, log_start)) => {
                            appended = true;
                            response
                                .with_base_offset(base_offset as i64)
                                .with_log_start_offset(log_start as i64)
                        }
                        Err(error) => {
                            state.metrics.error(0, error.code());
                            response.with_error_code(error.code()).with_base_offset(-1)
                        }
                    }
                })
                .collect();
            TopicProduceResponse::default()
                .with_name(topic.name)
                .with_partition_responses(partitions)
        })
        .collect();
    if appended {
        state.topics.notify_append();
    }
    (request.acks != 0).then(|| ProduceResponse::default().with_responses(responses))
}

/// Appends the batches of one record set: (first base offset, log start).
/// Every batch is checked before any is appended.
fn append(partition: &Partition, records: &[u8]) -> Result<(u64, u64), ResponseError> {
    let batches = split(records).ok_or(ResponseError::CorruptMessage)?;
    if batches.len() > 1 {
        for batch in &batches {
            BatchRef::parse(batch).map_err(|_| ResponseError::CorruptMessage)?;
        }
    }
    let mut log = partition.log();
    let mut first = None;
    for batch in batches {
        let base = log.append_raw(batch).map_err(|error| match error {
            LogError::InvalidBatch(_) => ResponseError::CorruptMessage,
            LogError::TooLarge { what: "batch", .. } => ResponseError::MessageTooLarge,
            other => {
                eprintln!("takhin-broker: append failed: {other}");
                ResponseError::KafkaStorageError
            }
        })?;
        first.get_or_insert(base);
    }
    Ok((
        first.expect("split yields at least one batch"),
        log.start_offset(),
    ))
}

/// The batches of a record set, by their length fields; `None` if empty or
/// if a length runs past the end.
fn split(mut records: &[u8]) -> Option<Vec<&[u8]>> {
    let mut batches = Vec::with_capacity(1);
    while !records.is_empty() {
        let length = records.get(8..LOG_OVERHEAD)?;
        let length = i32::from_be_bytes(length.try_into().ok()?);
        let size = usize::try_from(length).ok()?.checked_add(LOG_OVERHEAD)?;
        if size > records.len() {
            return None;
        }
        let (batch, rest) = records.split_at(size);
        batches.push(batch);
        records = rest;
    }
    (!batches.is_empty()).then_some(batches)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn record_sets_split_on_their_length_fields() {
        let mut two = vec![0u8; 12 + 49];
        two[8..12].copy_from_slice(&49i32.to_be_bytes());
        two.extend_from_within(..);
        assert_eq!(split(&two).unwrap().len(), 2);
        assert!(split(&[]).is_none());
        assert!(split(&two[..70]).is_none());
        let mut negative = two.clone();
        negative[8..12].copy_from_slice(&(-1i32).to_be_bytes());
        assert!(split(&negative).is_none());
    }
}
