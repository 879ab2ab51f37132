//! Bad input to the operator's reports (hashprices, deliveries) is a problem and
//! writes nothing; a repeated report is idempotent, an overlapping one refused.

use chrono::Duration;
use hashmarket_api::auth::Role;
use serde_json::{json, Value};

use super::{post, t0};
use crate::fixtures::user;
use crate::helpers::{assert_problem, TestApp};
use crate::on_both_backends;

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

on_both_backends!(
    config = crate::payouts::config();
    bad_reports_are_problems_and_write_nothing,
);
