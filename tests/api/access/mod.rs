//! Identity and access (HM-4) over HTTP, on both databases: email verification
//! through a real SMTP server, refresh-token rotation and reuse detection, logout,
//! API keys and every signed-request rejection, rate limits, TOTP, the audit trail.
//!
//! One file per concern; the API-key and signed-request helpers here are shared
//! with the other test modules (withdrawals sign with them too).

mod api_keys;
mod limits;
mod mail;
mod outbox;
mod sessions;
mod signed_requests;
mod totp;

use chrono::Utc;
use hashmarket_api::auth::signing::SignedParts;
use reqwest::Method;
use serde_json::{json, Value};

use crate::fixtures::{TestUser, PASSWORD};
use crate::helpers::TestApp;

/// An API key as created.
#[derive(Debug, Clone)]
pub struct TestKey {
    /// Key id (for rotation and revocation).
    pub id: String,
    /// The public key, sent as `HM-Key`.
    pub key: String,
    /// The signing secret.
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
    /// HTTP method.
    pub method: Method,
    /// Path and query, as signed.
    pub path: &'a str,
    /// Body, as signed.
    pub body: &'a [u8],
    /// `HM-Timestamp`, Unix milliseconds.
    pub timestamp_ms: i64,
    /// `HM-Nonce` (also the Idempotency-Key).
    pub nonce: String,
}

impl<'a> Signed<'a> {
    /// `method` `path` with `body`, stamped now with a fresh nonce.
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

/// POST `body` as JSON to `path` as `who` (no Idempotency-Key).
async fn post_as_json(app: &TestApp, path: &str, who: &TestUser, body: Value) -> reqwest::Response {
    app.as_user(Method::POST, path, who)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A valid buy order on `sha256-30d`.
fn order_body() -> Value {
    json!({"market": "sha256-30d", "side": "buy", "hash_rate": "1 TH/s",
        "price": "0.00000100", "time_in_force": "gtc"})
}

/// Logs `email` in with [`PASSWORD`] (a user made over HTTP, whose id the test
/// does not know).
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
