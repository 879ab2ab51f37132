//! Withdrawals over HTTP, on both databases, with email through the real SMTP
//! sink: settings and thresholds, request → emailed token → confirm → operator
//! completes, exact to the satoshi; reject and cancel return the funds; TOTP users
//! confirm with a code; 50 concurrent requests cannot overdraw; one key, one
//! withdrawal; bad input writes nothing; scopes; automatic payouts.

use std::str::FromStr;

use hashmarket_api::auth::Role;
use hashmarket_api::ServerConfig;
use hashmarket_store::market::OPERATOR_ID;
use hashmarket_store::withdrawals::WithdrawalQuery;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::access::{api_key, Signed};
use crate::fixtures::{user, TestUser};
use crate::helpers::{assert_problem, smtp_config, test_config, wait_for_mail, TestApp};
use crate::on_both_backends;

/// The test server, sending email to the SMTP sink.
fn config() -> ServerConfig {
    ServerConfig {
        mail: smtp_config(),
        ..test_config()
    }
}

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
async fn all_withdrawals(app: &TestApp) -> Vec<hashmarket_store::withdrawals::WithdrawalRow> {
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

/// The 64-hex-digit token on a line of its own in the text part.
fn token_in(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 64 && l.bytes().all(|b| b.is_ascii_hexdigit()))
        .expect("a token line in the email")
        .to_string()
}

fn totp_code(secret_base32: &str, at: u64) -> String {
    let secret = totp_rs::Secret::Encoded(secret_base32.to_string())
        .to_bytes()
        .unwrap();
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret, None, "x".into())
        .unwrap()
        .generate(at)
}

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

async fn put_settings(app: &TestApp, who: &TestUser, body: Value) -> reqwest::Response {
    send(app, Method::PUT, "/v1/withdrawal-settings", who, body).await
}

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

async fn confirm(app: &TestApp, who: &TestUser, id: &str, body: Value) -> reqwest::Response {
    let path = format!("/v1/withdrawals/{id}/confirm");
    send(app, Method::POST, &path, who, body).await
}

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

async fn cancel(app: &TestApp, who: &TestUser, id: &str) -> reqwest::Response {
    app.as_user(Method::DELETE, &format!("/v1/withdrawals/{id}"), who)
        .send()
        .await
        .unwrap()
}

fn id_of(view: &Value) -> String {
    view["id"].as_str().unwrap().to_string()
}

// --- the whole path ---------------------------------------------------------------

async fn request_confirm_complete_exact_to_the_satoshi(app: TestApp) {
    let op = user(&app, Role::Operator, true).await;
    let alice = user(&app, Role::User, true).await;
    app.credit(&op, &alice, "0.05").await;

    // The asset's terms are public.
    let assets = app.get("/v1/assets").await.json::<Value>().await.unwrap();
    let btc_terms = assets
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "BTC")
        .unwrap()
        .clone();
    assert_eq!(btc_terms["withdrawal_min"], "0.00100000");
    assert_eq!(btc_terms["withdrawal_fee"], "0.00010000");

    let settings = put_settings(
        &app,
        &alice,
        json!({"asset": "BTC", "address": "bc1qalice", "threshold": "0.01", "auto_payout": false}),
    )
    .await;
    assert_eq!(settings.status().as_u16(), 200);
    let listed = app.get_as("/v1/withdrawal-settings", &alice).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["threshold"], "0.01000000");
    assert_eq!(listed[0]["address"], "bc1qalice");
    assert_eq!(listed[0]["auto_payout"], false);

    // The address comes from the settings; the fee is inside the amount.
    let w = requested(&app, &alice, json!({"asset": "BTC", "amount": "0.02"})).await;
    let id = id_of(&w);
    assert_eq!(w["status"], "pending_confirmation");
    assert_eq!(w["amount"], "0.02000000");
    assert_eq!(w["fee"], "0.00010000");
    assert_eq!(w["net_amount"], "0.01990000");
    assert_eq!(w["address"], "bc1qalice");
    assert_eq!(w["auto"], false);
    assert_eq!(
        btc(&app, &alice).await,
        ("0.03000000".into(), "0.02000000".into())
    );

    let message = wait_for_mail(&alice.email, "Confirm your withdrawal of 0.02000000 BTC").await;
    assert!(
        message.contains(&id) && message.contains("0.01990000 BTC"),
        "{message}"
    );
    let token = token_in(&message);

    // Not yet confirmed: the operator cannot send it; a wrong token is refused.
    assert_problem(
        admin(&app, &op, &id, "complete", json!({"txid": "tx1"})).await,
        409,
        "withdrawal-status-conflict",
    )
    .await;
    assert_problem(
        confirm(&app, &alice, &id, json!({"token": "0".repeat(64)})).await,
        422,
        "withdrawal-token-invalid",
    )
    .await;
    let confirmed = confirm(&app, &alice, &id, json!({"token": token})).await;
    assert_eq!(confirmed.status().as_u16(), 200);
    let confirmed: Value = confirmed.json().await.unwrap();
    assert_eq!(confirmed["status"], "confirmed");
    assert!(confirmed["confirmed_at"].is_string());
    // The token works once; a confirmed one cannot be cancelled by the user.
    assert_problem(
        confirm(&app, &alice, &id, json!({"token": token})).await,
        409,
        "withdrawal-status-conflict",
    )
    .await;
    assert_problem(
        cancel(&app, &alice, &id).await,
        409,
        "withdrawal-status-conflict",
    )
    .await;

    let queue = app
        .get_as("/v1/admin/withdrawals?status=confirmed", &op)
        .await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 1);
    assert_eq!(queue["items"][0]["id"], id.as_str());

    let done = admin(&app, &op, &id, "complete", json!({"txid": "f00dcafe01"})).await;
    assert_eq!(done.status().as_u16(), 200);
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["status"], "completed");
    assert_eq!(done["txid"], "f00dcafe01");
    assert_problem(
        admin(&app, &op, &id, "complete", json!({"txid": "again"})).await,
        409,
        "withdrawal-status-conflict",
    )
    .await;
    assert_problem(
        admin(&app, &op, &id, "reject", json!({"reason": "too late"})).await,
        409,
        "withdrawal-status-conflict",
    )
    .await;

    // To the satoshi: 0.05 in; 0.0199 out to the world, 0.0001 to fees.
    assert_eq!(
        btc(&app, &alice).await,
        ("0.03000000".into(), "0.00000000".into())
    );
    assert_eq!(operator(&app, "world").await, d("-0.0301"));
    assert_eq!(operator(&app, "fees").await, d("0.0001"));
    let sent = wait_for_mail(&alice.email, "Withdrawal sent: 0.01990000 BTC").await;
    assert!(sent.contains("f00dcafe01"));

    let mine = app.get_as(&format!("/v1/withdrawals/{id}"), &alice).await;
    assert_eq!(mine["status"], "completed");
    let list = app.get_as("/v1/withdrawals", &alice).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // The journal names the withdrawal on each of the caller's entries.
    let ledger = app.get_as("/v1/ledger", &alice).await;
    let mut kinds: Vec<(&str, &str, &str, &str)> = ledger["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["withdrawal_id"] == id.as_str())
        .map(|e| {
            let s = |f: &str| e[f].as_str().unwrap();
            (s("kind"), s("account"), s("debit"), s("credit"))
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            (
                "withdrawal_fee",
                "pending_withdrawal",
                "0.00010000",
                "0.00000000"
            ),
            (
                "withdrawal_request",
                "available",
                "0.02000000",
                "0.00000000"
            ),
            (
                "withdrawal_request",
                "pending_withdrawal",
                "0.00000000",
                "0.02000000"
            ),
            (
                "withdrawal_sent",
                "pending_withdrawal",
                "0.01990000",
                "0.00000000"
            ),
        ]
    );
    assert_ledger_holds(&app).await;
}

async fn reject_and_cancel_return_the_funds(app: TestApp) {
    let op = user(&app, Role::Operator, true).await;
    let bob = user(&app, Role::User, true).await;
    app.credit(&op, &bob, "0.01").await;

    // Without settings an address is needed, and the asset minimum applies.
    assert_problem(
        request(&app, &bob, json!({"asset": "BTC", "amount": "0.004"})).await,
        422,
        "validation",
    )
    .await;
    let w = requested(
        &app,
        &bob,
        json!({"asset": "BTC", "amount": "0.004", "address": "bc1qbob"}),
    )
    .await;
    let id = id_of(&w);
    assert_eq!(
        btc(&app, &bob).await,
        ("0.00600000".into(), "0.00400000".into())
    );
    let rejected = admin(
        &app,
        &op,
        &id,
        "reject",
        json!({"reason": "address on a sanctions list"}),
    )
    .await;
    assert_eq!(rejected.status().as_u16(), 200);
    let rejected: Value = rejected.json().await.unwrap();
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["reject_reason"], "address on a sanctions list");
    assert_eq!(
        btc(&app, &bob).await,
        ("0.01000000".into(), "0.00000000".into())
    );
    let mail = wait_for_mail(&bob.email, "Withdrawal rejected: 0.00400000 BTC").await;
    assert!(mail.contains("address on a sanctions list"));
    assert_problem(
        admin(&app, &op, &id, "reject", json!({"reason": "twice"})).await,
        409,
        "withdrawal-status-conflict",
    )
    .await;

    // The user cancels an unconfirmed one.
    let w = requested(
        &app,
        &bob,
        json!({"asset": "BTC", "amount": "0.003", "address": "bc1qbob"}),
    )
    .await;
    let id = id_of(&w);
    assert_eq!(
        btc(&app, &bob).await,
        ("0.00700000".into(), "0.00300000".into())
    );
    let cancelled = cancel(&app, &bob, &id).await;
    assert_eq!(cancelled.status().as_u16(), 200);
    assert_eq!(
        cancelled.json::<Value>().await.unwrap()["status"],
        "cancelled"
    );
    assert_eq!(
        btc(&app, &bob).await,
        ("0.01000000".into(), "0.00000000".into())
    );
    assert_problem(
        cancel(&app, &bob, &id).await,
        409,
        "withdrawal-status-conflict",
    )
    .await;
    let token =
        token_in(&wait_for_mail(&bob.email, "Confirm your withdrawal of 0.00300000 BTC").await);
    assert_problem(
        confirm(&app, &bob, &id, json!({"token": token})).await,
        409,
        "withdrawal-status-conflict",
    )
    .await;
    assert_problem(
        admin(&app, &op, &id, "complete", json!({"txid": "tx"})).await,
        409,
        "withdrawal-status-conflict",
    )
    .await;

    // Nothing left the platform; nothing was charged.
    assert_eq!(operator(&app, "world").await, d("-0.01"));
    assert_eq!(operator(&app, "fees").await, Decimal::ZERO);
    assert_ledger_holds(&app).await;
}

async fn totp_users_confirm_with_a_code(app: TestApp) {
    let op = user(&app, Role::Operator, true).await;
    let carol = user(&app, Role::User, true).await;
    app.credit(&op, &carol, "0.01").await;
    let enrol = send(
        &app,
        Method::POST,
        "/v1/auth/totp/enroll",
        &carol,
        json!(null),
    )
    .await;
    assert_eq!(enrol.status().as_u16(), 201);
    let secret = enrol.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let now = || chrono::Utc::now().timestamp() as u64;
    let enrolled = send(
        &app,
        Method::POST,
        "/v1/auth/totp/confirm",
        &carol,
        json!({"code": totp_code(&secret, now())}),
    )
    .await;
    assert_eq!(enrolled.status().as_u16(), 200);

    // Changing where money goes needs the code too.
    assert_problem(
        put_settings(
            &app,
            &carol,
            json!({"asset": "BTC", "address": "bc1qcarol", "threshold": "0.001", "auto_payout": true}),
        )
        .await,
        403,
        "totp-required",
    )
    .await;
    assert!(app
        .store
        .withdrawal_settings(carol.id)
        .await
        .unwrap()
        .is_empty());

    let w = requested(
        &app,
        &carol,
        json!({"asset": "BTC", "amount": "0.002", "address": "bc1qcarol"}),
    )
    .await;
    let id = id_of(&w);
    let token =
        token_in(&wait_for_mail(&carol.email, "Confirm your withdrawal of 0.00200000 BTC").await);
    // The emailed token alone is not enough, nor a wrong code.
    assert_problem(
        confirm(&app, &carol, &id, json!({"token": token})).await,
        403,
        "totp-required",
    )
    .await;
    assert_problem(
        confirm(&app, &carol, &id, json!({"code": "12ab56"})).await,
        422,
        "totp-invalid",
    )
    .await;
    assert_eq!(
        app.get_as(&format!("/v1/withdrawals/{id}"), &carol).await["status"],
        "pending_confirmation"
    );
    // The next step's code (the current one was spent enrolling).
    let confirmed = confirm(
        &app,
        &carol,
        &id,
        json!({"code": totp_code(&secret, now() + 30)}),
    )
    .await;
    assert_eq!(confirmed.status().as_u16(), 200);
    assert_eq!(
        confirmed.json::<Value>().await.unwrap()["status"],
        "confirmed"
    );
    assert_eq!(
        btc(&app, &carol).await,
        ("0.00800000".into(), "0.00200000".into())
    );
}

// --- races and retries ---------------------------------------------------------

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

// --- thresholds and bad input ----------------------------------------------------

async fn below_the_threshold_is_refused(app: TestApp) {
    let op = user(&app, Role::Operator, true).await;
    let fred = user(&app, Role::User, true).await;
    app.credit(&op, &fred, "1").await;
    // No settings: the asset's minimum (0.001).
    let response = request(
        &app,
        &fred,
        json!({"asset": "BTC", "amount": "0.00099999", "address": "bc1qfred"}),
    )
    .await;
    let problem = assert_problem(response, 422, "below-withdrawal-threshold").await;
    assert!(problem["detail"].as_str().unwrap().contains("0.00100000"));
    // With settings: the user's threshold.
    let ok = put_settings(
        &app,
        &fred,
        json!({"asset": "BTC", "address": "bc1qfred", "threshold": "0.05", "auto_payout": false}),
    )
    .await;
    assert_eq!(ok.status().as_u16(), 200);
    assert_problem(
        request(&app, &fred, json!({"asset": "BTC", "amount": "0.04999999"})).await,
        422,
        "below-withdrawal-threshold",
    )
    .await;
    assert!(all_withdrawals(&app).await.is_empty());
    requested(&app, &fred, json!({"asset": "BTC", "amount": "0.05"})).await;
    assert_eq!(
        btc(&app, &fred).await,
        ("0.95000000".into(), "0.05000000".into())
    );
}

async fn bad_input_is_a_problem_and_writes_nothing(app: TestApp) {
    let op = user(&app, Role::Operator, true).await;
    let gina = user(&app, Role::User, true).await;
    let other = user(&app, Role::User, true).await;
    let unverified = user(&app, Role::User, false).await;
    app.credit(&op, &gina, "0.1").await;
    app.credit(&op, &other, "0.1").await;
    let theirs = requested(
        &app,
        &other,
        json!({"asset": "BTC", "amount": "0.01", "address": "bc1qother"}),
    )
    .await;
    let theirs = id_of(&theirs);
    let before_entries = app.get_as("/v1/ledger", &gina).await["items"]
        .as_array()
        .unwrap()
        .len();

    // Requests.
    for (amount, asset) in [
        ("-0.01", "BTC"),
        ("0", "BTC"),
        ("0.000000001", "BTC"),
        ("abc", "BTC"),
        ("1e3", "BTC"),
        ("0.01", "DOGE"),
        ("99999999999999999999999999999999999", "BTC"),
    ] {
        let response = request(
            &app,
            &gina,
            json!({"asset": asset, "amount": amount, "address": "bc1q"}),
        )
        .await;
        assert_problem(response, 422, "validation").await;
    }
    for address in ["", "has space", &"a".repeat(129), "tab\there", "naïve"] {
        let response = request(
            &app,
            &gina,
            json!({"asset": "BTC", "amount": "0.01", "address": address}),
        )
        .await;
        assert_problem(response, 422, "validation").await;
    }
    let unknown_field = request(
        &app,
        &gina,
        json!({"asset": "BTC", "amount": "0.01", "address": "bc1q", "to": "x"}),
    )
    .await;
    assert_problem(unknown_field, 422, "validation").await;
    let malformed = app
        .as_user(Method::POST, "/v1/withdrawals", &gina)
        .header("Idempotency-Key", "m1")
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_problem(malformed, 400, "validation").await;
    let unverified_request = request(
        &app,
        &unverified,
        json!({"asset": "BTC", "amount": "0.01", "address": "bc1q"}),
    )
    .await;
    assert_problem(unverified_request, 403, "email-unverified").await;

    // Settings.
    for body in [
        json!({"asset": "BTC", "address": "bc1q", "threshold": "0.0009", "auto_payout": false}),
        json!({"asset": "BTC", "address": "bc1q", "threshold": "-1", "auto_payout": false}),
        json!({"asset": "BTC", "address": "bc1q", "threshold": "0.010000001", "auto_payout": false}),
        json!({"asset": "DOGE", "address": "bc1q", "threshold": "1", "auto_payout": false}),
        json!({"asset": "BTC", "address": "", "threshold": "0.01", "auto_payout": false}),
        json!({"asset": "BTC", "address": "bc1q", "threshold": "0.01", "auto_payout": "yes"}),
        json!({"asset": "BTC", "address": "bc1q", "threshold": "0.01"}),
    ] {
        assert_problem(put_settings(&app, &gina, body).await, 422, "validation").await;
    }

    // Ids: malformed, unknown, and another user's are all 404.
    for id in ["not-a-uuid", &Uuid::now_v7().to_string(), &theirs] {
        let get = app
            .as_user(Method::GET, &format!("/v1/withdrawals/{id}"), &gina)
            .send()
            .await
            .unwrap();
        assert_problem(get, 404, "not-found").await;
        let token = "0".repeat(64);
        assert_problem(
            confirm(&app, &gina, id, json!({"token": token})).await,
            404,
            "not-found",
        )
        .await;
        assert_problem(cancel(&app, &gina, id).await, 404, "not-found").await;
    }
    for id in ["not-a-uuid", &Uuid::now_v7().to_string()] {
        assert_problem(
            admin(&app, &op, id, "complete", json!({"txid": "tx"})).await,
            404,
            "not-found",
        )
        .await;
        assert_problem(
            admin(&app, &op, id, "reject", json!({"reason": "no"})).await,
            404,
            "not-found",
        )
        .await;
    }

    // Confirmation proofs of the wrong shape.
    let mine = requested(
        &app,
        &gina,
        json!({"asset": "BTC", "amount": "0.01", "address": "bc1qgina"}),
    )
    .await;
    let mine = id_of(&mine);
    assert_problem(
        confirm(&app, &gina, &mine, json!({})).await,
        422,
        "validation",
    )
    .await;
    assert_problem(
        confirm(&app, &gina, &mine, json!({"token": "short"})).await,
        422,
        "withdrawal-token-invalid",
    )
    .await;
    assert_problem(
        confirm(&app, &gina, &mine, json!({"token": 7})).await,
        422,
        "validation",
    )
    .await;

    // The operator's endpoints.
    for body in [
        json!({"txid": ""}),
        json!({"txid": "a b"}),
        json!({"txid": "x".repeat(129)}),
        json!({}),
    ] {
        assert_problem(
            admin(&app, &op, &theirs, "complete", body).await,
            422,
            "validation",
        )
        .await;
    }
    for body in [
        json!({"reason": "  "}),
        json!({"reason": "r".repeat(501)}),
        json!({"reason": "a\u{0}b"}),
    ] {
        assert_problem(
            admin(&app, &op, &theirs, "reject", body).await,
            422,
            "validation",
        )
        .await;
    }
    // Users are not operators.
    assert_problem(
        admin(&app, &gina, &theirs, "complete", json!({"txid": "tx"})).await,
        403,
        "forbidden",
    )
    .await;
    let queue = app
        .as_user(Method::GET, "/v1/admin/withdrawals", &gina)
        .send()
        .await
        .unwrap();
    assert_problem(queue, 403, "forbidden").await;
    for query in ["status=bogus", "limit=0", "cursor=zz"] {
        let list = app
            .as_user(Method::GET, &format!("/v1/withdrawals?{query}"), &gina)
            .send()
            .await
            .unwrap();
        assert!(
            [400, 422].contains(&list.status().as_u16()),
            "{query}: {}",
            list.status()
        );
        assert_eq!(list.headers()["content-type"], "application/problem+json");
    }

    // Nothing was written but the two good requests.
    let rows = all_withdrawals(&app).await;
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|w| w.status == "pending_confirmation"));
    assert!(app
        .store
        .withdrawal_settings(gina.id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        btc(&app, &gina).await,
        ("0.09000000".into(), "0.01000000".into())
    );
    let after_entries = app.get_as("/v1/ledger", &gina).await["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        after_entries,
        before_entries + 2,
        "one transfer: the good request"
    );
    assert_eq!(
        btc(&app, &other).await,
        ("0.09000000".into(), "0.01000000".into())
    );
    assert_ledger_holds(&app).await;
}

async fn a_key_needs_the_withdraw_scope(app: TestApp) {
    let op = user(&app, Role::Operator, true).await;
    let hank = user(&app, Role::User, true).await;
    app.credit(&op, &hank, "0.1").await;
    let body =
        serde_json::to_vec(&json!({"asset": "BTC", "amount": "0.01", "address": "bc1qhank"}))
            .unwrap();
    let trader = api_key(&app, &hank, &["read", "trade"]).await;
    let refused = app
        .signed(
            &trader,
            &Signed::new(Method::POST, "/v1/withdrawals", &body),
        )
        .await;
    assert_problem(refused, 403, "scope-missing").await;
    let settings = serde_json::to_vec(
        &json!({"asset": "BTC", "address": "bc1qevil", "threshold": "0.01", "auto_payout": true}),
    )
    .unwrap();
    let refused = app
        .signed(
            &trader,
            &Signed::new(Method::PUT, "/v1/withdrawal-settings", &settings),
        )
        .await;
    assert_problem(refused, 403, "scope-missing").await;
    assert!(all_withdrawals(&app).await.is_empty());
    assert!(app
        .store
        .withdrawal_settings(hank.id)
        .await
        .unwrap()
        .is_empty());

    let payer = api_key(&app, &hank, &["withdraw"]).await;
    let made = app
        .signed(&payer, &Signed::new(Method::POST, "/v1/withdrawals", &body))
        .await;
    assert_eq!(made.status().as_u16(), 201);
    assert_eq!(all_withdrawals(&app).await.len(), 1);
}

// --- automatic payouts ---------------------------------------------------------

async fn auto_payout_pays_each_eligible_user_once(app: TestApp) {
    let op = user(&app, Role::Operator, true).await;
    let catalog = test_config().catalog;
    let set = |who: &TestUser, threshold: &str, auto: bool| {
        let body = json!({"asset": "BTC", "address": format!("bc1q{}", &who.id.simple().to_string()[..8]),
            "threshold": threshold, "auto_payout": auto});
        let (app, who) = (&app, who.clone());
        async move {
            let response = put_settings(app, &who, body).await;
            assert_eq!(response.status().as_u16(), 200);
        }
    };
    let due = user(&app, Role::User, true).await;
    let below = user(&app, Role::User, true).await;
    let manual = user(&app, Role::User, true).await;
    let empty = user(&app, Role::User, true).await;
    for who in [&due, &below, &manual] {
        app.credit(&op, who, "0.05").await;
    }
    set(&due, "0.01", true).await;
    set(&below, "0.1", true).await;
    set(&manual, "0.01", false).await;
    set(&empty, "0.01", true).await;

    let now = chrono::Utc::now();
    let made = hashmarket_api::withdrawals::auto_payout_with(&*app.store, &catalog, now)
        .await
        .unwrap();
    assert_eq!(made, 1);
    let rows = all_withdrawals(&app).await;
    assert_eq!(rows.len(), 1);
    let w = &rows[0];
    assert_eq!(w.user_id, due.id);
    assert_eq!((w.status.as_str(), w.auto), ("confirmed", true));
    assert_eq!((w.amount, w.fee), (d("0.05"), d("0.0001")));
    assert!(w.confirm_token_hash.is_none() && w.confirmed_at.is_some());
    assert_eq!(
        btc(&app, &due).await,
        ("0.00000000".into(), "0.05000000".into())
    );
    for who in [&below, &manual] {
        assert_eq!(
            btc(&app, who).await,
            ("0.05000000".into(), "0.00000000".into())
        );
    }
    let listed = app.get_as("/v1/withdrawals", &due).await;
    assert_eq!(listed["items"][0]["auto"], true);

    // A second run finds nothing due.
    let again = hashmarket_api::withdrawals::auto_payout_with(&*app.store, &catalog, now)
        .await
        .unwrap();
    assert_eq!(again, 0);

    // Two more become due; four concurrent runs pay each once.
    app.credit(&op, &due, "0.02").await;
    app.credit(&op, &below, "0.06").await;
    let runs = (0..4).map(|_| {
        let (store, catalog) = (app.store.clone(), catalog.clone());
        async move {
            hashmarket_api::withdrawals::auto_payout_with(&*store, &catalog, now)
                .await
                .unwrap()
        }
    });
    let made: usize = futures_util::future::join_all(runs).await.into_iter().sum();
    assert_eq!(made, 2);
    let rows = all_withdrawals(&app).await;
    assert_eq!(rows.len(), 3);
    assert_eq!(rows.iter().filter(|w| w.user_id == due.id).count(), 2);
    assert_eq!(rows.iter().filter(|w| w.user_id == below.id).count(), 1);
    assert!(rows
        .iter()
        .all(|w| w.user_id != manual.id && w.user_id != empty.id));
    assert_eq!(
        btc(&app, &below).await,
        ("0.00000000".into(), "0.11000000".into())
    );

    // An automatic payout is sent like any confirmed one.
    let first = rows
        .iter()
        .find(|w| w.user_id == due.id && w.amount == d("0.05"))
        .unwrap();
    let done = admin(
        &app,
        &op,
        &first.id.to_string(),
        "complete",
        json!({"txid": "auto-tx"}),
    )
    .await;
    assert_eq!(done.status().as_u16(), 200);
    assert_eq!(
        btc(&app, &due).await,
        ("0.00000000".into(), "0.02000000".into())
    );
    assert_eq!(operator(&app, "fees").await, d("0.0001"));
    assert_ledger_holds(&app).await;
}

on_both_backends!(
    config = super::config();
    request_confirm_complete_exact_to_the_satoshi,
    reject_and_cancel_return_the_funds,
    totp_users_confirm_with_a_code,
    fifty_concurrent_requests_cannot_overdraw,
    one_key_one_withdrawal,
    below_the_threshold_is_refused,
    bad_input_is_a_problem_and_writes_nothing,
    a_key_needs_the_withdraw_scope,
    auto_payout_pays_each_eligible_user_once,
);
