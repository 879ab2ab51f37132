//! Finance (HM-7 §1–2) on both databases: a full marketplace story (credits, a
//! fill, accrual to the contract's end, a withdrawal request) exported as CSV and
//! NDJSON, over HTTP and from the CLI, whose totals match the reconciliation to the
//! satoshi; reconciliation of two halves chains into the whole; only finance may
//! read them; bad queries are problems.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::Duration;
use hashmarket_api::auth::Role;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{user, TestUser};
use crate::helpers::{assert_problem, TestApp};
use crate::on_both_backends;
use crate::payouts::{accrue, contracts, deliver, hashprice, set_clock, t0};

const BIN: &str = env!("CARGO_BIN_EXE_hashmarket");

/// (owner, asset, account) → (Σ debit, Σ credit, last balance_after).
type Totals = BTreeMap<(String, String, String), (Decimal, Decimal, Decimal)>;

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_else(|_| panic!("a decimal: {text:?}"))
}

async fn get_text(app: &TestApp, who: &TestUser, path: &str) -> (String, String) {
    let response = app.as_user(Method::GET, path, who).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "GET {path}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    (content_type, response.text().await.unwrap())
}

/// The story: two buyers funded (one with a reference that needs CSV quoting), a
/// contract each run to its end by accrual, a withdrawal request.
async fn story(app: &TestApp) -> (TestUser, TestUser) {
    let operator = user(app, Role::Operator, true).await;
    let seller = user(app, Role::User, true).await;
    let alice = user(app, Role::User, true).await;
    let bob = user(app, Role::User, true).await;
    let quoted = json!({"user_id": alice.id, "asset": "BTC", "amount": "0.25",
        "reference": "wire \"A-17\", second tranche"});
    let response = app
        .post_as(
            "/v1/admin/credits",
            &operator,
            &Uuid::now_v7().to_string(),
            &quoted,
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let (rig, _) = contracts(app, &operator, &seller, &[&alice, &bob], "10 TH/s").await;
    hashprice(app, &operator, "0.00000068").await;
    set_clock(app, &operator, t0() + Duration::hours(26)).await;
    deliver(app, &operator, &rig, (0, 12), "20 TH/s").await;
    deliver(app, &operator, &rig, (12, 24), "15 TH/s").await;
    let run = accrue(app, &operator).await;
    assert_eq!(run["completed"], 2, "{run}");
    let withdrawal = app
        .post_as(
            "/v1/withdrawals",
            &alice,
            &Uuid::now_v7().to_string(),
            &json!({"asset": "BTC", "amount": "0.1", "address": "bc1qalice"}),
        )
        .await;
    assert!(withdrawal.status().is_success(), "{}", withdrawal.status());
    (operator, alice)
}

/// Parses the CSV export with the csv crate (an independent RFC 4180 reader),
/// checking the header and that entry ids rise; returns the records as maps.
fn parse_csv(text: &str) -> Vec<BTreeMap<String, String>> {
    assert!(text.ends_with("\r\n"), "records end in CRLF");
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, hashmarket_api::finance::EXPORT_COLUMNS);
    let rows: Vec<BTreeMap<String, String>> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect();
    let ids: Vec<i64> = rows
        .iter()
        .map(|r| r["entry_id"].parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "journal order");
    rows
}

fn totals(rows: &[BTreeMap<String, String>]) -> Totals {
    let mut totals = Totals::new();
    for r in rows {
        let key = (
            r["owner_id"].clone(),
            r["asset"].clone(),
            r["account"].clone(),
        );
        let t = totals.entry(key).or_default();
        t.0 += d(&r["debit"]);
        t.1 += d(&r["credit"]);
        t.2 = d(&r["balance_after"]);
    }
    totals
}

async fn reconciliation(app: &TestApp, finance: &TestUser, query: &str) -> Value {
    app.get_as(&format!("/v1/finance/reconciliation{query}"), finance)
        .await
}

async fn the_export_matches_the_reconciliation_to_the_satoshi(app: TestApp) {
    let (_, alice) = story(&app).await;
    let finance = user(&app, Role::Finance, true).await;

    let (content_type, csv_text) = get_text(&app, &finance, "/v1/finance/ledger?format=csv").await;
    assert_eq!(content_type, "text/csv; charset=utf-8");
    let rows = parse_csv(&csv_text);
    assert!(rows.len() > 20, "a whole story: {} entries", rows.len());
    assert!(
        rows.iter().all(|r| r["chain_hash"].len() == 64),
        "chain hash on every entry"
    );
    assert!(
        rows.iter()
            .any(|r| r["reference"] == "wire \"A-17\", second tranche"),
        "a quoted field survives"
    );
    for kind in [
        "credit",
        "hold",
        "fill",
        "fee",
        "revenue",
        "refund",
        "withdrawal_request",
    ] {
        assert!(
            rows.iter().any(|r| r["kind"] == kind),
            "an entry of kind {kind}"
        );
    }
    assert!(rows
        .iter()
        .all(|r| r["debit"].len() >= 10 && r["created_at"].ends_with('Z')));

    let totals = totals(&rows);
    let r = reconciliation(&app, &finance, "").await;
    assert_eq!(r["balanced"], true, "{r}");
    let accounts = r["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), totals.len(), "every account that moved");
    for a in accounts {
        let key = (
            a["owner_id"].as_str().unwrap().to_string(),
            a["asset"].as_str().unwrap().to_string(),
            a["account"].as_str().unwrap().to_string(),
        );
        let (debits, credits, last) = totals[&key];
        assert_eq!(d(a["debits"].as_str().unwrap()), debits, "{key:?}");
        assert_eq!(d(a["credits"].as_str().unwrap()), credits, "{key:?}");
        assert_eq!(d(a["closing"].as_str().unwrap()), last, "{key:?}");
        assert_eq!(d(a["opening"].as_str().unwrap()), Decimal::ZERO);
        assert_eq!(a["matches_journal"], true);
    }
    let btc = &r["assets"][0];
    assert_eq!(btc["asset"], "BTC");
    assert_eq!(btc["debits"], btc["credits"]);
    assert_eq!(d(btc["closing"].as_str().unwrap()), Decimal::ZERO);
    let sum_debits: Decimal = totals.values().map(|t| t.0).sum();
    assert_eq!(d(btc["debits"].as_str().unwrap()), sum_debits);

    // The user sees the same closing balance as finance does.
    let balances = app.get_as("/v1/balances", &alice).await;
    let available = crate::payouts::balance(&balances, "BTC", "available");
    let key = (
        alice.id.to_string(),
        "BTC".to_string(),
        "available".to_string(),
    );
    assert_eq!(d(&available), totals[&key].2);

    // NDJSON: the same entries.
    let (content_type, ndjson) = get_text(&app, &finance, "/v1/finance/ledger?format=ndjson").await;
    assert_eq!(content_type, "application/x-ndjson");
    let lines: Vec<Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), rows.len());
    for (line, row) in lines.iter().zip(&rows) {
        assert_eq!(line["entry_id"].to_string(), row["entry_id"]);
        assert_eq!(line["balance_after"], row["balance_after"].as_str());
        assert_eq!(line["chain_hash"], row["chain_hash"].as_str());
    }

    // Filters: one owner, one account, one asset.
    let path = format!(
        "/v1/finance/ledger?owner={}&account=available&asset=BTC",
        alice.id
    );
    let (_, text) = get_text(&app, &finance, &path).await;
    let mine = parse_csv(&text);
    let expected = rows
        .iter()
        .filter(|r| r["owner_id"] == alice.id.to_string() && r["account"] == "available")
        .count();
    assert_eq!(mine.len(), expected);
    assert!(expected >= 3);

    // The CLI writes the same bytes as the HTTP export.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ledger.csv");
    let status = std::process::Command::new(BIN)
        .args(["export", "ledger", "--format", "csv", "--output"])
        .arg(&file)
        .args(["--database-url", &app.db.url])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), csv_text);
    // To standard output: the same bytes and nothing else (logs go to stderr).
    let output = std::process::Command::new(BIN)
        .args(["export", "ledger", "--database-url", &app.db.url])
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8(output.stdout).unwrap(), csv_text);
}

async fn two_halves_chain_into_the_whole(app: TestApp) {
    story(&app).await;
    let finance = user(&app, Role::Finance, true).await;
    let rows = {
        let (_, text) = get_text(&app, &finance, "/v1/finance/ledger").await;
        parse_csv(&text)
    };
    // Split between two distinct entry times.
    let mut times: Vec<&str> = rows.iter().map(|r| r["created_at"].as_str()).collect();
    times.dedup();
    let mid = times[times.len() / 2];
    let end = (t0() + Duration::days(30)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let first = reconciliation(&app, &finance, &format!("?to={mid}")).await;
    let second = reconciliation(&app, &finance, &format!("?from={mid}&to={end}")).await;
    let whole = reconciliation(&app, &finance, &format!("?to={end}")).await;
    for r in [&first, &second, &whole] {
        assert_eq!(r["balanced"], true, "{r}");
    }
    let by_account = |r: &Value| -> BTreeMap<String, Value> {
        r["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    format!("{}/{}/{}", a["owner_id"], a["asset"], a["account"]),
                    a.clone(),
                )
            })
            .collect()
    };
    let (first, second, whole) = (by_account(&first), by_account(&second), by_account(&whole));
    for (key, a) in &second {
        let opening = first
            .get(key)
            .map_or(Decimal::ZERO, |f| d(f["closing"].as_str().unwrap()));
        assert_eq!(d(a["opening"].as_str().unwrap()), opening, "{key}");
        assert_eq!(a["closing"], whole[key]["closing"], "{key}");
    }
    let sum = |map: &BTreeMap<String, Value>, key: &str, field: &str| {
        map.get(key)
            .map_or(Decimal::ZERO, |a| d(a[field].as_str().unwrap()))
    };
    for key in whole.keys() {
        for field in ["debits", "credits"] {
            assert_eq!(
                sum(&first, key, field) + sum(&second, key, field),
                sum(&whole, key, field),
                "{key} {field}"
            );
        }
    }

    // CSV: a header, one record per account, one total per asset.
    let (content_type, text) = get_text(
        &app,
        &finance,
        &format!("/v1/finance/reconciliation?to={end}&format=csv"),
    )
    .await;
    assert_eq!(content_type, "text/csv; charset=utf-8");
    let records: Vec<csv::StringRecord> = csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(records.len(), whole.len() + 1);
    let total = records.last().unwrap();
    assert_eq!((&total[0], &total[1], &total[7]), ("total", "BTC", "ok"));
}

async fn only_finance_reads_the_books_and_bad_queries_are_problems(app: TestApp) {
    let finance = user(&app, Role::Finance, true).await;
    for role in [Role::User, Role::Operator] {
        let who = user(&app, role, true).await;
        for path in ["/v1/finance/ledger", "/v1/finance/reconciliation"] {
            let response = app.as_user(Method::GET, path, &who).send().await.unwrap();
            assert_problem(response, 403, "forbidden").await;
        }
    }
    let response = app.get("/v1/finance/ledger").await;
    assert_eq!(response.status().as_u16(), 401);

    for query in [
        "/v1/finance/ledger?format=xml",
        "/v1/finance/ledger?account=piggy_bank",
        "/v1/finance/ledger?asset=DOGE",
        "/v1/finance/ledger?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
        "/v1/finance/reconciliation?format=xlsx",
        "/v1/finance/reconciliation?from=2026-02-01T00:00:00Z&to=2026-02-01T00:00:00Z",
    ] {
        let response = app
            .as_user(Method::GET, query, &finance)
            .send()
            .await
            .unwrap();
        assert_problem(response, 422, "validation").await;
    }
    for query in [
        "/v1/finance/ledger?from=yesterday",
        "/v1/finance/ledger?owner=not-a-uuid",
        "/v1/finance/ledger?limit=5",
        "/v1/finance/reconciliation?to=2026-13-01T00:00:00Z",
    ] {
        let response = app
            .as_user(Method::GET, query, &finance)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_client_error(),
            "{query}: {}",
            response.status()
        );
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{query}"
        );
    }

    // An empty ledger exports a header and reconciles to nothing, balanced.
    let (_, text) = get_text(&app, &finance, "/v1/finance/ledger").await;
    assert_eq!(parse_csv(&text).len(), 0);
    let r = reconciliation(&app, &finance, "").await;
    assert_eq!(r["balanced"], true);
}

on_both_backends!(
    config = crate::payouts::config();
    the_export_matches_the_reconciliation_to_the_satoshi,
    two_halves_chain_into_the_whole,
    only_finance_reads_the_books_and_bad_queries_are_problems,
);
