//! Sessions: refresh-token rotation and reuse detection, logout, forged tokens,
//! and the audit trail of logins.

use hashmarket_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

use super::user_login;
use crate::fixtures::user;
use crate::helpers::{assert_problem, TestApp};
use crate::on_both_backends;

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
    // A token signed by another deployment's secret.
    let foreign = hashmarket_api::auth::session::SessionKeys::new(&[9u8; 32])
        .issue(person.id, uuid::Uuid::now_v7())
        .0;
    for token in [
        format!("{none_header}.{claims}."),
        tampered_signature,
        "not-a-token".to_string(),
        foreign,
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

on_both_backends!(
    refresh_rotates_and_reuse_revokes_the_session,
    logout_ends_the_session,
    forged_and_foreign_tokens_are_refused,
    failed_logins_are_audited,
);
