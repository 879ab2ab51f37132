//! Public market data: algorithms, assets, markets, quotes, books.

use serde_json::json;

use crate::helpers::{assert_problem, TestApp};
use crate::on_both_backends;

async fn algorithms_have_their_display_units(app: TestApp) {
    let list: serde_json::Value = app.get("/v1/algorithms").await.json().await.unwrap();
    let find = |id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(find("sha256")["unit"], "TH/s");
    assert_eq!(find("sha256")["coin"], "BTC");
    assert_eq!(find("scrypt")["unit"], "GH/s");
    assert_eq!(find("kawpow")["unit"], "MH/s");
    assert_eq!(find("randomx")["unit"], "kH/s");
    assert_eq!(find("etchash")["unit"], "GH/s");
}

async fn markets_publish_every_limit(app: TestApp) {
    let list: serde_json::Value = app.get("/v1/markets").await.json().await.unwrap();
    let markets = list.as_array().unwrap();
    assert_eq!(markets.len(), 30, "5 algorithms × 6 tenors");
    let m = markets.iter().find(|m| m["id"] == "sha256-30d").unwrap();
    assert_eq!(m["algorithm"], "sha256");
    assert_eq!(m["tenor_days"], 30);
    assert_eq!(m["quote_asset"], "BTC");
    assert_eq!(m["tick_size"], "0.00000001");
    assert_eq!(m["min_hash_rate"], "1 TH/s");
    assert_eq!(m["hash_rate_step"], "1 TH/s");
    assert_eq!(m["fees"]["buyer"], "0.03");
    assert_eq!(m["fees"]["seller"], "0.02");
    assert_eq!(m["rules"]["time_in_force"], json!(["gtc", "ioc", "fok"]));
}

async fn assets_show_withdrawal_terms(app: TestApp) {
    let list: serde_json::Value = app.get("/v1/assets").await.json().await.unwrap();
    let btc = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "BTC")
        .unwrap();
    assert_eq!(btc["decimals"], 8);
    assert_eq!(btc["withdrawal_min"], "0.00100000");
    assert_eq!(btc["withdrawal_fee"], "0.00010000");
}

async fn a_quote_follows_the_documented_formula(app: TestApp) {
    let response = app
        .post_json(
            "/v1/quotes",
            &json!({"market": "sha256-30d", "hash_rate": "100 TH/s", "price": "0.00000055", "hashprice": "0.00000060"}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let q: serde_json::Value = response.json().await.unwrap();
    assert_eq!(q["cost"], "0.00165000");
    assert_eq!(q["buyer_fee"], "0.00004950");
    assert_eq!(q["total"], "0.00169950");
    assert_eq!(q["expected_revenue"], "0.00180000");
    assert_eq!(q["net"], "0.00010050");
    assert_eq!(q["breakeven_hashprice"], "0.00000057");
    // Another unit, same hash rate: the same quote.
    let again: serde_json::Value = app
        .post_json(
            "/v1/quotes",
            &json!({"market": "sha256-30d", "hash_rate": "0.1 PH/s", "price": "0.00000055", "hashprice": "0.00000060"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, q);
}

async fn bad_quotes_are_problems(app: TestApp) {
    let quote = |body: serde_json::Value| {
        let app = &app;
        async move { app.post_json("/v1/quotes", &body).await }
    };
    let ok = json!({"market": "sha256-30d", "hash_rate": "100 TH/s", "price": "0.00000055"});
    let with = |field: &str, value: serde_json::Value| {
        let mut body = ok.clone();
        body[field] = value;
        body
    };
    let cases = [
        (with("market", json!("nope-1d")), "market"),
        (with("price", json!("0.000000555")), "price"),
        (with("price", json!("-0.00000055")), "price"),
        (with("price", json!("0")), "price"),
        (with("price", json!("1e-7")), "price"),
        (with("hash_rate", json!("100 XH/s")), "hash_rate"),
        (with("hash_rate", json!("-1 TH/s")), "hash_rate"),
        (with("hash_rate", json!("0.5 TH/s")), "hash_rate"),
        (with("hash_rate", json!("1.5 TH/s")), "hash_rate"),
        (with("hash_rate", json!("100")), "hash_rate"),
        (with("hashprice", json!("-1")), "hashprice"),
        (with("price", json!(0.00000055)), "price"),
    ];
    for (body, field) in cases {
        let problem = assert_problem(quote(body.clone()).await, 422, "validation").await;
        assert_eq!(problem["errors"][0]["field"], field, "{body} → {problem}");
    }
    let unknown_field = with("surprise", json!(1));
    assert_problem(quote(unknown_field).await, 422, "validation").await;
    let malformed = app
        .client
        .post(app.url("/v1/quotes"))
        .header("content-type", "application/json")
        .body("{\"market\": ")
        .send()
        .await
        .unwrap();
    assert_problem(malformed, 400, "validation").await;
}

async fn an_empty_book_and_an_unknown_one(app: TestApp) {
    let book: serde_json::Value = app
        .get("/v1/markets/sha256-30d/book?depth=5")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(book["market"], "sha256-30d");
    assert_eq!(book["bids"], json!([]));
    assert_eq!(book["asks"], json!([]));
    assert_problem(app.get("/v1/markets/nope-1d/book").await, 404, "not-found").await;
    assert_problem(
        app.get("/v1/markets/sha256-30d/book?depth=0").await,
        422,
        "validation",
    )
    .await;
    assert_problem(
        app.get("/v1/markets/sha256-30d/book?depth=x").await,
        400,
        "validation",
    )
    .await;
}

on_both_backends!(
    algorithms_have_their_display_units,
    markets_publish_every_limit,
    assets_show_withdrawal_terms,
    a_quote_follows_the_documented_formula,
    bad_quotes_are_problems,
    an_empty_book_and_an_unknown_one,
);
