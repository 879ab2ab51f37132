//! Managing API keys: rotation keeps the old key for the overlap only; bad key
//! requests write nothing.

use hashmarket_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

use super::{api_key, post_as_json, Signed, TestKey};
use crate::fixtures::user;
use crate::helpers::{assert_problem, TestApp};
use crate::on_both_backends;

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

on_both_backends!(
    rotation_keeps_the_old_key_for_the_overlap_only,
    bad_key_requests_write_nothing,
);
