//! The operator endpoints and the behaviour every route shares (problem+json errors,
//! body limit, request ids, metrics).

use crate::helpers::{assert_problem, TestApp};
use crate::on_both_backends;

async fn healthz_is_ok(app: TestApp) {
    let response = app.get("/healthz").await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

async fn readyz_is_ok_then_503_when_the_database_is_gone(app: TestApp) {
    assert_eq!(app.get("/readyz").await.status().as_u16(), 200);
    app.db.destroy().await;
    let body = assert_problem(app.get("/readyz").await, 503, "unavailable").await;
    assert!(body["detail"].is_string());
    // The process itself is still up.
    assert_eq!(app.get("/healthz").await.status().as_u16(), 200);
}

async fn unknown_route_is_404_problem(app: TestApp) {
    assert_problem(app.get("/v1/no-such-thing").await, 404, "not-found").await;
    assert_problem(app.get("/").await, 404, "not-found").await;
}

async fn wrong_method_is_405_problem(app: TestApp) {
    let response = app.client.delete(app.url("/healthz")).send().await.unwrap();
    assert_problem(response, 405, "method-not-allowed").await;
    let response = app.client.post(app.url("/v1/time")).send().await.unwrap();
    assert_problem(response, 405, "method-not-allowed").await;
}

async fn oversized_body_is_413_problem(app: TestApp) {
    let body = vec![b'x'; 64 * 1024 + 1];
    let response = app
        .client
        .post(app.url("/v1/time"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 413, "payload-too-large").await;
    assert!(problem["detail"].as_str().unwrap().contains("65536"));
}

async fn body_at_the_limit_is_not_413(app: TestApp) {
    let body = vec![b' '; 64 * 1024];
    let response = app
        .client
        .post(app.url("/healthz"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_ne!(response.status().as_u16(), 413);
}

async fn time_is_the_wall_clock_in_ms(app: TestApp) {
    let before = chrono::Utc::now().timestamp_millis();
    let body: serde_json::Value = app.get("/v1/time").await.json().await.unwrap();
    let after = chrono::Utc::now().timestamp_millis();
    let server = body["server_time_ms"].as_i64().expect("an integer of ms");
    assert!(before - 1_000 <= server && server <= after + 1_000);
}

async fn metrics_count_requests_per_route_and_status(app: TestApp) {
    app.get("/healthz").await;
    app.get("/v1/nope").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(text.contains("http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"));
    assert!(text.contains("route=\"unmatched\",status=\"404\""));
    assert!(text.contains("http_request_duration_seconds_bucket"));
}

async fn openapi_describes_every_endpoint(app: TestApp) {
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status().as_u16(), 200);
    let doc: serde_json::Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/healthz", "/readyz", "/metrics", "/v1/time"] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from openapi.json"
        );
    }
}

async fn client_request_id_is_echoed(app: TestApp) {
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "abc-123");
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(response.headers()["x-request-id"], "bad id with spaces");
}

on_both_backends!(
    healthz_is_ok,
    readyz_is_ok_then_503_when_the_database_is_gone,
    unknown_route_is_404_problem,
    wrong_method_is_405_problem,
    oversized_body_is_413_problem,
    body_at_the_limit_is_not_413,
    time_is_the_wall_clock_in_ms,
    metrics_count_requests_per_route_and_status,
    openapi_describes_every_endpoint,
    client_request_id_is_echoed,
);
