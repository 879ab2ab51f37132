//! TOTP: enrolment, confirmation, and no code used twice.

use chrono::Utc;
use hashmarket_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

use super::post_as_json;
use crate::fixtures::user;
use crate::helpers::{assert_problem, totp_code, TestApp};
use crate::on_both_backends;

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

on_both_backends!(totp_enrol_confirm_and_no_replay);
