//! Fetch (key 1), v4 to v11: batches read from the log into pooled buffers
//! and passed into the response without a copy; long-polls until
//! `min_bytes` are there or `max_wait_ms` passed, woken by appends.
//!
//! Sizes follow KIP-74: partitions are filled in request order within
//! `max_bytes`, each within its `partition_max_bytes`, but the first batch
//! of the first non-empty partition is returned whole even when it is
//! larger. Fetch sessions are not kept: the answer has session id 0, which
//! tells the client to send full fetch requests.

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{FetchRequest, FetchResponse};
use mempool::PooledBuf;
use takhin_log::{Fetch, LogError};

use crate::server::State;

/// The longest long poll, whatever `max_wait_ms` says.
pub const MAX_FETCH_WAIT: Duration = Duration::from_secs(30);

/// A fetch's batches as the owner of a `Bytes`: the pooled buffer goes back
/// when the response is written and the last clone drops.
struct FetchBytes(Fetch<PooledBuf<'static>>);

impl AsRef<[u8]> for FetchBytes {
    fn as_ref(&self) -> &[u8] {
        self.0.bytes()
    }
}

pub(super) async fn handle(state: &State, request: FetchRequest) -> (FetchResponse, Vec<Bytes>) {
    let wait = Duration::from_millis(request.max_wait_ms.max(0) as u64).min(MAX_FETCH_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    let mut appended = state.topics.subscribe();
    loop {
        appended.borrow_and_update();
        let (response, borrowed, bytes, failed) = read(state, &request);
        let enough = bytes >= request.min_bytes.max(0) as usize || failed;
        if enough || tokio::time::Instant::now() >= deadline {
            return (response, borrowed);
        }
        drop((response, borrowed));
        if tokio::time::timeout_at(deadline, appended.changed())
            .await
            .is_err()
        {
            let (response, borrowed, _, _) = read(state, &request);
            return (response, borrowed);
        }
    }
}

/// One pass over the requested partitions: (response, record sets, bytes,
/// whether a partition failed).
fn read(state: &State, request: &FetchRequest) -> (FetchResponse, Vec<Bytes>, usize, bool) {
    let mut left = request.max_bytes.max(0) as usize;
    let mut borrowed = Vec::new();
    let mut total = 0;
    let mut failed = false;
    let topics = request
        .topics
        .iter()
        .map(|topic| {
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let data = PartitionData::default()
                        .with_partition_index(p.partition)
                        .with_aborted_transactions(None);
                    let Some(partition) = state.topics.partition(&topic.topic, p.partition) else {
                        failed = true;
                        let code = ResponseError::UnknownTopicOrPartition.code();
                        state.metrics.error(1, code);
                        return data.with_error_code(code).with_high_watermark(-1);
                    };
                    let log = partition.log();
                    let (start, end) = (log.start_offset(), log.next_offset());
                    let data = data
                        .with_high_watermark(end as i64)
                        .with_last_stable_offset(end as i64)
                        .with_log_start_offset(start as i64);
                    let offset = p.fetch_offset;
                    if offset < start as i64 || offset > end as i64 {
                        failed = true;
                        let code = ResponseError::OffsetOutOfRange.code();
                        state.metrics.error(1, code);
                        return data.with_error_code(code);
                    }
                    let limit = (p.partition_max_bytes.max(0) as usize).min(left);
                    if offset == end as i64 || (limit == 0 && total > 0) {
                        return data.with_records(Some(Bytes::new()));
                    }
                    match log.read_range(offset as u64, limit) {
                        // KIP-74: only the first batch of the response may
                        // exceed the limits.
                        Ok(fetch) if fetch.bytes().len() <= limit || total == 0 => {
                            let records = Bytes::from_owner(FetchBytes(fetch));
                            total += records.len();
                            left = left.saturating_sub(records.len());
                            borrowed.push(records.clone());
                            data.with_records(Some(records))
                        }
                        Ok(_) => data.with_records(Some(Bytes::new())),
                        Err(error) => {
                            failed = true;
                            let code = match error {
                                LogError::OffsetOutOfRange { .. } => {
                                    ResponseError::OffsetOutOfRange
                                }
                                other => {
                                    eprintln!("takhin-broker: fetch failed: {other}");
                                    ResponseError::KafkaStorageError
                                }
                            }
                            .code();
                            state.metrics.error(1, code);
                            data.with_error_code(code)
                        }
                    }
                })
                .collect();
            FetchableTopicResponse::default()
                .with_topic(topic.topic.clone())
                .with_partitions(partitions)
        })
        .collect();
    let response = FetchResponse::default()
        .with_session_id(0)
        .with_responses(topics);
    (response, borrowed, total, failed)
}
