//! Identity and access (HM-4) over HTTP, on both databases: email verification
//! through a real SMTP server, refresh-token rotation and reuse detection, logout,
//! API keys and every signed-request rejection, rate limits, TOTP, the audit trail.

use chrono::Utc;
use hashmarket_api::auth::signing::SignedParts;
use hashmarket_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::fixtures::{user, TestUser, PASSWORD};
use crate::helpers::{assert_problem, test_config, TestApp};
use crate::on_both_backends;

/// An API key as created.
#[derive(Debug, Clone)]
pub struct TestKey {
    pub id: String,
    pub key: String,
    pub secret: String,
}

/// Creates an API key for `owner` with `scopes`.
pub async fn api_key(app: &TestApp, owner: &TestUser, scopes: &[&str]) -> TestKey {
    let response = app
        .as_user(Method::POST, "/v1/api-keys", owner)
        .json(&json!({"label": "bot", "scopes": scopes}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201, "create an API key");
    let body: Value = response.json().await.unwrap();
    TestKey {
        id: body["id"].as_str().unwrap().to_string(),
        key: body["key"].as_str().unwrap().to_string(),
        secret: body["secret"].as_str().unwrap().to_string(),
    }
}

/// What to send in a signed request; every part can be tampered with separately.
pub struct Signed<'a> {
    pub method: Method,
    pub path: &'a str,
    pub body: &'a [u8],
    pub timestamp_ms: i64,
    pub nonce: String,
}

impl<'a> Signed<'a> {
    pub fn new(method: Method, path: &'a str, body: &'a [u8]) -> Signed<'a> {
        Signed {
            method,
            path,
            body,
            timestamp_ms: Utc::now().timestamp_millis(),
            nonce: uuid::Uuid::now_v7().simple().to_string(),
        }
    }

    /// The signature over these parts with `secret`.
    pub fn signature(&self, secret: &str) -> String {
        let timestamp = self.timestamp_ms.to_string();
        SignedParts {
            timestamp_ms: &timestamp,
            nonce: &self.nonce,
            method: self.method.as_str(),
            path_and_query: self.path,
            body: self.body,
        }
        .sign(secret.as_bytes())
    }
}

impl TestApp {
    /// Sends `path`/`body` signed with `signature` (computed by the caller, maybe
    /// over other parts).
    pub async fn send_signed(
        &self,
        key: &TestKey,
        request: &Signed<'_>,
        path: &str,
        body: &[u8],
        signature: &str,
    ) -> reqwest::Response {
        self.client
            .request(request.method.clone(), self.url(path))
            .header("HM-Key", &key.key)
            .header("HM-Timestamp", request.timestamp_ms.to_string())
            .header("HM-Nonce", &request.nonce)
            .header("HM-Signature", signature)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", &request.nonce)
            .body(body.to_vec())
            .send()
            .await
            .unwrap()
    }

    /// Sends a correctly signed request.
    pub async fn signed(&self, key: &TestKey, request: &Signed<'_>) -> reqwest::Response {
        let signature = request.signature(&key.secret);
        self.send_signed(key, request, request.path, request.body, &signature)
            .await
    }
}

async fn post_as_json(app: &TestApp, path: &str, who: &TestUser, body: Value) -> reqwest::Response {
    app.as_user(Method::POST, path, who)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn order_body() -> Value {
    json!({"market": "sha256-30d", "side": "buy", "hash_rate": "1 TH/s",
        "price": "0.00000100", "time_in_force": "gtc"})
}

// --- API keys and signed requests ---------------------------------------------

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

async fn rotation_keeps_the_old_key_for_the_overlap_only(app: TestApp) {
    let owner = user(&app, Role::User, true).await;
    let old = api_key(&app, &owner, &["read"]).await;
    let rotate = |overlap: i64, id: String| {
        let app = &app;
        let owner = &owner;
        async move {
            post_as_json(
                app,
                &format!("/v1/api-keys/{id}/rotate"),
                owner,
                json!({"overlap_seconds": overlap}),
            )
            .await
        }
    };
    let response = rotate(60, old.id.clone()).await;
    assert_eq!(response.status().as_u16(), 201);
    let body: Value = response.json().await.unwrap();
    let new = TestKey {
        id: body["id"].as_str().unwrap().into(),
        key: body["key"].as_str().unwrap().into(),
        secret: body["secret"].as_str().unwrap().into(),
    };
    assert_ne!(new.key, old.key);
    assert_eq!(body["scopes"], json!(["read"]));
    // Inside the overlap both work.
    for key in [&old, &new] {
        let response = app
            .signed(key, &Signed::new(Method::GET, "/v1/balances", b""))
            .await;
        assert_eq!(response.status().as_u16(), 200);
    }
    // A rotated key cannot be rotated again.
    assert_problem(rotate(60, old.id.clone()).await, 409, "api-key-not-live").await;

    // Rotate the new one with a 1 s overlap; after it, the old one is refused.
    let response = rotate(1, new.id.clone()).await;
    assert_eq!(response.status().as_u16(), 201);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let body = assert_problem(
        app.signed(&new, &Signed::new(Method::GET, "/v1/balances", b""))
            .await,
        401,
        "api-key-revoked",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("rotated"));

    // The list shows where each stands, with no secrets; last use is recorded.
    let keys = app.get_as("/v1/api-keys", &owner).await;
    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), 3);
    assert!(keys.iter().all(|k| k.get("secret").is_none()));
    let statuses: Vec<&str> = keys.iter().map(|k| k["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["rotating_out", "expired", "active"]);
    assert!(keys[0]["last_used_at"].is_string());
    assert!(keys[2]["last_used_at"].is_null());

    // Bad overlap, unknown key, someone else's key.
    assert_problem(rotate(-1, old.id.clone()).await, 422, "validation").await;
    assert_problem(rotate(604_801, old.id.clone()).await, 422, "validation").await;
    let other = user(&app, Role::User, true).await;
    let theirs = api_key(&app, &other, &["read"]).await;
    assert_problem(rotate(60, theirs.id.clone()).await, 404, "not-found").await;
    assert_problem(rotate(60, "not-a-uuid".into()).await, 404, "not-found").await;
}

async fn bad_key_requests_write_nothing(app: TestApp) {
    let owner = user(&app, Role::User, true).await;
    for bad in [
        json!({"label": "", "scopes": ["read"]}),
        json!({"label": "x", "scopes": []}),
        json!({"label": "x", "scopes": ["admin"]}),
        json!({"label": "x".repeat(101), "scopes": ["read"]}),
        json!({"label": "x", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z"}),
        json!({"label": "x", "scopes": ["read"], "expires_at": "2999-01-01T00:00:00Z"}),
        json!({"label": "x", "scopes": ["read"], "extra": 1}),
        json!({"label": 5, "scopes": ["read"]}),
    ] {
        let response = post_as_json(&app, "/v1/api-keys", &owner, bad.clone()).await;
        assert_problem(response, 422, "validation").await;
    }
    let malformed = app
        .as_user(Method::POST, "/v1/api-keys", &owner)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_problem(malformed, 400, "validation").await;
    assert_eq!(app.get_as("/v1/api-keys", &owner).await, json!([]));
    // Without a session: 401.
    let anonymous = app
        .post_json("/v1/api-keys", &json!({"label": "x", "scopes": ["read"]}))
        .await;
    assert_problem(anonymous, 401, "unauthorized").await;
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

// --- sessions -----------------------------------------------------------------

async fn refresh_rotates_and_reuse_revokes_the_session(app: TestApp) {
    let person = user(&app, Role::User, true).await;
    let refresh = |token: String| {
        let app = &app;
        async move {
            app.post_json("/v1/auth/refresh", &json!({"refresh_token": token}))
                .await
        }
    };
    let first = refresh(person.refresh_token.clone()).await;
    assert_eq!(first.status().as_u16(), 200);
    let pair: Value = first.json().await.unwrap();
    let second_refresh = pair["refresh_token"].as_str().unwrap().to_string();
    let second_access = pair["access_token"].as_str().unwrap().to_string();
    assert_ne!(second_refresh, person.refresh_token);
    let me = app
        .client
        .get(app.url("/v1/me"))
        .bearer_auth(&second_access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status().as_u16(), 200);

    // The old token again: reuse. The whole session ends.
    assert_problem(
        refresh(person.refresh_token.clone()).await,
        401,
        "refresh-token-reused",
    )
    .await;
    assert_problem(refresh(second_refresh).await, 401, "refresh-token-invalid").await;
    let me = app
        .client
        .get(app.url("/v1/me"))
        .bearer_auth(&second_access)
        .send()
        .await
        .unwrap();
    assert_problem(me, 401, "unauthorized").await;

    // Recorded for the user; a new login works.
    let again = user_login(&app, &person.email).await;
    let events = app.get_as("/v1/audit-events", &again).await;
    let kinds: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"refresh_token_reused"), "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "login_succeeded").count(), 2);

    // Garbage and oversized tokens.
    assert_problem(refresh("nope".into()).await, 401, "refresh-token-invalid").await;
    assert_problem(refresh("x".repeat(500)).await, 422, "validation").await;
}

async fn user_login(app: &TestApp, email: &str) -> TestUser {
    let response = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    TestUser {
        id: uuid::Uuid::nil(),
        email: email.into(),
        token: body["access_token"].as_str().unwrap().into(),
        refresh_token: body["refresh_token"].as_str().unwrap().into(),
    }
}

async fn logout_ends_the_session(app: TestApp) {
    let person = user(&app, Role::User, true).await;
    let out = app
        .as_user(Method::POST, "/v1/auth/logout", &person)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 204);
    let me = app
        .as_user(Method::GET, "/v1/me", &person)
        .send()
        .await
        .unwrap();
    assert_problem(me, 401, "unauthorized").await;
    let refreshed = app
        .post_json(
            "/v1/auth/refresh",
            &json!({"refresh_token": person.refresh_token}),
        )
        .await;
    assert_problem(refreshed, 401, "refresh-token-invalid").await;
}

async fn forged_and_foreign_tokens_are_refused(app: TestApp) {
    let person = user(&app, Role::User, true).await;
    // alg: none with the same claims.
    let claims = person.token.split('.').nth(1).unwrap();
    let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"; // {"alg":"none","typ":"JWT"}
    let tampered_signature = format!("{}x", &person.token[..person.token.len() - 1]);
    for token in [
        format!("{none_header}.{claims}."),
        tampered_signature,
        "not-a-token".to_string(),
    ] {
        let response = app
            .client
            .get(app.url("/v1/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_problem(response, 401, "unauthorized").await;
    }
    // A token signed by another deployment's secret.
    let foreign = hashmarket_api::auth::session::SessionKeys::new(&[9u8; 32])
        .issue(person.id, uuid::Uuid::now_v7())
        .0;
    let response = app
        .client
        .get(app.url("/v1/me"))
        .bearer_auth(foreign)
        .send()
        .await
        .unwrap();
    assert_problem(response, 401, "unauthorized").await;
}

async fn failed_logins_are_audited(app: TestApp) {
    let person = user(&app, Role::User, true).await;
    let response = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": person.email, "password": "wrong password!"}),
        )
        .await;
    assert_problem(response, 401, "unauthorized").await;
    let events = app.get_as("/v1/audit-events?limit=1", &person).await;
    assert_eq!(events["items"][0]["kind"], "login_failed");
    assert_eq!(events["items"][0]["ip"], "127.0.0.1");
    // Paging: the next page holds the older event.
    let cursor = events["next_cursor"].as_str().unwrap();
    let older = app
        .get_as(
            &format!("/v1/audit-events?limit=1&cursor={cursor}"),
            &person,
        )
        .await;
    assert_eq!(older["items"][0]["kind"], "login_succeeded");
    // Nobody sees another user's events.
    let other = user(&app, Role::User, true).await;
    let theirs = app.get_as("/v1/audit-events", &other).await;
    assert!(theirs["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["kind"] != "login_failed"));
}

// --- TOTP -----------------------------------------------------------------------

fn totp_code(secret_base32: &str, at: u64) -> String {
    let secret = totp_rs::Secret::Encoded(secret_base32.to_string())
        .to_bytes()
        .unwrap();
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret, None, "x".into())
        .unwrap()
        .generate(at)
}

async fn totp_enrol_confirm_and_no_replay(app: TestApp) {
    let person = user(&app, Role::User, true).await;
    let response = app
        .as_user(Method::POST, "/v1/auth/totp/enroll", &person)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let enrolment: Value = response.json().await.unwrap();
    let secret = enrolment["secret"].as_str().unwrap();
    assert!(enrolment["otpauth_url"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/hashmarket:"));
    // A wrong code does not confirm.
    let confirm = |code: String| {
        let app = &app;
        let person = &person;
        async move { post_as_json(app, "/v1/auth/totp/confirm", person, json!({"code": code})).await }
    };
    assert_problem(confirm("000000".into()).await, 422, "totp-invalid").await;
    assert_problem(confirm("12ab".into()).await, 422, "totp-invalid").await;
    let now = Utc::now().timestamp() as u64;
    let code = totp_code(secret, now);
    let confirmed = confirm(code.clone()).await;
    assert_eq!(confirmed.status().as_u16(), 200);
    // The same code twice: refused (its time step is used).
    assert_problem(confirm(code).await, 422, "totp-invalid").await;
    // Enrolling again once confirmed: 409.
    let again = app
        .as_user(Method::POST, "/v1/auth/totp/enroll", &person)
        .send()
        .await
        .unwrap();
    assert_problem(again, 409, "totp-already-enabled").await;
    let events = app.get_as("/v1/audit-events", &person).await;
    let kinds: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"totp_confirmed") && kinds.contains(&"totp_enrolled"));
}

on_both_backends!(
    signed_requests_work_and_every_rejection_names_its_cause,
    rotation_keeps_the_old_key_for_the_overlap_only,
    bad_key_requests_write_nothing,
    nonces_are_remembered_across_a_restart,
    the_python_client_signs_requests_the_server_accepts,
    refresh_rotates_and_reuse_revokes_the_session,
    logout_ends_the_session,
    forged_and_foreign_tokens_are_refused,
    failed_logins_are_audited,
    totp_enrol_confirm_and_no_replay,
);

/// Email through the real SMTP sink.
mod mail {
    use super::*;
    use crate::helpers::{smtp_config, wait_for_mail};
    use hashmarket_api::ServerConfig;

    pub fn config() -> ServerConfig {
        ServerConfig {
            mail: smtp_config(),
            ..test_config()
        }
    }

    /// The 64-hex-digit token on a line of its own in the text part.
    fn token_in(message: &str) -> String {
        message
            .lines()
            .map(str::trim)
            .find(|l| l.len() == 64 && l.bytes().all(|b| b.is_ascii_hexdigit()))
            .expect("a token line in the email")
            .to_string()
    }

    async fn registration_sends_a_verification_email_that_verifies(app: TestApp) {
        let email = format!("{}@example.com", uuid::Uuid::now_v7().simple());
        let response = app
            .post_json(
                "/v1/auth/register",
                &json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(response.status().as_u16(), 201);
        let message = wait_for_mail(&email, "Verify your email").await;
        assert!(message.contains("text/plain") && message.contains("text/html"));
        let token = token_in(&message);
        let person = user_login(&app, &email).await;
        let me = app.get_as("/v1/me", &person).await;
        assert_eq!(me["email_verified"], false);
        // Unverified users cannot trade yet.
        let order = app
            .as_user(Method::POST, "/v1/orders", &person)
            .header("Idempotency-Key", "k1")
            .json(&order_body())
            .send()
            .await
            .unwrap();
        assert_problem(order, 403, "email-unverified").await;

        let verified = app
            .post_json("/v1/auth/verify-email", &json!({"token": token}))
            .await;
        assert_eq!(verified.status().as_u16(), 200);
        assert_eq!(app.get_as("/v1/me", &person).await["email_verified"], true);
        // A token works once.
        let again = app
            .post_json("/v1/auth/verify-email", &json!({"token": token}))
            .await;
        assert_problem(again, 422, "verification-token-invalid").await;
        let bogus = app
            .post_json("/v1/auth/verify-email", &json!({"token": "0".repeat(64)}))
            .await;
        assert_problem(bogus, 422, "verification-token-invalid").await;
    }

    async fn a_new_api_key_is_announced_by_email(app: TestApp) {
        let owner = user(&app, Role::User, true).await;
        let key = api_key(&app, &owner, &["read", "trade"]).await;
        let message = wait_for_mail(&owner.email, "New hashmarket API key").await;
        assert!(message.contains(&key.key));
        assert!(
            !message.contains(&key.secret),
            "the secret is never emailed"
        );
    }

    async fn a_bad_registration_writes_no_user_and_no_email(app: TestApp) {
        let email = format!("{}@example.com", uuid::Uuid::now_v7().simple());
        let response = app
            .post_json(
                "/v1/auth/register",
                &json!({"email": email, "password": "short"}),
            )
            .await;
        assert_problem(response, 422, "validation").await;
        assert!(app.store.user_by_email(&email).await.unwrap().is_none());
        // Register properly, then again with the same email: 409, one email only.
        let ok = app
            .post_json(
                "/v1/auth/register",
                &json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(ok.status().as_u16(), 201);
        let dup = app
            .post_json(
                "/v1/auth/register",
                &json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_problem(dup, 409, "email-taken").await;
        wait_for_mail(&email, "Verify your email").await;
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        let dir = crate::helpers::smtp_maildir();
        let count = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| {
                std::fs::read_to_string(e.path())
                    .unwrap_or_default()
                    .contains(&email)
            })
            .count();
        assert_eq!(count, 1);
    }

    async fn a_fill_emails_buyer_and_seller_that_the_contract_started(app: TestApp) {
        use crate::marketplace::{buy, cast, order, sell};
        let cast = cast(&app).await;
        let ask = order(
            &app,
            &cast.seller,
            sell(&cast.rig_id, "10 TH/s", "0.00000100"),
        )
        .await;
        assert_eq!(ask.status().as_u16(), 201);
        let bid = order(&app, &cast.buyer, buy("10 TH/s", "0.00000100")).await;
        assert_eq!(bid.status().as_u16(), 201);
        let bid: Value = bid.json().await.unwrap();
        let contract_id = bid["fills"][0]["contract_id"].as_str().unwrap().to_string();
        for (who, words) in [(&cast.buyer, "You bought"), (&cast.seller, "You sold")] {
            let message = wait_for_mail(&who.email, "Contract started: 10 TH/s sha256-30d").await;
            assert!(message.contains(words), "{message}");
            assert!(message.contains(&contract_id));
            assert!(message.contains("0.00030000 BTC"), "the cost: {message}");
        }
    }

    on_both_backends!(
        config = super::mail::config();
        a_fill_emails_buyer_and_seller_that_the_contract_started,
        registration_sends_a_verification_email_that_verifies,
        a_new_api_key_is_announced_by_email,
        a_bad_registration_writes_no_user_and_no_email,
    );
}

/// Rate limits with small published numbers.
mod limits {
    use super::*;
    use hashmarket_api::ratelimit::{Rate, RateLimitConfig};
    use hashmarket_api::ServerConfig;

    pub fn config() -> ServerConfig {
        let base = test_config();
        ServerConfig {
            rate_limits: RateLimitConfig {
                per_principal: Rate {
                    per_minute: 60,
                    burst: 5,
                },
                login_per_account: Rate {
                    per_minute: 1,
                    burst: 3,
                },
                ..base.rate_limits
            },
            ..base
        }
    }

    async fn the_published_limit_then_429_with_retry_after(app: TestApp) {
        let person = user(&app, Role::User, true).await;
        let mut remaining = Vec::new();
        for _ in 0..5 {
            let response = app
                .as_user(Method::GET, "/v1/me", &person)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200);
            let headers = response.headers();
            assert_eq!(headers["ratelimit-limit"], "5");
            assert!(headers.contains_key("ratelimit-reset"));
            remaining.push(headers["ratelimit-remaining"].to_str().unwrap().to_string());
        }
        assert_eq!(remaining.last().unwrap(), "0");
        let refused = app
            .as_user(Method::GET, "/v1/me", &person)
            .send()
            .await
            .unwrap();
        let retry: u64 = refused.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry));
        assert_eq!(refused.headers()["ratelimit-remaining"], "0");
        assert_problem(refused, 429, "rate-limited").await;
        // Another user is not affected; public routes carry the per-IP headers.
        let other = user(&app, Role::User, true).await;
        let response = app
            .as_user(Method::GET, "/v1/me", &other)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let public = app.get("/v1/time").await;
        assert!(public.headers().contains_key("ratelimit-remaining"));
    }

    async fn login_attempts_are_throttled_per_account(app: TestApp) {
        let person = user(&app, Role::User, true).await; // one attempt used
        for _ in 0..2 {
            let response = app
                .post_json(
                    "/v1/auth/login",
                    &json!({"email": person.email, "password": "wrong password!"}),
                )
                .await;
            assert_problem(response, 401, "unauthorized").await;
        }
        // Even the right password waits now.
        let response = app
            .post_json(
                "/v1/auth/login",
                &json!({"email": person.email, "password": PASSWORD}),
            )
            .await;
        assert!(response.headers().contains_key("retry-after"));
        assert_problem(response, 429, "rate-limited").await;
    }

    on_both_backends!(
        config = super::limits::config();
        the_published_limit_then_429_with_retry_after,
        login_attempts_are_throttled_per_account,
    );
}

/// The outbox worker's bookkeeping, driven by hand on a bare store (no server,
/// so no other worker races for the emails).
mod outbox {
    use chrono::Utc;
    use hashmarket_api::mail::{deliver_due, MailConfig, Mailer};
    use hashmarket_store::access::{AccessWrite, OutboxEmail};
    use hashmarket_store::testing::TestDatabase;
    use hashmarket_store::{connect, Backend, ConnectOptions};
    use uuid::Uuid;

    fn email(attempts: i32) -> OutboxEmail {
        OutboxEmail {
            id: Uuid::now_v7(),
            recipient: "someone@example.com".into(),
            subject: "s".into(),
            body_text: "t".into(),
            body_html: "<p>h</p>".into(),
            attempts,
            created_at: Utc::now(),
        }
    }

    async fn failures_are_recorded_retried_later_and_given_up(backend: Backend) {
        let db = TestDatabase::new(backend).await;
        let store = connect(&db.url, &ConnectOptions::default()).await.unwrap();
        // An SMTP port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let failing = Mailer::new(MailConfig {
            smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
            max_attempts: 2,
            ..MailConfig::default()
        })
        .unwrap();
        let (fresh, last_try) = (email(0), email(1));
        store
            .write_access(&[
                AccessWrite::Email(fresh.clone()),
                AccessWrite::Email(last_try.clone()),
            ])
            .await
            .unwrap();
        assert_eq!(deliver_due(&*store, &failing).await.unwrap(), 2);
        let status = store.email_status(fresh.id).await.unwrap().unwrap();
        assert_eq!((status.status.as_str(), status.attempts), ("pending", 1));
        assert!(status.last_error.is_some());
        let status = store.email_status(last_try.id).await.unwrap().unwrap();
        assert_eq!((status.status.as_str(), status.attempts), ("failed", 2));
        // The retry is not due yet (5 s backoff): nothing is claimed now.
        assert_eq!(deliver_due(&*store, &failing).await.unwrap(), 0);

        // With no SMTP configured, emails are logged and count as sent.
        let logged = email(0);
        store
            .write_access(&[AccessWrite::Email(logged.clone())])
            .await
            .unwrap();
        let log_only = Mailer::new(MailConfig::default()).unwrap();
        assert_eq!(deliver_due(&*store, &log_only).await.unwrap(), 1);
        let status = store.email_status(logged.id).await.unwrap().unwrap();
        assert_eq!(
            (status.status.as_str(), status.attempts, status.last_error),
            ("sent".to_string().as_str(), 1, None)
        );
        store.close().await;
    }

    #[tokio::test]
    async fn sqlite_failures_are_recorded_retried_later_and_given_up() {
        failures_are_recorded_retried_later_and_given_up(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres_failures_are_recorded_retried_later_and_given_up() {
        failures_are_recorded_retried_later_and_given_up(Backend::Postgres).await;
    }
}
