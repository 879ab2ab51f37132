//! Signed requests with API keys: every rejection names its cause (replay, clock
//! window, tampering, wrong secret, scope, revocation); nonces outlive a
//! restart; the published Python client signs what the server accepts.

use hashmarket_api::auth::Role;
use reqwest::Method;
use serde_json::json;

use super::{api_key, order_body, Signed, TestKey};
use crate::fixtures::user;
use crate::helpers::{assert_problem, TestApp};
use crate::on_both_backends;

async fn signed_requests_work_and_every_rejection_names_its_cause(app: TestApp) {
    let owner = user(&app, Role::User, true).await;
    let key = api_key(&app, &owner, &["read", "trade"]).await;

    // A good signed GET.
    let ok = app
        .signed(&key, &Signed::new(Method::GET, "/v1/balances", b""))
        .await;
    assert_eq!(ok.status().as_u16(), 200);

    // Replayed: the same nonce again.
    let once = Signed::new(Method::GET, "/v1/balances?asset=BTC", b"");
    assert_eq!(app.signed(&key, &once).await.status().as_u16(), 200);
    assert_problem(app.signed(&key, &once).await, 401, "nonce-reused").await;

    // 31 s old and 31 s ahead.
    for offset_ms in [-31_000, 31_000] {
        let mut stale = Signed::new(Method::GET, "/v1/balances", b"");
        stale.timestamp_ms += offset_ms;
        let body = assert_problem(app.signed(&key, &stale).await, 401, "signature-expired").await;
        assert!(body["detail"].as_str().unwrap().contains("window"));
    }
    // Inside the window (29 s old) is fine.
    let mut recent = Signed::new(Method::GET, "/v1/balances", b"");
    recent.timestamp_ms -= 29_000;
    assert_eq!(app.signed(&key, &recent).await.status().as_u16(), 200);

    // Tampered body: signed one order, sent another.
    let body = serde_json::to_vec(&order_body()).unwrap();
    let request = Signed::new(Method::POST, "/v1/orders", &body);
    let signature = request.signature(&key.secret);
    let mut other = order_body();
    other["price"] = json!("0.00000200");
    let tampered = serde_json::to_vec(&other).unwrap();
    let problem = assert_problem(
        app.send_signed(&key, &request, "/v1/orders", &tampered, &signature)
            .await,
        401,
        "signature-invalid",
    )
    .await;
    // The server shows what it signed, to debug against.
    let server_signed = problem["string_to_sign"].as_str().unwrap();
    assert!(server_signed.starts_with(&format!(
        "{}\n{}\nPOST\n/v1/orders\n",
        request.timestamp_ms, request.nonce
    )));

    // Tampered path, tampered query.
    for (signed_path, sent_path) in [
        ("/v1/balances", "/v1/orders"),
        (
            "/v1/orders?market=sha256-30d",
            "/v1/orders?market=scrypt-30d",
        ),
    ] {
        let request = Signed::new(Method::GET, signed_path, b"");
        let signature = request.signature(&key.secret);
        assert_problem(
            app.send_signed(&key, &request, sent_path, b"", &signature)
                .await,
            401,
            "signature-invalid",
        )
        .await;
    }

    // Wrong secret.
    let request = Signed::new(Method::GET, "/v1/balances", b"");
    let wrong = request.signature("not-the-secret");
    assert_problem(
        app.send_signed(&key, &request, "/v1/balances", b"", &wrong)
            .await,
        401,
        "signature-invalid",
    )
    .await;

    // Unknown key, malformed headers.
    let stranger = TestKey {
        key: "hmk_000000000000000000000000".into(),
        ..key.clone()
    };
    assert_problem(
        app.signed(&stranger, &Signed::new(Method::GET, "/v1/balances", b""))
            .await,
        401,
        "signature-invalid",
    )
    .await;
    let mut bad_nonce = Signed::new(Method::GET, "/v1/balances", b"");
    bad_nonce.nonce = "has space".into();
    assert_problem(app.signed(&key, &bad_nonce).await, 401, "signature-invalid").await;

    // Missing scope: a read-only key cannot trade.
    let reader = api_key(&app, &owner, &["read"]).await;
    let body = serde_json::to_vec(&order_body()).unwrap();
    assert_problem(
        app.signed(&reader, &Signed::new(Method::POST, "/v1/orders", &body))
            .await,
        403,
        "scope-missing",
    )
    .await;
    // ... and the trading key can (the body reaches the handler intact).
    let placed = app
        .signed(&key, &Signed::new(Method::POST, "/v1/orders", &body))
        .await;
    assert_problem(placed, 422, "insufficient-funds").await;

    // A key cannot manage keys.
    let create = serde_json::to_vec(&json!({"label": "x", "scopes": ["read"]})).unwrap();
    assert_problem(
        app.signed(&key, &Signed::new(Method::POST, "/v1/api-keys", &create))
            .await,
        403,
        "session-required",
    )
    .await;

    // Revoked: at once.
    let response = app
        .as_user(Method::DELETE, &format!("/v1/api-keys/{}", key.id), &owner)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    // Again: still 204, nothing more happens; someone else's key: 404.
    let again = app
        .as_user(Method::DELETE, &format!("/v1/api-keys/{}", key.id), &owner)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 204);
    let stranger_user = user(&app, Role::User, true).await;
    let not_theirs = app
        .as_user(
            Method::DELETE,
            &format!("/v1/api-keys/{}", key.id),
            &stranger_user,
        )
        .send()
        .await
        .unwrap();
    assert_problem(not_theirs, 404, "not-found").await;
    let body = assert_problem(
        app.signed(&key, &Signed::new(Method::GET, "/v1/balances", b""))
            .await,
        401,
        "api-key-revoked",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("revoked"));
}

async fn nonces_are_remembered_across_a_restart(app: TestApp) {
    let owner = user(&app, Role::User, true).await;
    let key = api_key(&app, &owner, &["read"]).await;
    let request = Signed::new(Method::GET, "/v1/balances", b"");
    assert_eq!(app.signed(&key, &request).await.status().as_u16(), 200);
    let app = app.restart().await;
    assert_problem(app.signed(&key, &request).await, 401, "nonce-reused").await;
}

async fn the_python_client_signs_requests_the_server_accepts(app: TestApp) {
    let owner = user(&app, Role::User, true).await;
    let key = api_key(&app, &owner, &["read"]).await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/examples/hashmarket_client.py"
    );
    let args = [
        script.to_string(),
        "--base-url".into(),
        app.url(""),
        "--key".into(),
        key.key.clone(),
        "--secret".into(),
        key.secret.clone(),
        "GET".into(),
        "/v1/balances".into(),
    ];
    // The server runs on this test's runtime: wait for the client off it.
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3").args(args).output()
    })
    .await
    .unwrap()
    .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "client failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("200"), "{stdout}");
    // Its self-test reproduces the published test vector.
    let selftest = std::process::Command::new("python3")
        .arg(script)
        .arg("--self-test")
        .output()
        .expect("python3 runs");
    assert!(
        selftest.status.success(),
        "{}",
        String::from_utf8_lossy(&selftest.stderr)
    );
}

on_both_backends!(
    signed_requests_work_and_every_rejection_names_its_cause,
    nonces_are_remembered_across_a_restart,
    the_python_client_signs_requests_the_server_accepts,
);
