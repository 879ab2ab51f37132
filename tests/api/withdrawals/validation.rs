//! Thresholds and bad input: below the threshold, malformed or foreign input, and
//! keys without the withdraw scope are refused and write nothing.

use hashmarket_api::auth::Role;
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use super::{
    admin, all_withdrawals, assert_ledger_holds, btc, cancel, confirm, id_of, put_settings,
    request, requested,
};
use crate::access::{api_key, Signed};
use crate::fixtures::user;
use crate::helpers::{assert_problem, TestApp};
use crate::on_both_backends;

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

on_both_backends!(
    config = crate::helpers::smtp_server_config();
    below_the_threshold_is_refused,
    bad_input_is_a_problem_and_writes_nothing,
    a_key_needs_the_withdraw_scope,
);
