//! Automatic payouts: each user whose available balance reached their threshold
//! is paid once, also when runs overlap; the payout is sent like any other.

use hashmarket_api::auth::Role;
use serde_json::json;

use super::{admin, all_withdrawals, assert_ledger_holds, btc, d, operator, put_settings};
use crate::fixtures::{user, TestUser};
use crate::helpers::{test_config, TestApp};
use crate::on_both_backends;

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
    config = crate::helpers::smtp_server_config();
    auto_payout_pays_each_eligible_user_once,
);
