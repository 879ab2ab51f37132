//! The marketplace over HTTP: credits, rigs, orders through the sequencers,
//! contracts, and the ledger — exact to the satoshi, on both databases.

use std::collections::BTreeSet;

use hashmarket_api::auth::Role;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{user, TestUser};
use crate::helpers::{assert_problem, TestApp};
use crate::on_both_backends;

/// Operator, seller with a 100 TH/s sha256 rig, and buyer with 1 BTC.
pub(crate) struct Cast {
    pub(crate) operator: TestUser,
    pub(crate) seller: TestUser,
    pub(crate) buyer: TestUser,
    pub(crate) rig_id: String,
}

pub(crate) async fn cast(app: &TestApp) -> Cast {
    let operator = user(app, Role::Operator, true).await;
    let seller = user(app, Role::User, true).await;
    let buyer = user(app, Role::User, true).await;
    app.credit(&operator, &buyer, "1").await;
    let rig = app
        .as_user(Method::POST, "/v1/rigs", &seller)
        .json(&json!({"name": "s19 rack", "algorithm": "sha256", "hash_rate": "100 TH/s", "region": "eu-west"}))
        .send()
        .await
        .unwrap();
    assert_eq!(rig.status().as_u16(), 201);
    let rig: Value = rig.json().await.unwrap();
    assert_eq!(rig["hash_rate"], "100 TH/s");
    assert_eq!(rig["hash_rate_hs"], "100000000000000");
    Cast {
        operator,
        seller,
        buyer,
        rig_id: rig["id"].as_str().unwrap().to_string(),
    }
}

pub(crate) async fn order(app: &TestApp, who: &TestUser, body: Value) -> reqwest::Response {
    app.post_as("/v1/orders", who, &Uuid::now_v7().to_string(), &body)
        .await
}

pub(crate) fn sell(rig_id: &str, hash_rate: &str, price: &str) -> Value {
    json!({"market": "sha256-30d", "side": "sell", "hash_rate": hash_rate, "price": price, "rig_id": rig_id})
}

pub(crate) fn buy(hash_rate: &str, price: &str) -> Value {
    json!({"market": "sha256-30d", "side": "buy", "hash_rate": hash_rate, "price": price})
}

/// The sha256-30d book, as anyone reads it.
async fn book(app: &TestApp) -> Value {
    app.get("/v1/markets/sha256-30d/book")
        .await
        .json()
        .await
        .unwrap()
}

async fn balances(app: &TestApp, who: &TestUser) -> Value {
    let all = app.get_as("/v1/balances", who).await;
    all.as_array()
        .unwrap()
        .iter()
        .find(|b| b["asset"] == "BTC")
        .cloned()
        .unwrap()
}

/// Every ledger invariant holds (what `hashmarket verify` checks).
async fn assert_ledger_sums_to_zero(app: &TestApp) {
    let violations = hashmarket_market::verify::verify(&*app.store)
        .await
        .unwrap();
    assert!(violations.is_empty(), "{violations:?}");
    for (asset, sum) in app.store.balance_sums().await.unwrap() {
        assert_eq!(sum, Decimal::ZERO, "{asset} balances sum to zero");
    }
}

async fn the_buyer_seller_story_is_exact(app: TestApp) {
    let c = cast(&app).await;
    let ask = order(&app, &c.seller, sell(&c.rig_id, "60 TH/s", "0.00000050")).await;
    assert_eq!(ask.status().as_u16(), 201);
    let ask: Value = ask.json().await.unwrap();
    assert_eq!(ask["status"], "open");
    let rig = app
        .get_as(&format!("/v1/rigs/{}", c.rig_id), &c.seller)
        .await;
    assert_eq!(rig["hash_rate_offered"], "60 TH/s");

    let bid = order(&app, &c.buyer, buy("40 TH/s", "0.00000055")).await;
    assert_eq!(bid.status().as_u16(), 201);
    let bid: Value = bid.json().await.unwrap();
    assert_eq!(bid["status"], "filled");
    assert_eq!(bid["filled_hash_rate"], "40 TH/s");
    assert_eq!(bid["fills"].as_array().unwrap().len(), 1);
    assert_eq!(
        bid["fills"][0]["price"], "0.00000050",
        "fills at the resting price"
    );
    assert_eq!(bid["held"], "0.00000000");

    // cost 40 × 30 × 0.0000005 = 0.0006; fee 3% = 0.000018; the hold at the limit
    // (0.00066 + 0.0000198) less both comes back as price improvement.
    let b = balances(&app, &c.buyer).await;
    assert_eq!(b["available"], "0.99938200");
    assert_eq!(b["held"], "0.00000000");
    assert_eq!(b["escrow"], "0.00060000");

    let contract_id = bid["fills"][0]["contract_id"].as_str().unwrap().to_string();
    let contract = app
        .get_as(&format!("/v1/contracts/{contract_id}"), &c.buyer)
        .await;
    assert_eq!(contract["cost"], "0.00060000");
    assert_eq!(contract["buyer_fee"], "0.00001800");
    assert_eq!(contract["hash_rate"], "40 TH/s");
    assert_eq!(contract["tenor_days"], 30);
    assert_eq!(contract["status"], "active");
    assert_eq!(contract["seller_id"], c.seller.id.to_string());
    let starts =
        chrono::DateTime::parse_from_rfc3339(contract["starts_at"].as_str().unwrap()).unwrap();
    let ends = chrono::DateTime::parse_from_rfc3339(contract["ends_at"].as_str().unwrap()).unwrap();
    assert_eq!(ends - starts, chrono::Duration::days(30));
    assert_eq!(
        app.get_as(&format!("/v1/contracts/{contract_id}"), &c.seller)
            .await["id"],
        contract_id
    );
    let sold = app.get_as("/v1/contracts?role=seller", &c.seller).await;
    assert_eq!(sold["items"].as_array().unwrap().len(), 1);

    let rig = app
        .get_as(&format!("/v1/rigs/{}", c.rig_id), &c.seller)
        .await;
    assert_eq!(rig["hash_rate_offered"], "20 TH/s");
    assert_eq!(rig["hash_rate_contracted"], "40 TH/s");
    let ask_now = app
        .get_as(
            &format!("/v1/orders/{}", ask["id"].as_str().unwrap()),
            &c.seller,
        )
        .await;
    assert_eq!(ask_now["status"], "partially_filled");
    assert_eq!(ask_now["filled_hash_rate"], "40 TH/s");

    let book = book(&app).await;
    assert_eq!(
        book["asks"],
        json!([{"price": "0.00000050", "hash_rate": "20 TH/s", "orders": 1}])
    );

    let ledger = app.get_as("/v1/ledger?asset=BTC", &c.buyer).await;
    let kinds: Vec<&str> = ledger["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in ["credit", "hold", "fill", "fee", "price_improvement"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let newest = &ledger["items"][0];
    assert!(newest["balance_after"].is_string());

    // The operator earned the fee.
    let fees = app
        .store
        .balances(hashmarket_store::market::OPERATOR_ID)
        .await
        .unwrap();
    let fee = fees.iter().find(|a| a.account.purpose == "fees").unwrap();
    assert_eq!(fee.balance, Decimal::new(1800, 8));
    assert_ledger_sums_to_zero(&app).await;

    // Cancelling the rest of the ask frees the rig.
    let cancelled = app
        .as_user(
            Method::DELETE,
            &format!("/v1/orders/{}", ask["id"].as_str().unwrap()),
            &c.seller,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status().as_u16(), 200);
    assert_eq!(
        cancelled.json::<Value>().await.unwrap()["status"],
        "cancelled"
    );
    let rig = app
        .get_as(&format!("/v1/rigs/{}", c.rig_id), &c.seller)
        .await;
    assert_eq!(rig["hash_rate_offered"], "0 TH/s");
    let _ = c.operator;
}

async fn insufficient_funds_and_capacity_write_nothing(app: TestApp) {
    let c = cast(&app).await;
    // 1 BTC does not cover 10,000 TH/s × 30 d × 0.00001 (3 BTC) + fee.
    let too_big = order(&app, &c.buyer, buy("10000 TH/s", "0.00001")).await;
    assert_problem(too_big, 422, "insufficient-funds").await;
    let over = order(&app, &c.seller, sell(&c.rig_id, "101 TH/s", "0.00000050")).await;
    assert_problem(over, 422, "rig-capacity-exceeded").await;
    order(&app, &c.seller, sell(&c.rig_id, "70 TH/s", "0.00000090")).await;
    let second = order(&app, &c.seller, sell(&c.rig_id, "31 TH/s", "0.00000091")).await;
    assert_problem(second, 422, "rig-capacity-exceeded").await;
    assert_eq!(balances(&app, &c.buyer).await["available"], "1.00000000");
    assert!(app.get_as("/v1/orders", &c.buyer).await["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        app.get_as("/v1/orders", &c.seller).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn cancel_and_expiry_release_holds(app: TestApp) {
    let c = cast(&app).await;
    let resting = order(&app, &c.buyer, buy("10 TH/s", "0.00000040")).await;
    let resting: Value = resting.json().await.unwrap();
    assert_eq!(resting["status"], "open");
    // 10 × 30 × 0.0000004 = 0.00012 + 3% = 0.0001236 held.
    assert_eq!(balances(&app, &c.buyer).await["held"], "0.00012360");
    let id = resting["id"].as_str().unwrap();
    let cancelled = app
        .as_user(Method::DELETE, &format!("/v1/orders/{id}"), &c.buyer)
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status().as_u16(), 200);
    let again = app
        .as_user(Method::DELETE, &format!("/v1/orders/{id}"), &c.buyer)
        .send()
        .await
        .unwrap();
    assert_problem(again, 409, "order-not-open").await;
    let b = balances(&app, &c.buyer).await;
    assert_eq!(
        (b["available"].as_str(), b["held"].as_str()),
        (Some("1.00000000"), Some("0.00000000"))
    );

    order(&app, &c.seller, sell(&c.rig_id, "5 TH/s", "0.00000050")).await;
    let mut ioc = buy("8 TH/s", "0.00000060");
    ioc["time_in_force"] = json!("ioc");
    let ioc: Value = order(&app, &c.buyer, ioc).await.json().await.unwrap();
    assert_eq!(ioc["status"], "expired");
    assert_eq!(ioc["filled_hash_rate"], "5 TH/s");
    // Paid 5 × 30 × 0.0000005 = 0.000075 + 0.00000225 fee; nothing left held.
    let b = balances(&app, &c.buyer).await;
    assert_eq!(b["available"], "0.99992275");
    assert_eq!(b["held"], "0.00000000");
    let mut fok = buy("8 TH/s", "0.00000060");
    fok["time_in_force"] = json!("fok");
    assert_problem(order(&app, &c.buyer, fok).await, 422, "order-rejected").await;
    assert_ledger_sums_to_zero(&app).await;
}

async fn one_idempotency_key_gives_one_order(app: TestApp) {
    let c = cast(&app).await;
    let key = Uuid::now_v7().to_string();
    let body = buy("1 TH/s", "0.00000040");
    let requests = (0..100).map(|_| {
        let (app, buyer, key, body) = (&app, &c.buyer, key.clone(), body.clone());
        async move { app.post_as("/v1/orders", buyer, &key, &body).await }
    });
    let responses = futures_util::future::join_all(requests).await;
    let mut ids = BTreeSet::new();
    for response in responses {
        match response.status().as_u16() {
            201 => {
                let order: Value = response.json().await.unwrap();
                ids.insert(order["id"].as_str().unwrap().to_string());
            }
            409 => assert_problem(response, 409, "idempotency-key-in-flight")
                .await
                .as_null()
                .map_or((), |_| ()),
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(ids.len(), 1, "every success names the same order");
    let listed = app.get_as("/v1/orders", &c.buyer).await;
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        1,
        "one order exists"
    );
    let replay = app.post_as("/v1/orders", &c.buyer, &key, &body).await;
    assert_eq!(replay.status().as_u16(), 201);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let replayed: Value = replay.json().await.unwrap();
    assert_eq!(replayed["id"].as_str().unwrap(), ids.iter().next().unwrap());
    let other_body = app
        .post_as("/v1/orders", &c.buyer, &key, &buy("2 TH/s", "0.00000040"))
        .await;
    assert_problem(other_body, 422, "idempotency-key-reused").await;
    let missing = app
        .as_user(Method::POST, "/v1/orders", &c.buyer)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_problem(missing, 400, "idempotency-key-missing").await;
    // The hold was taken once.
    assert_eq!(balances(&app, &c.buyer).await["held"], "0.00001236");
}

async fn credits_are_idempotent_and_operator_only(app: TestApp) {
    let c = cast(&app).await;
    let body =
        json!({"user_id": c.buyer.id, "asset": "BTC", "amount": "0.5", "reference": "wire 7"});
    let first = app
        .post_as("/v1/admin/credits", &c.operator, "credit-7", &body)
        .await;
    assert_eq!(first.status().as_u16(), 201);
    let first: Value = first.json().await.unwrap();
    let again = app
        .post_as("/v1/admin/credits", &c.operator, "credit-7", &body)
        .await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(balances(&app, &c.buyer).await["available"], "1.50000000");
    let not_operator = app.post_as("/v1/admin/credits", &c.buyer, "k", &body).await;
    assert_problem(not_operator, 403, "forbidden").await;
    for (field, value) in [
        ("amount", json!("-1")),
        ("amount", json!("0")),
        ("amount", json!("0.000000001")),
        ("asset", json!("DOGE")),
        ("user_id", json!(Uuid::now_v7())),
    ] {
        let mut bad = body.clone();
        bad[field] = value;
        let response = app
            .post_as(
                "/v1/admin/credits",
                &c.operator,
                &Uuid::now_v7().to_string(),
                &bad,
            )
            .await;
        assert_problem(response, 422, "validation").await;
    }
    assert_eq!(balances(&app, &c.buyer).await["available"], "1.50000000");
}

async fn other_users_resources_are_404(app: TestApp) {
    let c = cast(&app).await;
    let ask: Value = order(&app, &c.seller, sell(&c.rig_id, "10 TH/s", "0.00000050"))
        .await
        .json()
        .await
        .unwrap();
    let bid: Value = order(&app, &c.buyer, buy("10 TH/s", "0.00000050"))
        .await
        .json()
        .await
        .unwrap();
    let contract_id = bid["fills"][0]["contract_id"].as_str().unwrap();
    let stranger = user(&app, Role::User, true).await;
    for path in [
        format!("/v1/orders/{}", ask["id"].as_str().unwrap()),
        format!("/v1/rigs/{}", c.rig_id),
        format!("/v1/contracts/{contract_id}"),
        format!("/v1/orders/{}", Uuid::now_v7()),
        "/v1/orders/not-a-uuid".to_string(),
    ] {
        let response = app
            .as_user(Method::GET, &path, &stranger)
            .send()
            .await
            .unwrap();
        assert_problem(response, 404, "not-found").await;
    }
    let steal = app
        .as_user(
            Method::DELETE,
            &format!("/v1/orders/{}", ask["id"].as_str().unwrap()),
            &stranger,
        )
        .send()
        .await
        .unwrap();
    assert_problem(steal, 404, "not-found").await;
    let foreign_rig = order(&app, &stranger, sell(&c.rig_id, "10 TH/s", "0.00000050")).await;
    assert_problem(foreign_rig, 422, "validation").await;
}

async fn bad_orders_are_problems_and_write_nothing(app: TestApp) {
    let c = cast(&app).await;
    let with = |field: &str, value: Value| {
        let mut body = buy("10 TH/s", "0.00000050");
        body[field] = value;
        body
    };
    let cases = [
        (with("price", json!("-0.00000050")), "price"),
        (with("price", json!("0")), "price"),
        (with("price", json!("0.000000501")), "price"),
        (with("hash_rate", json!("0 TH/s")), "hash_rate"),
        (with("hash_rate", json!("-10 TH/s")), "hash_rate"),
        (with("hash_rate", json!("10 TH/minute")), "hash_rate"),
        (with("hash_rate", json!("10.5 TH/s")), "hash_rate"),
        (with("market", json!("sha256-31d")), "market"),
        (with("side", json!("hold")), "side"),
        (with("time_in_force", json!("day")), "time_in_force"),
        (with("rig_id", json!(c.rig_id)), "rig_id"),
        (
            json!({"market": "sha256-30d", "side": "sell", "hash_rate": "10 TH/s", "price": "0.0000005"}),
            "rig_id",
        ),
    ];
    for (body, field) in cases {
        let problem =
            assert_problem(order(&app, &c.buyer, body.clone()).await, 422, "validation").await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    let unverified = user(&app, Role::User, false).await;
    assert_problem(
        order(&app, &unverified, buy("1 TH/s", "0.0000005")).await,
        403,
        "email-unverified",
    )
    .await;
    assert!(app.get_as("/v1/orders", &c.buyer).await["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(balances(&app, &c.buyer).await["held"], "0.00000000");
}

async fn rigs_cannot_be_deleted_or_shrunk_while_in_use(app: TestApp) {
    let c = cast(&app).await;
    order(&app, &c.seller, sell(&c.rig_id, "60 TH/s", "0.00000050")).await;
    let path = format!("/v1/rigs/{}", c.rig_id);
    let delete = app
        .as_user(Method::DELETE, &path, &c.seller)
        .send()
        .await
        .unwrap();
    assert_problem(delete, 409, "rig-in-use").await;
    let shrink = app
        .as_user(Method::PATCH, &path, &c.seller)
        .json(&json!({"hash_rate": "50 TH/s"}))
        .send()
        .await
        .unwrap();
    assert_problem(shrink, 409, "rig-capacity-exceeded").await;
    let rename = app
        .as_user(Method::PATCH, &path, &c.seller)
        .json(&json!({"name": "renamed", "hash_rate": "0.07 PH/s"}))
        .send()
        .await
        .unwrap();
    assert_eq!(rename.status().as_u16(), 200);
    let rig: Value = rename.json().await.unwrap();
    assert_eq!(
        (rig["name"].as_str(), rig["hash_rate"].as_str()),
        (Some("renamed"), Some("70 TH/s"))
    );
    let bad = app
        .as_user(Method::POST, "/v1/rigs", &c.seller)
        .json(&json!({"name": "x", "algorithm": "sha512", "hash_rate": "1 TH/s"}))
        .send()
        .await
        .unwrap();
    assert_problem(bad, 422, "validation").await;
}

on_both_backends!(
    the_buyer_seller_story_is_exact,
    insufficient_funds_and_capacity_write_nothing,
    cancel_and_expiry_release_holds,
    one_idempotency_key_gives_one_order,
    credits_are_idempotent_and_operator_only,
    other_users_resources_are_404,
    bad_orders_are_problems_and_write_nothing,
    rigs_cannot_be_deleted_or_shrunk_while_in_use,
    a_restart_rebuilds_the_books_and_continues,
    a_second_server_on_the_same_database_takes_no_orders_for_owned_markets,
);

async fn a_restart_rebuilds_the_books_and_continues(app: TestApp) {
    let c = cast(&app).await;
    let ask: Value = order(&app, &c.seller, sell(&c.rig_id, "30 TH/s", "0.00000050"))
        .await
        .json()
        .await
        .unwrap();
    order(&app, &c.seller, sell(&c.rig_id, "20 TH/s", "0.00000052")).await;
    order(&app, &c.buyer, buy("10 TH/s", "0.00000040")).await;
    let book_before = book(&app).await;
    let app = app.restart().await;
    let book_after = book(&app).await;
    assert_eq!(book_after, book_before, "same levels, same sequence");
    // Tokens survive the restart (the signing secret is stored), and matching goes on
    // against the recovered orders in price-time order.
    let bid: Value = order(&app, &c.buyer, buy("35 TH/s", "0.00000052"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bid["status"], "filled");
    let fills = bid["fills"].as_array().unwrap();
    assert_eq!(fills[0]["price"], "0.00000050");
    assert_eq!(fills[0]["hash_rate"], "30 TH/s");
    assert_eq!(fills[1]["price"], "0.00000052");
    assert_eq!(fills[1]["hash_rate"], "5 TH/s");
    let ask_now = app
        .get_as(
            &format!("/v1/orders/{}", ask["id"].as_str().unwrap()),
            &c.seller,
        )
        .await;
    assert_eq!(ask_now["status"], "filled");
    let book = book(&app).await;
    assert!(book["sequence"].as_u64().unwrap() > book_before["sequence"].as_u64().unwrap());
    assert_ledger_sums_to_zero(&app).await;
}

async fn a_second_server_on_the_same_database_takes_no_orders_for_owned_markets(app: TestApp) {
    let c = cast(&app).await;
    let second = crate::helpers::spawn_on_same_database(&app).await;
    let body = buy("1 TH/s", "0.0000004");
    let response = second
        .post_as("/v1/orders", &c.buyer, &Uuid::now_v7().to_string(), &body)
        .await;
    let problem = assert_problem(response, 503, "market-closed").await;
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("does not take orders"));
    // It still serves reads.
    assert_eq!(balances(&second, &c.buyer).await["available"], "1.00000000");
    // And the first server takes the order.
    assert_eq!(order(&app, &c.buyer, body).await.status().as_u16(), 201);
}

mod supervision {
    use super::*;

    async fn a_broken_invariant_fails_the_batch_not_the_market(app: TestApp) {
        let c = cast(&app).await;
        order(&app, &c.seller, sell(&c.rig_id, "10 TH/s", "0.00000050")).await;
        // Corruption from outside: the resting ask's rig disappears.
        app.tamper(&format!(
            "UPDATE rigs SET deleted_at = created_at WHERE id = '{}'",
            c.rig_id
        ))
        .await;
        let crossing = order(&app, &c.buyer, buy("10 TH/s", "0.00000050")).await;
        assert_problem(crossing, 503, "unavailable").await;
        // Nothing of the failed batch was written, and the market still takes orders.
        let resting = order(&app, &c.buyer, buy("1 TH/s", "0.00000040")).await;
        assert_eq!(resting.status().as_u16(), 201);
        let b = balances(&app, &c.buyer).await;
        assert_eq!(b["held"], "0.00001236");
        assert_ledger_sums_to_zero(&app).await;
    }

    /// After a failed batch the books are rebuilt from the database; if that read
    /// fails too, the market waits and reads again rather than serve the book in
    /// memory, which still holds the failed batch's fill.
    async fn a_book_that_cannot_be_rebuilt_yet_is_read_again(app: TestApp) {
        let c = cast(&app).await;
        order(&app, &c.seller, sell(&c.rig_id, "10 TH/s", "0.00000050")).await;
        let bid = order(&app, &c.buyer, buy("1 TH/s", "0.00000040")).await;
        assert_eq!(bid.status().as_u16(), 201);
        // The next batch fails (its ask's rig is gone), and so does the first
        // rebuild: the orders cannot be read (a column is renamed; the rebuild's
        // first query fails). Not a failure inside recovery's binary COPY on
        // PostgreSQL: sqlx returns that connection to the pool unusable.
        app.tamper(&format!(
            "UPDATE rigs SET deleted_at = created_at WHERE id = '{}'; \
             ALTER TABLE orders RENAME COLUMN engine_id TO engine_id_away",
            c.rig_id
        ))
        .await;
        let crossing = order(&app, &c.buyer, buy("10 TH/s", "0.00000050")).await;
        assert_problem(crossing, 503, "unavailable").await;
        // The database is mended; the waiting rebuild reads it on its next try.
        app.tamper(&format!(
            "ALTER TABLE orders RENAME COLUMN engine_id_away TO engine_id; \
             UPDATE rigs SET deleted_at = NULL WHERE id = '{}'",
            c.rig_id
        ))
        .await;
        let book = book(&app).await;
        // The failed batch's fill is not in the book: the ask rests whole.
        assert_eq!(
            book["asks"],
            json!([{"price": "0.00000050", "hash_rate": "10 TH/s", "orders": 1}])
        );
        assert_eq!(
            book["bids"],
            json!([{"price": "0.00000040", "hash_rate": "1 TH/s", "orders": 1}])
        );
        assert_ledger_sums_to_zero(&app).await;
    }

    on_both_backends!(
        a_broken_invariant_fails_the_batch_not_the_market,
        a_book_that_cannot_be_rebuilt_yet_is_read_again,
    );
}
