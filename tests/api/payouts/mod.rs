//! Accrual over HTTP on a simulated business clock, on both databases: a contract
//! run to its end with full, partial, zero and missing delivery, to the satoshi;
//! two contracts sharing an under-delivering rig; re-runs and concurrent runs
//! credit nothing twice; bad input to the operator endpoints; statements; the
//! ledger's hash chain.
//!
//! One file per concern; the clock, report and contract helpers here are shared
//! with the finance tests.

mod accrual;
mod chain;
mod reports;
mod statements;

use chrono::{DateTime, Duration, Utc};
use hashmarket_api::ServerConfig;
use hashmarket_market::BusinessClock;
use hashmarket_payouts::service::AccrualConfig;
use reqwest::Method;
use serde_json::{json, Value};

use crate::fixtures::TestUser;
use crate::helpers::{test_config, TestApp};

/// The business clock starts here; periods are 6 h, the grace 1 h.
pub(crate) fn t0() -> DateTime<Utc> {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

/// The test server on a business clock simulated from [`t0`], with 6-hour
/// accrual periods, a 1-hour grace, and postings written two at a time.
pub fn config() -> ServerConfig {
    ServerConfig {
        clock: BusinessClock::simulated(t0()),
        accrual: AccrualConfig {
            period_secs: 6 * 3600,
            grace_secs: 3600,
            page_contracts: 1000,
            // Every run writes its journal in several slices.
            post_slice_transfers: 2,
        },
        ..test_config()
    }
}

/// POST `body` as JSON to `path` as `who`.
pub(crate) async fn post(
    app: &TestApp,
    who: &TestUser,
    path: &str,
    body: Value,
) -> reqwest::Response {
    app.as_user(Method::POST, path, who)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Moves the simulated business clock to `now` (operator).
pub(crate) async fn set_clock(app: &TestApp, operator: &TestUser, now: DateTime<Utc>) {
    let response = post(app, operator, "/v1/admin/clock", json!({"now": now})).await;
    assert_eq!(response.status().as_u16(), 200, "move the clock");
}

/// Runs accrual now (operator), asserting 200; returns the run's summary.
pub(crate) async fn accrue(app: &TestApp, operator: &TestUser) -> Value {
    let response = post(app, operator, "/v1/admin/accrue", json!(null)).await;
    assert_eq!(response.status().as_u16(), 200, "accrue");
    response.json().await.unwrap()
}

/// Reports `rig` delivered `rate` from `hours.0` to `hours.1` after [`t0`].
pub(crate) async fn deliver(
    app: &TestApp,
    operator: &TestUser,
    rig: &str,
    hours: (i64, i64),
    rate: &str,
) {
    let body = json!({"rig_id": rig, "from": t0() + Duration::hours(hours.0),
        "to": t0() + Duration::hours(hours.1), "hash_rate": rate});
    let response = post(app, operator, "/v1/admin/deliveries", body).await;
    assert_eq!(response.status().as_u16(), 201, "delivery {hours:?}");
}

/// Sets the sha256 hashprice to `price` for two days from [`t0`].
pub(crate) async fn hashprice(app: &TestApp, operator: &TestUser, price: &str) {
    let body = json!({"algorithm": "sha256", "from": t0(), "to": t0() + Duration::days(2), "price": price});
    let response = post(app, operator, "/v1/admin/hashprice", body).await;
    assert_eq!(response.status().as_u16(), 201);
}

/// A rig of 100 TH/s and a 1-day contract of `hash_rate` at 0.0001 BTC per TH/s
/// per day for each buyer; returns the rig id and the contracts' ids.
pub(crate) async fn contracts(
    app: &TestApp,
    operator: &TestUser,
    seller: &TestUser,
    buyers: &[&TestUser],
    hash_rate: &str,
) -> (String, Vec<String>) {
    let rig = post(
        app,
        seller,
        "/v1/rigs",
        json!({"name": "rig", "algorithm": "sha256", "hash_rate": "100 TH/s"}),
    )
    .await;
    assert_eq!(rig.status().as_u16(), 201);
    let rig_id = rig.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut ids = Vec::new();
    for buyer in buyers {
        app.credit(operator, buyer, "1").await;
        let ask = app
            .post_as("/v1/orders", seller, &uuid::Uuid::now_v7().to_string(),
                &json!({"market": "sha256-1d", "side": "sell", "hash_rate": hash_rate, "price": "0.00010000", "rig_id": rig_id}))
            .await;
        assert_eq!(ask.status().as_u16(), 201);
        let bid = app
            .post_as("/v1/orders", buyer, &uuid::Uuid::now_v7().to_string(),
                &json!({"market": "sha256-1d", "side": "buy", "hash_rate": hash_rate, "price": "0.00010000"}))
            .await;
        assert_eq!(bid.status().as_u16(), 201);
        let bid: Value = bid.json().await.unwrap();
        ids.push(bid["fills"][0]["contract_id"].as_str().unwrap().to_string());
    }
    (rig_id, ids)
}

/// The `field` (`available`, `escrow`, ...) of `asset` in a balances answer;
/// zero when the asset is not listed.
pub(crate) fn balance(balances: &Value, asset: &str, field: &str) -> String {
    balances
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["asset"] == asset)
        .map(|b| b[field].as_str().unwrap().to_string())
        .unwrap_or_else(|| "0.00000000".into())
}
