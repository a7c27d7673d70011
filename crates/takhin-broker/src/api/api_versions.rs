//! ApiVersions (key 18), v0 to v3, and the KIP-511 fallback.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiVersionsResponse;
use kafka_protocol::messages::api_versions_response::ApiVersion;

use super::{Reply, SUPPORTED_APIS, encoded};
use crate::server::State;
use crate::wire::ResponseWriter;

/// Our version list, with `error_code`.
pub(super) fn response(error_code: i16) -> ApiVersionsResponse {
    let api_keys = SUPPORTED_APIS
        .iter()
        .map(|&(key, min, max)| {
            ApiVersion::default()
                .with_api_key(key as i16)
                .with_min_version(min)
                .with_max_version(max)
        })
        .collect();
    ApiVersionsResponse::default()
        .with_error_code(error_code)
        .with_api_keys(api_keys)
}

/// A too-new ApiVersions request: UNSUPPORTED_VERSION with our list, in v0
/// (which every client can read), so the client retries with a version we
/// serve.
pub(super) fn unsupported(
    state: &State,
    correlation_id: i32,
    writer: &mut ResponseWriter,
) -> Reply {
    let code = ResponseError::UnsupportedVersion.code();
    state.metrics.error(18, code);
    encoded(writer, correlation_id, 0, &response(code), 0, Vec::new())
}
