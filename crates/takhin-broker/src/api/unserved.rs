//! APIs the broker does not serve (groups, transactions, SASL, admin) whose
//! response has a top-level error code: answered with UNSUPPORTED_VERSION
//! at the requested version, so a client that sends one without checking
//! ApiVersions gets the protocol's error instead of a closed connection.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::{
    AddOffsetsToTxnResponse, ApiKey, DescribeClusterResponse, EndTxnResponse, HeartbeatResponse,
    JoinGroupResponse, LeaveGroupResponse, ListGroupsResponse, SaslAuthenticateResponse,
    SaslHandshakeResponse, SyncGroupResponse,
};

use super::{Reply, encoded};
use crate::server::State;
use crate::wire::ResponseWriter;

/// The error answer for `key`, or `None` if its response has no top-level
/// error code (the connection then closes, as Kafka closes it).
pub(super) fn answer(
    state: &State,
    key: ApiKey,
    version: i16,
    correlation_id: i32,
    writer: &mut ResponseWriter,
) -> Option<Reply> {
    let code = ResponseError::UnsupportedVersion.code();
    let header_version = key.response_header_version(version);
    macro_rules! error {
        ($response:ty) => {
            encoded(
                writer,
                correlation_id,
                header_version,
                &<$response>::default().with_error_code(code),
                version,
                Vec::new(),
            )
        };
    }
    let reply = match key {
        ApiKey::JoinGroup => error!(JoinGroupResponse),
        ApiKey::Heartbeat => error!(HeartbeatResponse),
        ApiKey::LeaveGroup => error!(LeaveGroupResponse),
        ApiKey::SyncGroup => error!(SyncGroupResponse),
        ApiKey::ListGroups => error!(ListGroupsResponse),
        ApiKey::SaslHandshake => error!(SaslHandshakeResponse),
        ApiKey::SaslAuthenticate => error!(SaslAuthenticateResponse),
        ApiKey::AddOffsetsToTxn => error!(AddOffsetsToTxnResponse),
        ApiKey::EndTxn => error!(EndTxnResponse),
        ApiKey::DescribeCluster => error!(DescribeClusterResponse),
        _ => return None,
    };
    state.metrics.error(key as i16, code);
    Some(reply)
}
