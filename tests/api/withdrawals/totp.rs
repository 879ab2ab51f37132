//! Users with TOTP confirm withdrawals, and change their settings, with a code:
//! the emailed token alone is not enough.

use hashmarket_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

use super::{btc, confirm, id_of, put_settings, requested, send};
use crate::fixtures::user;
use crate::helpers::{assert_problem, token_in, totp_code, wait_for_mail, TestApp};
use crate::on_both_backends;

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

on_both_backends!(
    config = crate::helpers::smtp_server_config();
    totp_users_confirm_with_a_code,
);
