//! The Kafka APIs the broker answers, one file each, and the dispatch from a
//! request frame to its handler.
//!
//! Decoding is zero-copy: the frame is a `Bytes` over the pooled request
//! buffer, and `kafka-protocol` decodes strings and record sets as slices of
//! it, so a produce request's batches are appended straight from that
//! buffer.

mod api_versions;
mod coordinator;
mod fetch;
pub use fetch::MAX_FETCH_WAIT;
pub use metadata::CLUSTER_ID;
mod list_offsets;
mod metadata;
mod produce;
mod unserved;

use bytes::{Buf, Bytes};
use kafka_protocol::messages::{ApiKey, RequestHeader};
use kafka_protocol::protocol::{Decodable, Encodable};

use crate::server::State;
use crate::wire::ResponseWriter;

/// The APIs served, with the versions advertised in ApiVersions.
pub const SUPPORTED_APIS: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 3, 8),
    (ApiKey::Fetch, 4, 11),
    (ApiKey::ListOffsets, 1, 5),
    (ApiKey::Metadata, 0, 8),
    (ApiKey::FindCoordinator, 0, 3),
    (ApiKey::ApiVersions, 0, 3),
    (ApiKey::InitProducerId, 0, 4),
    (ApiKey::OffsetFetch, 1, 9),
];

/// What to do after a request.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Send this frame.
    Frame(Vec<Bytes>),
    /// Send nothing (produce with acks=0).
    Nothing,
    /// Close the connection, as Kafka does where the protocol has no error
    /// response (unknown API key, a version `kafka-protocol` cannot decode,
    /// malformed request).
    Close(&'static str),
}

/// The versions served for `key`.
fn supported(key: ApiKey) -> Option<(i16, i16)> {
    SUPPORTED_APIS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|&(_, min, max)| (min, max))
}

/// An encoded response, or the reason to close when it cannot be encoded.
fn encoded<T: Encodable>(
    writer: &mut ResponseWriter,
    correlation_id: i32,
    header_version: i16,
    body: &T,
    version: i16,
    borrowed: Vec<Bytes>,
) -> Reply {
    match writer.encode(correlation_id, header_version, body, version, borrowed) {
        Ok(chunks) => Reply::Frame(chunks),
        Err(error) => {
            eprintln!("takhin-broker: cannot encode a response: {error}");
            Reply::Close("response encoding failed")
        }
    }
}

/// The request in `body`, if it decodes at `version` and fills the body.
fn decode<T: Decodable>(body: &mut Bytes, version: i16) -> Option<T> {
    T::decode(body, version)
        .ok()
        .filter(|_| !body.has_remaining())
}

/// Handles one request frame (api key, version, correlation id, rest of the
/// header, body).
pub(crate) async fn handle(state: &State, mut frame: Bytes, writer: &mut ResponseWriter) -> Reply {
    // The first 8 bytes of every request header version.
    let api_key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let correlation_id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    let Ok(key) = ApiKey::try_from(api_key) else {
        return Reply::Close("unknown api key");
    };
    state.metrics.request(api_key);
    if key == ApiKey::ApiVersions && version > 3 {
        // KIP-511: answer in v0 with UNSUPPORTED_VERSION and our versions.
        return api_versions::unsupported(state, correlation_id, writer);
    }
    let range = key.valid_versions();
    if !(range.min..=range.max).contains(&version) {
        return Reply::Close("version outside kafka-protocol's range");
    }
    if RequestHeader::decode(&mut frame, key.request_header_version(version)).is_err() {
        return Reply::Close("malformed request header");
    }
    if !supported(key).is_some_and(|(min, max)| (min..=max).contains(&version)) {
        return unserved::answer(state, key, version, frame, correlation_id, writer);
    }
    let header_version = key.response_header_version(version);
    macro_rules! decode {
        ($request:ty) => {
            match decode::<$request>(&mut frame, version) {
                Some(request) => request,
                None => return Reply::Close("malformed request body"),
            }
        };
    }
    macro_rules! answer {
        ($body:expr) => {
            answer!($body, Vec::new())
        };
        ($body:expr, $borrowed:expr) => {
            encoded(
                writer,
                correlation_id,
                header_version,
                &$body,
                version,
                $borrowed,
            )
        };
    }
    use kafka_protocol::messages as m;
    match key {
        ApiKey::ApiVersions => answer!(api_versions::response(0)),
        ApiKey::Metadata => answer!(metadata::handle(
            state,
            decode!(m::MetadataRequest),
            version
        )),
        ApiKey::Produce => match produce::handle(state, decode!(m::ProduceRequest)) {
            None => Reply::Nothing,
            Some(body) => answer!(body),
        },
        ApiKey::Fetch => {
            let (body, borrowed) = fetch::handle(state, decode!(m::FetchRequest)).await;
            answer!(body, borrowed)
        }
        ApiKey::ListOffsets => answer!(list_offsets::handle(state, decode!(m::ListOffsetsRequest))),
        ApiKey::FindCoordinator => {
            answer!(coordinator::find(
                state,
                decode!(m::FindCoordinatorRequest),
                version
            ))
        }
        ApiKey::InitProducerId => {
            let _request = decode!(m::InitProducerIdRequest);
            answer!(coordinator::init_producer_id(state))
        }
        ApiKey::OffsetFetch => answer!(coordinator::offset_fetch(decode!(m::OffsetFetchRequest))),
        // Every other key got its answer from `unserved` above.
        _ => Reply::Close("served api without a handler"),
    }
}
