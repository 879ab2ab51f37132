//! A withdrawal's whole path: request → emailed token → confirm → the operator
//! completes it, exact to the satoshi; rejected or cancelled, the funds return.

use hashmarket_api::auth::Role;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{
    admin, assert_ledger_holds, btc, cancel, confirm, d, id_of, operator, put_settings, request,
    requested,
};
use crate::fixtures::user;
use crate::helpers::{assert_problem, token_in, wait_for_mail, TestApp};
use crate::on_both_backends;

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

on_both_backends!(
    config = crate::helpers::smtp_server_config();
    request_confirm_complete_exact_to_the_satoshi,
    reject_and_cancel_return_the_funds,
);
