//! Races and retries: concurrent requests cannot overdraw; one Idempotency-Key
//! makes one withdrawal.

use hashmarket_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

use super::{all_withdrawals, assert_ledger_holds, btc, send};
use crate::fixtures::user;
use crate::helpers::{assert_problem, TestApp};
use crate::on_both_backends;

async fn fifty_concurrent_requests_cannot_overdraw(app: TestApp) {
    let op = user(&app, Role::Operator, true).await;
    let dave = user(&app, Role::User, true).await;
    app.credit(&op, &dave, "1").await;
    let body = json!({"asset": "BTC", "amount": "0.6", "address": "bc1qdave"});
    let attempts = (0..50).map(|i| {
        let (app, dave, body) = (&app, &dave, &body);
        async move {
            app.post_as("/v1/withdrawals", dave, &format!("race-{i}"), body)
                .await
        }
    });
    let responses = futures_util::future::join_all(attempts).await;
    let mut created = 0;
    for response in responses {
        match response.status().as_u16() {
            201 => created += 1,
            _ => {
                assert_problem(response, 422, "insufficient-funds").await;
            }
        }
    }
    assert_eq!(created, 1, "exactly one of 50 requests for 60% succeeds");
    assert_eq!(all_withdrawals(&app).await.len(), 1);
    assert_eq!(
        btc(&app, &dave).await,
        ("0.40000000".into(), "0.60000000".into())
    );
    assert_ledger_holds(&app).await;
}

async fn one_key_one_withdrawal(app: TestApp) {
    let op = user(&app, Role::Operator, true).await;
    let erin = user(&app, Role::User, true).await;
    app.credit(&op, &erin, "0.1").await;
    let body = json!({"asset": "BTC", "amount": "0.01", "address": "bc1qerin"});
    let first = app
        .post_as("/v1/withdrawals", &erin, "same-key", &body)
        .await;
    assert_eq!(first.status().as_u16(), 201);
    let first: Value = first.json().await.unwrap();
    let again = app
        .post_as("/v1/withdrawals", &erin, "same-key", &body)
        .await;
    assert_eq!(again.status().as_u16(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);
    // The same key with another payload, and no key at all.
    let other = json!({"asset": "BTC", "amount": "0.02", "address": "bc1qerin"});
    assert_problem(
        app.post_as("/v1/withdrawals", &erin, "same-key", &other)
            .await,
        422,
        "idempotency-key-reused",
    )
    .await;
    let keyless = send(&app, Method::POST, "/v1/withdrawals", &erin, body.clone()).await;
    assert_problem(keyless, 400, "idempotency-key-missing").await;
    assert_eq!(all_withdrawals(&app).await.len(), 1);
    assert_eq!(
        btc(&app, &erin).await,
        ("0.09000000".into(), "0.01000000".into())
    );
    // A refused request gives its key back: a retry after a credit succeeds.
    let big = json!({"asset": "BTC", "amount": "0.5", "address": "bc1qerin"});
    assert_problem(
        app.post_as("/v1/withdrawals", &erin, "big", &big).await,
        422,
        "insufficient-funds",
    )
    .await;
    app.credit(&op, &erin, "0.5").await;
    let retried = app.post_as("/v1/withdrawals", &erin, "big", &big).await;
    assert_eq!(retried.status().as_u16(), 201);
    assert_eq!(all_withdrawals(&app).await.len(), 2);
}

on_both_backends!(
    config = crate::helpers::smtp_server_config();
    fifty_concurrent_requests_cannot_overdraw,
    one_key_one_withdrawal,
);
