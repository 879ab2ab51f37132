//! Accrual of contracts to their end: full, partial, zero and missing delivery,
//! exact to the satoshi; a shared under-delivering rig; concurrent and killed
//! runs credit each (contract, period) once.

use chrono::Duration;
use hashmarket_api::auth::Role;
use serde_json::{json, Value};

use super::statements::statements_of_the_finished_contract;
use super::{accrue, balance, contracts, deliver, hashprice, post, set_clock, t0};
use crate::fixtures::{user, TestUser};
use crate::helpers::TestApp;
use crate::on_both_backends;

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

/// One run over three contracts of two buyers with one seller posts one transfer
/// per (kind, account pair) — releases through the operator's `settlement` — under
/// one reference that its accrual rows carry; `verify` reconciles the two and
/// names a posting whose rows were changed behind its back.
async fn a_run_posts_sums_per_account_that_reconcile_with_its_rows(app: TestApp) {
    let operator = user(&app, Role::Operator, true).await;
    let seller = user(&app, Role::User, true).await;
    let (a, b) = (
        user(&app, Role::User, true).await,
        user(&app, Role::User, true).await,
    );
    let (rig, ids) = contracts(&app, &operator, &seller, &[&a, &b, &a], "10 TH/s").await;
    hashprice(&app, &operator, "0.00000068").await;
    set_clock(&app, &operator, t0() + Duration::hours(24)).await;
    for h in (0..24).step_by(6) {
        deliver(&app, &operator, &rig, (h, h + 6), "15 TH/s").await;
    }
    let run = accrue(&app, &operator).await;
    assert_eq!(
        (run["periods"].as_u64(), run["completed"].as_u64()),
        (Some(12), Some(3))
    );
    let prefix = hashmarket_store::payouts::ACCRUAL_POSTING_PREFIX;
    let posted = app.store.posted_totals(prefix).await.unwrap();
    let references: std::collections::BTreeSet<&str> =
        posted.iter().map(|p| p.reference.as_str()).collect();
    assert_eq!(references.len(), 1, "one transaction, one reference");
    let legs: Vec<(&str, &str, &str, String)> = posted
        .iter()
        .map(|p| {
            let amount = p.amount.normalize().to_string();
            (
                p.kind.as_str(),
                p.debit_purpose.as_str(),
                p.credit_purpose.as_str(),
                amount,
            )
        })
        .collect();
    // 15 of 30 TH/s delivered: each contract releases half its 0.001 BTC cost.
    for leg in [
        ("release", "contract_escrow", "settlement", "0.0015"),
        ("release", "settlement", "available", "0.0015"),
        ("seller_fee", "available", "fees", "0.00003"),
        ("refund", "contract_escrow", "available", "0.0015"),
    ] {
        let leg = (leg.0, leg.1, leg.2, leg.3.to_string());
        assert!(legs.contains(&leg), "{leg:?} not in {legs:?}");
    }
    let operator_entries = app
        .store
        .ledger_entries(
            hashmarket_store::market::OPERATOR_ID,
            Some("BTC"),
            None,
            1000,
        )
        .await
        .unwrap();
    let settlement: Vec<_> = operator_entries
        .iter()
        .filter(|e| e.entry.account.purpose == "settlement")
        .collect();
    // In from each of the two buyers, out to the one seller: three entries, not
    // one per contract-period (12) or per contract (3 + 3).
    assert_eq!(settlement.len(), 3, "{settlement:?}");
    let rows = app.store.accruals(ids[0].parse().unwrap()).await.unwrap();
    assert!(rows
        .iter()
        .all(|r| r.posting.as_deref() == references.first().copied()));
    assert!(hashmarket_market::verify::verify(&*app.store)
        .await
        .unwrap()
        .is_empty());

    app.tamper(&format!(
        "UPDATE accruals SET revenue = maintenance WHERE contract_id = '{}'",
        ids[1]
    ))
    .await;
    let violations = hashmarket_market::verify::verify(&*app.store)
        .await
        .unwrap();
    assert!(
        violations
            .iter()
            .any(|v| v.0.contains("revenue posted") && v.0.contains(references.first().unwrap())),
        "{violations:?}"
    );
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
    a_run_posts_sums_per_account_that_reconcile_with_its_rows,
    concurrent_runs_credit_each_period_once,
    a_killed_accrual_resumes_and_credits_nothing_twice,
);
