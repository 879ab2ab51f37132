//! People's sessions: register, log in, bearer tokens.

use hashmarket_api::auth::Role;
use serde_json::json;

use crate::fixtures::{user, PASSWORD};
use crate::helpers::{assert_problem, TestApp};
use crate::on_both_backends;

async fn register_then_log_in(app: TestApp) {
    let response = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": "  New.User@Example.com ", "password": PASSWORD}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let registered: serde_json::Value = response.json().await.unwrap();
    let login = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "new.user@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status().as_u16(), 200);
    let tokens: serde_json::Value = login.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["expires_in"].as_i64().unwrap() > 0);
    let me: serde_json::Value = app
        .client
        .get(app.url("/v1/me"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user_id"], registered["user_id"]);
    assert_eq!(me["role"], "user");
    assert_eq!(me["email_verified"], false);
    let again = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": "new.user@example.com", "password": PASSWORD}),
        )
        .await;
    assert_problem(again, 409, "email-taken").await;
}

async fn bad_credentials_and_bad_tokens_are_401(app: TestApp) {
    let someone = user(&app, Role::User, true).await;
    let wrong = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": someone.email, "password": "not the password at all"}),
        )
        .await;
    assert_problem(wrong, 401, "unauthorized").await;
    let nobody = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "nobody@example.com", "password": PASSWORD}),
        )
        .await;
    assert_problem(nobody, 401, "unauthorized").await;
    for header in [
        "Bearer nonsense",
        "Basic abc",
        "Bearer",
        &format!("Bearer {}x", someone.token),
    ] {
        let response = app
            .client
            .get(app.url("/v1/me"))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_problem(response, 401, "unauthorized").await;
    }
    assert_problem(app.get("/v1/me").await, 401, "unauthorized").await;
}

async fn bad_registrations_write_nothing(app: TestApp) {
    let cases = [
        (
            json!({"email": "not-an-email", "password": PASSWORD}),
            422,
            "email",
        ),
        (
            json!({"email": "a@example.com", "password": "short"}),
            422,
            "password",
        ),
        (json!({"email": "a@example.com"}), 422, "body"),
        (
            json!({"email": "a@example.com", "password": PASSWORD, "role": "operator"}),
            422,
            "body",
        ),
    ];
    for (body, status, field) in cases {
        let problem = assert_problem(
            app.post_json("/v1/auth/register", &body).await,
            status,
            "validation",
        )
        .await;
        assert!(
            problem["errors"][0]["field"]
                .as_str()
                .unwrap()
                .contains(field)
                || field == "body",
            "{problem}"
        );
    }
    assert!(app
        .store
        .user_by_email("a@example.com")
        .await
        .unwrap()
        .is_none());
}

on_both_backends!(
    register_then_log_in,
    bad_credentials_and_bad_tokens_are_401,
    bad_registrations_write_nothing,
);
