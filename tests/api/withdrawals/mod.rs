//! Withdrawals over HTTP, on both databases, with email through the real SMTP
//! sink: settings and thresholds, request → emailed token → confirm → operator
//! completes, exact to the satoshi; reject and cancel return the funds; TOTP users
//! confirm with a code; 50 concurrent requests cannot overdraw; one key, one
//! withdrawal; bad input writes nothing; scopes; automatic payouts.
//!
//! One file per concern; what they share to drive the API and read balances
//! behind it is here.

mod auto_payout;
mod lifecycle;
mod races;
mod totp;
mod validation;

use std::str::FromStr;

use hashmarket_store::market::OPERATOR_ID;
use hashmarket_store::withdrawals::{WithdrawalQuery, WithdrawalRow};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use crate::fixtures::TestUser;
use crate::helpers::TestApp;

/// `text` as a decimal (amounts read behind the API).
fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// The caller's BTC balances as strings: (available, pending_withdrawal).
async fn btc(app: &TestApp, who: &TestUser) -> (String, String) {
    let all = app.get_as("/v1/balances", who).await;
    let row = all
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["asset"] == "BTC")
        .cloned()
        .unwrap();
    (
        row["available"].as_str().unwrap().to_string(),
        row["pending_withdrawal"].as_str().unwrap().to_string(),
    )
}

/// An operator account's BTC balance, read behind the API.
async fn operator(app: &TestApp, purpose: &str) -> Decimal {
    app.store
        .balances(OPERATOR_ID)
        .await
        .unwrap()
        .iter()
        .filter(|b| b.account.asset == "BTC" && b.account.purpose == purpose)
        .map(|b| b.balance)
        .sum()
}

/// Every withdrawal in the database.
async fn all_withdrawals(app: &TestApp) -> Vec<WithdrawalRow> {
    app.store
        .withdrawals(&WithdrawalQuery {
            limit: 10_000,
            ..WithdrawalQuery::default()
        })
        .await
        .unwrap()
}

/// Every ledger invariant holds (what `hashmarket verify` checks).
async fn assert_ledger_holds(app: &TestApp) {
    let violations = hashmarket_market::verify::verify(&*app.store)
        .await
        .unwrap();
    assert!(violations.is_empty(), "{violations:?}");
}

/// `body` as JSON to `path` with `method`, as `who`.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    who: &TestUser,
    body: Value,
) -> reqwest::Response {
    app.as_user(method, path, who)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// PUT `/v1/withdrawal-settings` as `who`.
async fn put_settings(app: &TestApp, who: &TestUser, body: Value) -> reqwest::Response {
    send(app, Method::PUT, "/v1/withdrawal-settings", who, body).await
}

/// POST `/v1/withdrawals` as `who`, with a fresh Idempotency-Key.
async fn request(app: &TestApp, who: &TestUser, body: Value) -> reqwest::Response {
    app.post_as("/v1/withdrawals", who, &Uuid::now_v7().to_string(), &body)
        .await
}

/// Requests a withdrawal, asserting 201; returns its view.
async fn requested(app: &TestApp, who: &TestUser, body: Value) -> Value {
    let response = request(app, who, body).await;
    assert_eq!(response.status().as_u16(), 201, "request a withdrawal");
    response.json().await.unwrap()
}

/// POST `/v1/withdrawals/{id}/confirm` as `who`.
async fn confirm(app: &TestApp, who: &TestUser, id: &str, body: Value) -> reqwest::Response {
    let path = format!("/v1/withdrawals/{id}/confirm");
    send(app, Method::POST, &path, who, body).await
}

/// POST `/v1/admin/withdrawals/{id}/{action}` (`complete`, `reject`) as `op`.
async fn admin(
    app: &TestApp,
    op: &TestUser,
    id: &str,
    action: &str,
    body: Value,
) -> reqwest::Response {
    let path = format!("/v1/admin/withdrawals/{id}/{action}");
    send(app, Method::POST, &path, op, body).await
}

/// DELETE `/v1/withdrawals/{id}` as `who`.
async fn cancel(app: &TestApp, who: &TestUser, id: &str) -> reqwest::Response {
    app.as_user(Method::DELETE, &format!("/v1/withdrawals/{id}"), who)
        .send()
        .await
        .unwrap()
}

/// The `id` of a withdrawal's view.
fn id_of(view: &Value) -> String {
    view["id"].as_str().unwrap().to_string()
}
