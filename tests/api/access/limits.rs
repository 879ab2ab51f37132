//! Rate limits with small published numbers: the limit, then 429 with
//! Retry-After; login attempts throttled per account.

use hashmarket_api::auth::Role;
use hashmarket_api::ratelimit::{Rate, RateLimitConfig};
use hashmarket_api::ServerConfig;
use reqwest::Method;
use serde_json::json;

use crate::fixtures::{user, PASSWORD};
use crate::helpers::{assert_problem, test_config, TestApp};
use crate::on_both_backends;

/// The test server with small limits: 5 requests in a burst per principal, 3
/// login attempts per account.
fn config() -> ServerConfig {
    let base = test_config();
    ServerConfig {
        rate_limits: RateLimitConfig {
            per_principal: Rate {
                per_minute: 60,
                burst: 5,
            },
            login_per_account: Rate {
                per_minute: 1,
                burst: 3,
            },
            ..base.rate_limits
        },
        ..base
    }
}

async fn the_published_limit_then_429_with_retry_after(app: TestApp) {
    let person = user(&app, Role::User, true).await;
    let mut remaining = Vec::new();
    for _ in 0..5 {
        let response = app
            .as_user(Method::GET, "/v1/me", &person)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let headers = response.headers();
        assert_eq!(headers["ratelimit-limit"], "5");
        assert!(headers.contains_key("ratelimit-reset"));
        remaining.push(headers["ratelimit-remaining"].to_str().unwrap().to_string());
    }
    assert_eq!(remaining.last().unwrap(), "0");
    let refused = app
        .as_user(Method::GET, "/v1/me", &person)
        .send()
        .await
        .unwrap();
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(refused.headers()["ratelimit-remaining"], "0");
    assert_problem(refused, 429, "rate-limited").await;
    // Another user is not affected; public routes carry the per-IP headers.
    let other = user(&app, Role::User, true).await;
    let response = app
        .as_user(Method::GET, "/v1/me", &other)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let public = app.get("/v1/time").await;
    assert!(public.headers().contains_key("ratelimit-remaining"));
}

async fn login_attempts_are_throttled_per_account(app: TestApp) {
    let person = user(&app, Role::User, true).await; // one attempt used
    for _ in 0..2 {
        let response = app
            .post_json(
                "/v1/auth/login",
                &json!({"email": person.email, "password": "wrong password!"}),
            )
            .await;
        assert_problem(response, 401, "unauthorized").await;
    }
    // Even the right password waits now.
    let response = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": person.email, "password": PASSWORD}),
        )
        .await;
    assert!(response.headers().contains_key("retry-after"));
    assert_problem(response, 429, "rate-limited").await;
}

on_both_backends!(
    config = super::config();
    the_published_limit_then_429_with_retry_after,
    login_attempts_are_throttled_per_account,
);
