//! Email through the real SMTP sink: verification on registration, new API keys,
//! no email for a refused registration, contract notices on a fill.

use hashmarket_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

use super::{api_key, order_body, user_login};
use crate::fixtures::{user, PASSWORD};
use crate::helpers::{assert_problem, token_in, wait_for_mail, TestApp};
use crate::on_both_backends;

async fn registration_sends_a_verification_email_that_verifies(app: TestApp) {
    let email = format!("{}@example.com", uuid::Uuid::now_v7().simple());
    let response = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let message = wait_for_mail(&email, "Verify your email").await;
    assert!(message.contains("text/plain") && message.contains("text/html"));
    let token = token_in(&message);
    let person = user_login(&app, &email).await;
    let me = app.get_as("/v1/me", &person).await;
    assert_eq!(me["email_verified"], false);
    // Unverified users cannot trade yet.
    let order = app
        .as_user(Method::POST, "/v1/orders", &person)
        .header("Idempotency-Key", "k1")
        .json(&order_body())
        .send()
        .await
        .unwrap();
    assert_problem(order, 403, "email-unverified").await;

    let verified = app
        .post_json("/v1/auth/verify-email", &json!({"token": token}))
        .await;
    assert_eq!(verified.status().as_u16(), 200);
    assert_eq!(app.get_as("/v1/me", &person).await["email_verified"], true);
    // A token works once.
    let again = app
        .post_json("/v1/auth/verify-email", &json!({"token": token}))
        .await;
    assert_problem(again, 422, "verification-token-invalid").await;
    let bogus = app
        .post_json("/v1/auth/verify-email", &json!({"token": "0".repeat(64)}))
        .await;
    assert_problem(bogus, 422, "verification-token-invalid").await;
}

async fn a_new_api_key_is_announced_by_email(app: TestApp) {
    let owner = user(&app, Role::User, true).await;
    let key = api_key(&app, &owner, &["read", "trade"]).await;
    let message = wait_for_mail(&owner.email, "New hashmarket API key").await;
    assert!(message.contains(&key.key));
    assert!(
        !message.contains(&key.secret),
        "the secret is never emailed"
    );
}

async fn a_bad_registration_writes_no_user_and_no_email(app: TestApp) {
    let email = format!("{}@example.com", uuid::Uuid::now_v7().simple());
    let response = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": email, "password": "short"}),
        )
        .await;
    assert_problem(response, 422, "validation").await;
    assert!(app.store.user_by_email(&email).await.unwrap().is_none());
    // Register properly, then again with the same email: 409, one email only.
    let ok = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(ok.status().as_u16(), 201);
    let dup = app
        .post_json(
            "/v1/auth/register",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_problem(dup, 409, "email-taken").await;
    wait_for_mail(&email, "Verify your email").await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let dir = crate::helpers::smtp_maildir();
    let count = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read_to_string(e.path())
                .unwrap_or_default()
                .contains(&email)
        })
        .count();
    assert_eq!(count, 1);
}

async fn a_fill_emails_buyer_and_seller_that_the_contract_started(app: TestApp) {
    use crate::marketplace::{buy, cast, order, sell};
    let cast = cast(&app).await;
    let ask = order(
        &app,
        &cast.seller,
        sell(&cast.rig_id, "10 TH/s", "0.00000100"),
    )
    .await;
    assert_eq!(ask.status().as_u16(), 201);
    let bid = order(&app, &cast.buyer, buy("10 TH/s", "0.00000100")).await;
    assert_eq!(bid.status().as_u16(), 201);
    let bid: Value = bid.json().await.unwrap();
    let contract_id = bid["fills"][0]["contract_id"].as_str().unwrap().to_string();
    for (who, words) in [(&cast.buyer, "You bought"), (&cast.seller, "You sold")] {
        let message = wait_for_mail(&who.email, "Contract started: 10 TH/s sha256-30d").await;
        assert!(message.contains(words), "{message}");
        assert!(message.contains(&contract_id));
        assert!(message.contains("0.00030000 BTC"), "the cost: {message}");
    }
}

on_both_backends!(
    config = crate::helpers::smtp_server_config();
    a_fill_emails_buyer_and_seller_that_the_contract_started,
    registration_sends_a_verification_email_that_verifies,
    a_new_api_key_is_announced_by_email,
    a_bad_registration_writes_no_user_and_no_email,
);
