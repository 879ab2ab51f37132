//! Statements (HM-7 §3): per period, per rig, per user, and the chart, of a
//! finished contract; a statement without `to` runs to the business clock's
//! now, also when a simulated clock is ahead of the wall clock.

use hashmarket_api::auth::Role;
use hashmarket_api::ServerConfig;
use hashmarket_market::BusinessClock;
use reqwest::Method;

use crate::fixtures::{user, TestUser};
use crate::helpers::{assert_problem, test_config, TestApp};
use crate::on_both_backends;

/// Statements (HM-7 §3) of the contract above: per period, the rig for its
/// seller, the users, the chart; nobody else sees them.
pub(super) async fn statements_of_the_finished_contract(
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

/// The test server on a business clock simulated from 2030, ahead of the wall
/// clock.
fn future_clock_config() -> ServerConfig {
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
    config = super::future_clock_config();
    a_statement_includes_what_the_business_clock_has_seen,
);
