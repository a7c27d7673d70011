//! Request metrics through the `metrics` facade (served by mempool's
//! Prometheus exporter with `--metrics`): requests and errors by API key,
//! bytes in and out, budget waits and the request budget's efficiency.
//! Without an installed recorder every call is a no-op.

use metrics::{counter, gauge};

/// The names of the series, all under `takhin_broker_`.
pub(crate) const REQUESTS: &str = "takhin_broker_requests_total";
pub(crate) const ERRORS: &str = "takhin_broker_request_errors_total";
pub(crate) const BYTES_IN: &str = "takhin_broker_bytes_in_total";
pub(crate) const BYTES_OUT: &str = "takhin_broker_bytes_out_total";
pub(crate) const BUDGET_WAITS: &str = "takhin_broker_request_budget_waits_total";
pub(crate) const EFFICIENCY: &str = "takhin_broker_request_budget_efficiency";
pub(crate) const REJECTED: &str = "takhin_broker_rejected_frames_total";

/// Records the broker's series; cheap to clone (nothing inside).
#[derive(Debug, Default, Clone)]
pub(crate) struct Metrics;

/// A label value for an API key: the APIs we serve by name, others as a number.
pub(crate) fn api_name(key: i16) -> &'static str {
    match key {
        0 => "produce",
        1 => "fetch",
        2 => "list_offsets",
        3 => "metadata",
        9 => "offset_fetch",
        10 => "find_coordinator",
        18 => "api_versions",
        22 => "init_producer_id",
        _ => "other",
    }
}

impl Metrics {
    pub(crate) fn describe() {
        metrics::describe_counter!(REQUESTS, "Requests handled, by API");
        metrics::describe_counter!(
            ERRORS,
            "Partitions or requests answered with an error code, by API and code"
        );
        metrics::describe_counter!(BYTES_IN, "Request frame bytes read");
        metrics::describe_counter!(BYTES_OUT, "Response frame bytes written");
        metrics::describe_counter!(
            BUDGET_WAITS,
            "Frames whose buffer had to wait for the request memory budget (backpressure)"
        );
        metrics::describe_gauge!(
            EFFICIENCY,
            "Request bytes read over request buffer bytes charged to the budget"
        );
        metrics::describe_counter!(
            REJECTED,
            "Connections closed by the broker (no error response in the protocol: size, unknown API or version, undecodable bytes) or torn mid-frame by the peer, by reason"
        );
    }

    pub(crate) fn request(&self, api: i16) {
        counter!(REQUESTS, "api" => api_name(api)).increment(1);
    }

    pub(crate) fn error(&self, api: i16, code: i16) {
        counter!(ERRORS, "api" => api_name(api), "code" => code.to_string()).increment(1);
    }

    pub(crate) fn rejected(&self, reason: &'static str) {
        counter!(REJECTED, "reason" => reason).increment(1);
    }

    pub(crate) fn budget_wait(&self) {
        counter!(BUDGET_WAITS).increment(1);
    }

    pub(crate) fn frame_read(&self, size: usize, efficiency: Option<f64>) {
        counter!(BYTES_IN).increment(size as u64 + 4);
        if let Some(efficiency) = efficiency {
            gauge!(EFFICIENCY).set(efficiency);
        }
    }

    pub(crate) fn written(&self, bytes: usize) {
        counter!(BYTES_OUT).increment(bytes as u64);
    }
}
