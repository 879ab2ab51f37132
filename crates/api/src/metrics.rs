//! Prometheus metrics: one process-wide recorder, rendered by `GET /metrics`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Name of the request counter (labels: method, route, status).
pub const HTTP_REQUESTS_TOTAL: &str = "http_requests_total";
/// Name of the request latency histogram, in seconds (labels: method, route, status).
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "http_request_duration_seconds";

/// Latency buckets in seconds: 100 µs up to 10 s.
const LATENCY_BUCKETS_SECS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// The process's Prometheus handle, installing the global recorder on first use.
///
/// A process has one global recorder; servers started in the same process (tests)
/// share it, which is what Prometheus expects of one process anyway.
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(HTTP_REQUEST_DURATION_SECONDS.to_string()),
                    LATENCY_BUCKETS_SECS,
                )
                .expect("latency buckets are non-empty")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (an embedding program's): then
            // our handle still renders what this recorder saw, which is nothing; say so.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a global metrics recorder was already installed");
            }
            handle
        })
        .clone()
}
