//! Accrual over HTTP on a simulated business clock, on both databases: a contract
//! run to its end with full, partial, zero and missing delivery, to the satoshi;
//! two contracts sharing an under-delivering rig; re-runs and concurrent runs
//! credit nothing twice; bad input to the operator endpoints.

use chrono::{DateTime, Duration, Utc};
use hashmarket_api::auth::Role;
use hashmarket_api::ServerConfig;
use hashmarket_market::BusinessClock;
use hashmarket_payouts::service::AccrualConfig;
use reqwest::Method;
use serde_json::{json, Value};

use crate::fixtures::{user, TestUser};
use crate::helpers::{assert_problem, test_config, TestApp};
use crate::on_both_backends;

/// The business clock starts here; periods are 6 h, the grace 1 h.
pub(crate) fn t0() -> DateTime<Utc> {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

pub fn config() -> ServerConfig {
    ServerConfig {
        clock: BusinessClock::simulated(t0()),
        accrual: AccrualConfig {
            period_secs: 6 * 3600,
            grace_secs: 3600,
            page_contracts: 1000,
        },
        ..test_config()
    }
}

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

pub(crate) async fn set_clock(app: &TestApp, operator: &TestUser, now: DateTime<Utc>) {
    let response = post(app, operator, "/v1/admin/clock", json!({"now": now})).await;
    assert_eq!(response.status().as_u16(), 200, "move the clock");
}

pub(crate) async fn accrue(app: &TestApp, operator: &TestUser) -> Value {
    let response = post(app, operator, "/v1/admin/accrue", json!(null)).await;
    assert_eq!(response.status().as_u16(), 200, "accrue");
    response.json().await.unwrap()
}

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

pub(crate) fn balance(balances: &Value, asset: &str, field: &str) -> String {
    balances
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["asset"] == asset)
        .map(|b| b[field].as_str().unwrap().to_string())
        .unwrap_or_else(|| "0.00000000".into())
}

async fn a_contract_runs_to_its_end_exact_to_the_satoshi(app: TestApp) {
    let operator = user(&app, Role::Operator, true).await;
    let seller = user(&app, Role::User, true).await;
    let buyer = user(&app, Role::User, true).await;
    let (rig, ids) = contracts(&app, &operator, &seller, &[&buyer], "10 TH/s").await;
    let contract = &ids[0];
    // Cost 10 × 1 day × 0.0001 = 0.001 BTC = 100,000 sat: 25,000 per 6-hour period.
    hashprice(&app, &operator, "0.00000068").await;
    // A day later the pool reports (reports cannot be for the future).
    set_clock(&app, &operator, t0() + Duration::hours(24)).await;
    deliver(&app, &operator, &rig, (0, 6), "10 TH/s").await; // full
    deliver(&app, &operator, &rig, (6, 12), "5 TH/s").await; // half
    deliver(&app, &operator, &rig, (12, 18), "0 TH/s").await; // none
                                                              // 18–24: no report at all.
    let run = accrue(&app, &operator).await;
    assert_eq!(
        (run["periods"].as_u64(), run["waiting"].as_u64()),
        (Some(3), Some(1))
    );
    let view = app
        .get_as(&format!("/v1/contracts/{contract}"), &buyer)
        .await;
    assert_eq!(
        view["status"], "active",
        "the last period waits for its data"
    );
    assert_eq!(view["released_to_seller"], "0.00037500");

    // After the grace, the missing period counts as not delivered.
    set_clock(&app, &operator, t0() + Duration::hours(26)).await;
    let run = accrue(&app, &operator).await;
    assert_eq!(
        (run["periods"].as_u64(), run["completed"].as_u64()),
        (Some(1), Some(1))
    );
    let view = app
        .get_as(&format!("/v1/contracts/{contract}"), &buyer)
        .await;
    assert_eq!(view["status"], "completed");
    assert_eq!(view["released_to_seller"], "0.00037500"); // 25,000 + 12,500 sat
    assert_eq!(view["refunded_to_buyer"], "0.00062500"); // the rest of 100,000
                                                         // Revenue: 10 TH/s × 6 h + 5 TH/s × 6 h at 68 sat per TH/s per day = 170 + 85 sat.
    assert_eq!(view["mining_revenue"], "0.00000255");

    // Seller: 37,500 − 2% fee (750) = 36,750 sat.
    let seller_balances = app.get_as("/v1/balances", &seller).await;
    assert_eq!(balance(&seller_balances, "BTC", "available"), "0.00036750");
    // Buyer: 1 − 0.001 cost − 0.00003 fee + 0.000625 refund + 0.00000255 revenue.
    let buyer_balances = app.get_as("/v1/balances", &buyer).await;
    assert_eq!(balance(&buyer_balances, "BTC", "available"), "0.99959755");
    assert_eq!(balance(&buyer_balances, "BTC", "escrow"), "0.00000000");

    // Running again changes nothing.
    let again = accrue(&app, &operator).await;
    assert_eq!(again["periods"], 0);
    assert_eq!(
        app.get_as("/v1/balances", &buyer).await,
        buyer_balances,
        "a re-run credits nothing"
    );
    let violations = hashmarket_market::verify::verify(&*app.store)
        .await
        .unwrap();
    assert!(violations.is_empty(), "{violations:?}");
    statements_of_the_finished_contract(&app, &buyer, &seller, contract, &rig).await;
}

/// Statements (HM-7 §3) of the contract above: per period, the rig for its
/// seller, the users, the chart; nobody else sees them.
async fn statements_of_the_finished_contract(
    app: &TestApp,
    buyer: &TestUser,
    seller: &TestUser,
    contract: &str,
    rig: &str,
) {
    let statement = app
        .get_as(&format!("/v1/contracts/{contract}/statement"), buyer)
        .await;
    let periods = statement["periods"].as_array().unwrap();
    let delivered: Vec<&str> = periods
        .iter()
        .map(|p| p["delivered_hs"].as_str().unwrap())
        .collect();
    assert_eq!(delivered, ["10000000000000", "5000000000000", "0", "0"]);
    assert_eq!(periods[3]["refunded"], "0.00062500");
    let csv = app
        .as_user(
            Method::GET,
            &format!("/v1/contracts/{contract}/statement?format=csv"),
            seller,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with(
        "from,to,contracted_hs,delivered_hs,released,seller_fee,revenue,refunded\r\n"
    ));
    assert_eq!(csv.lines().count(), 5);
    let rig_report = app
        .get_as(&format!("/v1/rigs/{rig}/statement"), seller)
        .await;
    let earnings: Vec<&str> = rig_report
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["earnings"].as_str().unwrap())
        .collect();
    assert_eq!(
        earnings,
        ["0.00024500", "0.00012250", "0.00000000", "0.00000000"]
    );
    let mine = app.get_as("/v1/statements", buyer).await;
    let btc = &mine["summary"][0];
    assert_eq!(
        (
            btc["deposited"].as_str(),
            btc["purchases"].as_str(),
            btc["refunds"].as_str(),
            btc["mining_revenue"].as_str()
        ),
        (
            Some("1.00000000"),
            Some("0.00103000"),
            Some("0.00062500"),
            Some("0.00000255")
        )
    );
    let sold = app.get_as("/v1/statements", seller).await;
    assert_eq!(sold["summary"][0]["sales"], "0.00036750");
    let chart = app
        .as_user(
            Method::GET,
            &format!("/v1/contracts/{contract}/chart.svg"),
            buyer,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(chart.headers()["content-type"], "image/svg+xml");
    let svg = chart.text().await.unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("polyline"));
    assert!(svg.contains("0.00037500 of 0.00100000"), "{svg}");
    let stranger = user(app, Role::User, true).await;
    for path in [
        format!("/v1/contracts/{contract}/statement"),
        format!("/v1/contracts/{contract}/chart.svg"),
        format!("/v1/rigs/{rig}/statement"),
    ] {
        let response = app
            .as_user(Method::GET, &path, &stranger)
            .send()
            .await
            .unwrap();
        assert_problem(response, 404, "not-found").await;
    }
    let bad = app
        .as_user(Method::GET, "/v1/statements?format=xml", buyer)
        .send()
        .await
        .unwrap();
    assert_problem(bad, 422, "validation").await;
}

async fn two_contracts_share_an_under_delivering_rig(app: TestApp) {
    let operator = user(&app, Role::Operator, true).await;
    let seller = user(&app, Role::User, true).await;
    let (a, b) = (
        user(&app, Role::User, true).await,
        user(&app, Role::User, true).await,
    );
    let (rig, ids) = contracts(&app, &operator, &seller, &[&a, &b], "10 TH/s").await;
    hashprice(&app, &operator, "0.00000068").await;
    set_clock(&app, &operator, t0() + Duration::hours(24)).await;
    // 10 TH/s delivered against 20 TH/s contracted, all day: each gets half.
    for h in (0..24).step_by(6) {
        deliver(&app, &operator, &rig, (h, h + 6), "10 TH/s").await;
    }
    let run = accrue(&app, &operator).await;
    assert_eq!(
        (run["periods"].as_u64(), run["completed"].as_u64()),
        (Some(8), Some(2))
    );
    for (id, buyer) in ids.iter().zip([&a, &b]) {
        let view = app.get_as(&format!("/v1/contracts/{id}"), buyer).await;
        assert_eq!(view["released_to_seller"], "0.00050000");
        assert_eq!(view["refunded_to_buyer"], "0.00050000");
        assert_eq!(view["delivered_ratio"], "0.5");
    }
    let seller_balances = app.get_as("/v1/balances", &seller).await;
    // 2 × 50,000 released − 2% = 98,000 sat.
    assert_eq!(balance(&seller_balances, "BTC", "available"), "0.00098000");
    assert!(hashmarket_market::verify::verify(&*app.store)
        .await
        .unwrap()
        .is_empty());
}

async fn concurrent_runs_credit_each_period_once(app: TestApp) {
    let operator = user(&app, Role::Operator, true).await;
    let seller = user(&app, Role::User, true).await;
    let buyers = [
        user(&app, Role::User, true).await,
        user(&app, Role::User, true).await,
        user(&app, Role::User, true).await,
    ];
    let refs: Vec<&TestUser> = buyers.iter().collect();
    let (rig, ids) = contracts(&app, &operator, &seller, &refs, "5 TH/s").await;
    hashprice(&app, &operator, "0.00000068").await;
    set_clock(&app, &operator, t0() + Duration::hours(24)).await;
    for h in (0..24).step_by(6) {
        deliver(&app, &operator, &rig, (h, h + 6), "15 TH/s").await;
    }
    // Eight runs at once: each (contract, period) is accrued by exactly one.
    let runs = futures_util::future::join_all((0..8).map(|_| {
        let (app, operator) = (&app, &operator);
        async move { post(app, operator, "/v1/admin/accrue", json!(null)).await }
    }))
    .await;
    let mut periods = 0;
    for run in runs {
        // A run that lost the race on a page rolls it back (503) — retry-safe.
        if run.status().as_u16() == 200 {
            periods += run.json::<Value>().await.unwrap()["periods"]
                .as_u64()
                .unwrap();
        }
    }
    let last = accrue(&app, &operator).await;
    periods += last["periods"].as_u64().unwrap();
    assert_eq!(periods, 12, "3 contracts × 4 periods, each once");
    for id in &ids {
        let rows = app.store.accruals(id.parse().unwrap()).await.unwrap();
        assert_eq!(rows.len(), 4);
    }
    let seller_balances = app.get_as("/v1/balances", &seller).await;
    // Full delivery: 3 × 50,000 sat released, − 2%.
    assert_eq!(balance(&seller_balances, "BTC", "available"), "0.00147000");
    assert!(hashmarket_market::verify::verify(&*app.store)
        .await
        .unwrap()
        .is_empty());
}

async fn bad_reports_are_problems_and_write_nothing(app: TestApp) {
    let operator = user(&app, Role::Operator, true).await;
    let seller = user(&app, Role::User, true).await;
    let rig = post(
        &app,
        &seller,
        "/v1/rigs",
        json!({"name": "rig", "algorithm": "sha256", "hash_rate": "100 TH/s"}),
    )
    .await;
    let rig = rig.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let t = |h: i64| t0() - Duration::hours(48) + Duration::hours(h);
    for (body, status, field) in [
        (
            json!({"algorithm": "nope", "from": t(0), "to": t(1), "price": "0.1"}),
            422,
            "algorithm",
        ),
        (
            json!({"algorithm": "sha256", "from": t(1), "to": t(0), "price": "0.1"}),
            422,
            "to",
        ),
        (
            json!({"algorithm": "sha256", "from": t(0), "to": t(0) + Duration::days(40), "price": "0.1"}),
            422,
            "to",
        ),
        (
            json!({"algorithm": "sha256", "from": t(0), "to": t(1), "price": "-1"}),
            422,
            "price",
        ),
        (
            json!({"algorithm": "sha256", "from": t(0), "to": t(1), "price": "0.000000001"}),
            422,
            "price",
        ),
        (
            json!({"algorithm": "sha256", "from": t(0), "to": t(1)}),
            422,
            "price",
        ),
        (
            json!({"algorithm": "sha256", "from": t(0), "to": t(1), "block_reward": "3.125", "fees_per_block": "0.25", "difficulty": "0"}),
            422,
            "difficulty",
        ),
    ] {
        let response = post(&app, &operator, "/v1/admin/hashprice", body.clone()).await;
        assert_eq!(response.status().as_u16(), status, "{body}");
        let problem = assert_problem(response, status, "validation").await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    for (body, field) in [
        (
            json!({"rig_id": rig, "from": t(1), "to": t(0), "hash_rate": "1 TH/s"}),
            "to",
        ),
        (
            json!({"rig_id": rig, "from": t(0), "to": t(30), "hash_rate": "1 TH/s"}),
            "to",
        ),
        (
            json!({"rig_id": rig, "from": t0(), "to": t0() + Duration::hours(1), "hash_rate": "1 TH/s"}),
            "to",
        ),
        (
            json!({"rig_id": rig, "from": t(0), "to": t(1), "hash_rate": "201 TH/s"}),
            "hash_rate",
        ),
        (
            json!({"rig_id": rig, "from": t(0), "to": t(1), "hash_rate": "-1 TH/s"}),
            "hash_rate",
        ),
        (
            json!({"rig_id": rig, "from": t(0), "to": t(1), "hash_rate": "1 parsecs"}),
            "hash_rate",
        ),
        (
            json!({"rig_id": uuid::Uuid::now_v7(), "from": t(0), "to": t(1), "hash_rate": "1 TH/s"}),
            "rig_id",
        ),
    ] {
        let problem = assert_problem(
            post(&app, &operator, "/v1/admin/deliveries", body).await,
            422,
            "validation",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    // Idempotent per rig and interval; a different overlapping report is 409.
    let report = json!({"rig_id": rig, "from": t(0), "to": t(6), "hash_rate": "90 TH/s"});
    assert_eq!(
        post(&app, &operator, "/v1/admin/deliveries", report.clone())
            .await
            .status()
            .as_u16(),
        201
    );
    assert_eq!(
        post(&app, &operator, "/v1/admin/deliveries", report)
            .await
            .status()
            .as_u16(),
        200
    );
    let overlapping = json!({"rig_id": rig, "from": t(3), "to": t(9), "hash_rate": "90 TH/s"});
    assert_problem(
        post(&app, &operator, "/v1/admin/deliveries", overlapping).await,
        409,
        "report-overlaps",
    )
    .await;
    // The derived form: 3.125 + 0.25 BTC per block at difficulty 1e14 → 67 sat per TH/s per day.
    let derived = post(
        &app,
        &operator,
        "/v1/admin/hashprice",
        json!({"algorithm": "sha256", "from": t(0), "to": t(24),
        "block_reward": "3.125", "fees_per_block": "0.25", "difficulty": "100000000000000"}),
    )
    .await;
    assert_eq!(derived.status().as_u16(), 201);
    assert_eq!(
        derived.json::<Value>().await.unwrap()["price"],
        "0.00000067"
    );
    // Users may not report.
    let body = json!({"rig_id": rig, "from": t(10), "to": t(11), "hash_rate": "1 TH/s"});
    assert_problem(
        post(&app, &seller, "/v1/admin/deliveries", body).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        post(&app, &seller, "/v1/admin/accrue", json!(null)).await,
        403,
        "forbidden",
    )
    .await;
}

/// `hashmarket accrue` killed with SIGKILL again and again, a little later each
/// time, one contract per transaction, until a run finishes by itself: whatever
/// moment each kill lands, every (contract, period) is accrued exactly once and
/// the money is exact.
async fn a_killed_accrual_resumes_and_credits_nothing_twice(app: TestApp) {
    const CONTRACTS: usize = 20;
    let operator = user(&app, Role::Operator, true).await;
    let seller = user(&app, Role::User, true).await;
    let mut buyers = Vec::new();
    for _ in 0..CONTRACTS {
        buyers.push(user(&app, Role::User, true).await);
    }
    let refs: Vec<&TestUser> = buyers.iter().collect();
    let (rig, ids) = contracts(&app, &operator, &seller, &refs, "5 TH/s").await;
    hashprice(&app, &operator, "0.00000068").await;
    set_clock(&app, &operator, t0() + Duration::hours(26)).await;
    for h in (0..24).step_by(6) {
        deliver(&app, &operator, &rig, (h, h + 6), "100 TH/s").await;
    }
    let accrued = || async {
        let mut rows = 0;
        for id in &ids {
            rows += app.store.accruals(id.parse().unwrap()).await.unwrap().len();
        }
        rows
    };
    let total = CONTRACTS * 4;
    let until = (t0() + Duration::hours(26)).to_rfc3339();
    let (mut kills, mut kills_part_way) = (0, 0);
    for round in 1..=200u64 {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hashmarket"))
            .args(["accrue", "--database-url", &app.db.url, "--until", &until])
            .args([
                "--accrual-period-secs",
                "21600",
                "--accrual-grace-secs",
                "3600",
            ])
            .args(["--accrual-page-contracts", "1"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5 * round)).await;
        if child.try_wait().unwrap().is_some() {
            assert!(child.wait().unwrap().success(), "an accrue run failed");
            break;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        let rows = accrued().await;
        if 0 < rows && rows < total {
            kills_part_way += 1;
        }
    }
    eprintln!("accrue killed {kills} times, {kills_part_way} of them part way");
    assert!(
        kills_part_way >= 1,
        "no kill landed part way ({kills} kills)"
    );
    assert_eq!(accrued().await, total, "every (contract, period) once");
    for (id, buyer) in ids.iter().zip(&buyers) {
        let view = app.get_as(&format!("/v1/contracts/{id}"), buyer).await;
        assert_eq!(view["status"], "completed");
        assert_eq!(view["released_to_seller"], "0.00050000");
    }
    // Full delivery: 20 × 50,000 sat released to the seller, less 2%.
    let seller_balances = app.get_as("/v1/balances", &seller).await;
    assert_eq!(balance(&seller_balances, "BTC", "available"), "0.00980000");
    let again = accrue(&app, &operator).await;
    assert_eq!(again["periods"], 0, "nothing left to accrue");
    let violations = hashmarket_market::verify::verify(&*app.store)
        .await
        .unwrap();
    assert!(violations.is_empty(), "{violations:?}");
}

on_both_backends!(
    config = crate::payouts::config();
    a_contract_runs_to_its_end_exact_to_the_satoshi,
    two_contracts_share_an_under_delivering_rig,
    concurrent_runs_credit_each_period_once,
    bad_reports_are_problems_and_write_nothing,
    a_killed_accrual_resumes_and_credits_nothing_twice,
);

/// A statement without `to` runs to the business clock's now, also when a
/// simulated clock is ahead of the wall clock.
mod future_clock {
    use super::*;

    pub(crate) fn config() -> ServerConfig {
        ServerConfig {
            clock: BusinessClock::simulated("2030-01-01T00:00:00Z".parse().unwrap()),
            ..test_config()
        }
    }

    async fn a_statement_includes_what_the_business_clock_has_seen(app: TestApp) {
        let operator = user(&app, Role::Operator, true).await;
        let buyer = user(&app, Role::User, true).await;
        app.credit(&operator, &buyer, "0.5").await;
        let statement = app.get_as("/v1/statements", &buyer).await;
        assert_eq!(
            statement["summary"][0]["deposited"], "0.50000000",
            "{statement}"
        );
    }

    on_both_backends!(
        config = crate::payouts::future_clock::config();
        a_statement_includes_what_the_business_clock_has_seen,
    );
}

/// HM-7 §4: the ledger's hash chain names the first altered entry.
mod chain {
    use super::*;
    use hashmarket_store::Backend;

    async fn execute(app: &TestApp, postgres_sql: &str, sqlite_sql: &str) {
        match app.store.backend() {
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
                sqlx::query(postgres_sql).execute(&pool).await.unwrap();
                pool.close().await;
            }
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&app.db.url).await.unwrap();
                sqlx::query(sqlite_sql).execute(&pool).await.unwrap();
                pool.close().await;
            }
        }
    }

    async fn an_altered_entry_breaks_the_chain_and_verify_names_it(app: TestApp) {
        let operator = user(&app, Role::Operator, true).await;
        let seller = user(&app, Role::User, true).await;
        let buyer = user(&app, Role::User, true).await;
        contracts(&app, &operator, &seller, &[&buyer], "10 TH/s").await;
        let verify = || hashmarket_market::verify::verify(&*app.store);
        assert!(verify().await.unwrap().is_empty());
        let (head, entries) = app.store.chain_head().await.unwrap();
        assert!(
            entries >= 6,
            "credit, hold, fill, fee, ... are chained: {entries}"
        );
        assert_ne!(head, hashmarket_store::chain::GENESIS);
        // Change the third entry's balance_after behind the server's back.
        let third = app.store.chained_entries(0, 3).await.unwrap()[2].seq;
        execute(
            &app,
            &format!(
                "UPDATE ledger_entries SET balance_after = balance_after + 1 WHERE seq = {third}"
            ),
            &format!("UPDATE ledger_entries SET balance_after = '999' WHERE seq = {third}"),
        )
        .await;
        let violations = verify().await.unwrap();
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert!(
            violations[0]
                .to_string()
                .contains(&format!("ledger entry {third} breaks the hash chain")),
            "{violations:?}"
        );
    }

    /// The copy of a transfer's kind on its entries (what exports read) is checked
    /// against the transfer.
    async fn an_entry_whose_kind_was_changed_is_named(app: TestApp) {
        let operator = user(&app, Role::Operator, true).await;
        let buyer = user(&app, Role::User, true).await;
        app.credit(&operator, &buyer, "1").await;
        let first = app.store.chained_entries(0, 1).await.unwrap()[0].seq;
        let sql = format!("UPDATE ledger_entries SET kind = 'refund' WHERE seq = {first}");
        execute(&app, &sql, &sql).await;
        let violations = hashmarket_market::verify::verify(&*app.store)
            .await
            .unwrap();
        assert_eq!(
            violations
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [format!(
                "ledger entry {first}: its kind or links differ from its transfer's"
            )]
        );
    }

    on_both_backends!(
        config = crate::payouts::config();
        an_altered_entry_breaks_the_chain_and_verify_names_it,
        an_entry_whose_kind_was_changed_is_named,
    );
}
