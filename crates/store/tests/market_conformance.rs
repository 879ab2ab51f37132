//! Conformance of the marketplace store: run on SQLite and PostgreSQL alike.

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures_util::StreamExt;
use hashmarket_store::finance::{ExportFilter, ExportRow};
use hashmarket_store::market::*;
use hashmarket_store::payouts::{AccrualRow, ContractProgress, ACCRUAL_START};
use hashmarket_store::testing::TestDatabase;
use hashmarket_store::{connect, Backend, ConnectOptions, Store};
use rust_decimal::Decimal;
use uuid::Uuid;

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::open(hashmarket_store::Backend::Sqlite).await).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::open(hashmarket_store::Backend::Postgres).await).await;
            })*
        }
    };
}

async fn open(backend: Backend) -> (Arc<dyn Store>, TestDatabase) {
    let db = TestDatabase::new(backend).await;
    let store = connect(&db.url, &ConnectOptions::default()).await.unwrap();
    (store, db)
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + secs, 123_456_000).unwrap()
}

fn account(owner: Uuid, purpose: &str) -> AccountRef {
    AccountRef {
        owner_id: owner,
        asset: "BTC".into(),
        purpose: purpose.into(),
    }
}

/// Writes one transfer world → user available, with its two entries.
async fn credit(store: &Arc<dyn Store>, user: Uuid, amount: Decimal) {
    let world = account(OPERATOR_ID, "world");
    let available = account(user, "available");
    let mut work = store.begin().await.unwrap();
    let before = work
        .lock_accounts(&[world.clone(), available.clone()])
        .await
        .unwrap();
    let id = Uuid::now_v7();
    let transfer = TransferRecord {
        id,
        kind: "credit".into(),
        debit: world.clone(),
        credit: available.clone(),
        amount,
        order_id: None,
        contract_id: None,
        withdrawal_id: None,
        reference: Some("wire 42".into()),
        created_at: at(0),
    };
    let entries = [
        EntryRecord {
            transfer_id: id,
            account: world.clone(),
            debit: amount,
            credit: Decimal::ZERO,
            balance_after: before[0] - amount,
            created_at: at(0),
        },
        EntryRecord {
            transfer_id: id,
            account: available.clone(),
            debit: Decimal::ZERO,
            credit: amount,
            balance_after: before[1] + amount,
            created_at: at(0),
        },
    ];
    let balances = [(world, before[0] - amount), (available, before[1] + amount)];
    work.write_ledger(&[transfer], &entries, &balances)
        .await
        .unwrap();
    work.commit().await.unwrap();
}

async fn ledger_round_trip_keeps_exact_decimals((store, _db): (Arc<dyn Store>, TestDatabase)) {
    let user = Uuid::now_v7();
    credit(&store, user, dec("0.00050000")).await;
    credit(&store, user, dec("1.23456789")).await;
    let balances = store.balances(user).await.unwrap();
    assert_eq!(balances.len(), 1);
    assert_eq!(balances[0].balance, dec("1.23506789"));
    let entries = store
        .ledger_entries(user, Some("BTC"), None, 10)
        .await
        .unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries[0].seq > entries[1].seq, "newest first");
    assert_eq!(entries[0].entry.credit, dec("1.23456789"));
    assert_eq!(entries[0].entry.balance_after, dec("1.23506789"));
    assert_eq!(entries[0].kind, "credit");
    assert_eq!(entries[0].reference.as_deref(), Some("wire 42"));
    assert_eq!(entries[0].entry.created_at, at(0));
    let older = store
        .ledger_entries(user, None, Some(entries[0].seq), 10)
        .await
        .unwrap();
    assert_eq!(older.len(), 1);
    assert_eq!(older[0].seq, entries[1].seq);
    for (asset, sum) in store.balance_sums().await.unwrap() {
        assert_eq!(sum, Decimal::ZERO, "{asset} sums to zero");
    }
}

async fn dropped_unit_of_work_rolls_back((store, _db): (Arc<dyn Store>, TestDatabase)) {
    let user = Uuid::now_v7();
    {
        let mut work = store.begin().await.unwrap();
        work.lock_accounts(&[account(user, "available")])
            .await
            .unwrap();
        work.write_ledger(&[], &[], &[(account(user, "available"), dec("5"))])
            .await
            .unwrap();
    }
    assert!(store.balances(user).await.unwrap().is_empty());
}

fn rig(owner: Uuid, capacity_hs: i64) -> RigRow {
    RigRow {
        id: Uuid::now_v7(),
        owner_id: owner,
        name: "s19".into(),
        algorithm: "sha256".into(),
        region: Some("eu".into()),
        hash_rate_hs: capacity_hs,
        offered_hs: 0,
        contracted_hs: 0,
        created_at: at(0),
    }
}

async fn rig_capacity_is_enforced_by_the_database((store, _db): (Arc<dyn Store>, TestDatabase)) {
    let r = rig(Uuid::now_v7(), 100);
    store.insert_rig(&r).await.unwrap();
    let mut work = store.begin().await.unwrap();
    assert!(
        work.set_rig_usage(r.id, 60, 41).await.is_err(),
        "over capacity refused"
    );
    drop(work);
    let mut work = store.begin().await.unwrap();
    work.set_rig_usage(r.id, 60, 40).await.unwrap();
    work.commit().await.unwrap();
    let stored = store.rig(r.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.offered_hs, stored.contracted_hs, stored.free_hs()),
        (60, 40, 0)
    );
    assert!(
        !store.update_rig(r.id, "x", 99, None).await.unwrap(),
        "cannot shrink below use"
    );
    assert!(
        !store.delete_rig(r.id, at(1)).await.unwrap(),
        "cannot delete while in use"
    );
    let mut work = store.begin().await.unwrap();
    work.set_rig_usage(r.id, 0, 0).await.unwrap();
    work.commit().await.unwrap();
    assert!(store.update_rig(r.id, "renamed", 50, None).await.unwrap());
    assert!(store.delete_rig(r.id, at(2)).await.unwrap());
    assert_eq!(store.rig(r.id).await.unwrap(), None);
}

fn order(user: Uuid, engine_id: i64, side: &str) -> OrderRow {
    OrderRow {
        id: Uuid::now_v7(),
        engine_id,
        user_id: user,
        market: "sha256-30d".into(),
        side: side.into(),
        price: dec("0.00000055"),
        hash_rate_hs: 1_000_000_000_000,
        filled_hs: 0,
        status: "open".into(),
        time_in_force: "gtc".into(),
        post_only: false,
        rig_id: None,
        client_order_id: Some("c-1".into()),
        hold_remaining: dec("0.0000165"),
        created_at: at(engine_id),
        updated_at: at(engine_id),
    }
}

async fn orders_upsert_and_rebuild_in_engine_order((store, _db): (Arc<dyn Store>, TestDatabase)) {
    let user = Uuid::now_v7();
    let a = order(user, 1, "buy");
    let b = order(user, 2, "buy");
    let mut work = store.begin().await.unwrap();
    work.upsert_orders(&[b.clone(), a.clone()]).await.unwrap();
    work.commit().await.unwrap();
    let mut filled = a.clone();
    filled.filled_hs = filled.hash_rate_hs;
    filled.status = "filled".into();
    filled.hold_remaining = Decimal::ZERO;
    let mut work = store.begin().await.unwrap();
    work.upsert_orders(std::slice::from_ref(&filled))
        .await
        .unwrap();
    work.commit().await.unwrap();
    assert_eq!(store.order(a.id).await.unwrap().unwrap(), filled);
    let open: Vec<OrderRow> = store
        .open_orders("sha256-30d")
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(open, vec![b.clone()]);
    // Market names that would end a quoted literal, or that no row can hold.
    for market in ["sha256-30d' OR 'a' = 'a", "x\\", "nul\0"] {
        let none: Vec<_> = store.open_orders(market).collect().await;
        assert!(none.is_empty(), "market {market:?}");
    }
    assert_eq!(store.max_engine_id("sha256-30d").await.unwrap(), 2);
    assert_eq!(store.max_engine_id("scrypt-1d").await.unwrap(), 0);
    assert_eq!(store.open_order_count("sha256-30d").await.unwrap(), 1);
    assert_eq!(store.open_order_count("scrypt-1d").await.unwrap(), 0);
    let query = OrderQuery {
        limit: 10,
        ..OrderQuery::default()
    };
    let mine = store.orders(user, &query).await.unwrap();
    assert_eq!(
        mine.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![b.id, a.id]
    );
    let query = OrderQuery {
        status: Some("filled".into()),
        limit: 10,
        ..OrderQuery::default()
    };
    assert_eq!(store.orders(user, &query).await.unwrap().len(), 1);
    assert!(store
        .orders(Uuid::now_v7(), &query)
        .await
        .unwrap()
        .is_empty());
}

/// A stored 30-day contract between a new buyer and seller (on a new rig).
async fn stored_contract(store: &Arc<dyn Store>) -> ContractRow {
    let (buyer, seller) = (Uuid::now_v7(), Uuid::now_v7());
    let r = rig(seller, 10_000_000_000_000);
    store.insert_rig(&r).await.unwrap();
    let bid = order(buyer, 1, "buy");
    let mut ask = order(seller, 2, "sell");
    ask.rig_id = Some(r.id);
    let contract = ContractRow {
        id: Uuid::now_v7(),
        market: "sha256-30d".into(),
        buyer_id: buyer,
        seller_id: seller,
        rig_id: r.id,
        buy_order_id: bid.id,
        sell_order_id: ask.id,
        hash_rate_hs: 1_000_000_000_000,
        price: dec("0.00000055"),
        cost: dec("0.0000165"),
        buyer_fee: dec("0.00000049"),
        asset: "BTC".into(),
        tenor_days: 30,
        starts_at: at(0),
        ends_at: at(30 * 86_400),
        status: "active".into(),
        released_to_seller: Decimal::ZERO,
        refunded_to_buyer: Decimal::ZERO,
        mining_revenue: Decimal::ZERO,
        created_at: at(0),
    };
    let mut work = store.begin().await.unwrap();
    work.upsert_orders(&[bid, ask]).await.unwrap();
    work.insert_contracts(std::slice::from_ref(&contract))
        .await
        .unwrap();
    work.commit().await.unwrap();
    contract
}

async fn contracts_list_by_role((store, _db): (Arc<dyn Store>, TestDatabase)) {
    let contract = stored_contract(&store).await;
    let (buyer, seller) = (contract.buyer_id, contract.seller_id);
    assert_eq!(
        store.contract(contract.id).await.unwrap().unwrap(),
        contract
    );
    let list = |user, role| {
        let store = store.clone();
        async move {
            store
                .contracts(user, role, None, None, 10)
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(list(buyer, ContractRole::Buyer).await, 1);
    assert_eq!(list(buyer, ContractRole::Seller).await, 0);
    assert_eq!(list(seller, ContractRole::Seller).await, 1);
    assert_eq!(list(seller, ContractRole::Any).await, 1);
    assert_eq!(
        store
            .contracts(buyer, ContractRole::Any, Some("completed"), None, 10)
            .await
            .unwrap()
            .len(),
        0
    );
}

/// An accrual row of `contract` for the day `day`, with running totals when given.
fn accrual(contract: &ContractRow, day: i64, totals: Option<(&str, &str)>) -> AccrualRow {
    AccrualRow {
        contract_id: contract.id,
        period_start: at(day * 86_400),
        period_end: at((day + 1) * 86_400),
        delivered_hs: contract.hash_rate_hs,
        released: dec("0.00000055"),
        seller_fee: Decimal::ZERO,
        revenue: dec("0.00000001"),
        maintenance: Decimal::ZERO,
        refunded: Decimal::ZERO,
        created_at: at((day + 1) * 86_400),
        posting: totals.map(|_| format!("accrual {day}")),
        released_total: totals.map(|t| dec(t.0)),
        revenue_total: totals.map(|t| dec(t.1)),
    }
}

/// An active contract's totals and progress are its latest accrual row's; rows
/// written before rows carried totals fall back to the contract's own columns
/// (which were updated with them) — a database accrued by an older version reads
/// the same after the upgrade.
async fn an_active_contract_reads_its_latest_accrual_row(
    (store, _db): (Arc<dyn Store>, TestDatabase),
) {
    let contract = stored_contract(&store).await;
    let due = || async {
        let mut work = store.begin().await.unwrap();
        work.lock_accrual().await.unwrap();
        let due = work
            .contracts_to_accrue(at(40 * 86_400), ACCRUAL_START, 10)
            .await
            .unwrap();
        assert_eq!(due.len(), 1);
        (due[0].accrued_until, due[0].contract.clone())
    };
    assert_eq!(due().await, (None, contract.clone()));
    // Day 0 the old way: a row without totals, and the contract row updated.
    let mut work = store.begin().await.unwrap();
    work.insert_accruals(&[accrual(&contract, 0, None)])
        .await
        .unwrap();
    work.update_contract_progress(&[ContractProgress {
        id: contract.id,
        released_to_seller: dec("0.00000055"),
        refunded_to_buyer: Decimal::ZERO,
        mining_revenue: dec("0.00000001"),
        accrued_until: at(86_400),
        status: "active".into(),
    }])
    .await
    .unwrap();
    work.commit().await.unwrap();
    let (until, read) = due().await;
    assert_eq!(until, Some(at(86_400)));
    assert_eq!(read.released_to_seller, dec("0.00000055"));
    // Days 1 and 2 the new way: rows with running totals, the contract untouched.
    let mut work = store.begin().await.unwrap();
    work.insert_accruals(&[
        accrual(&contract, 1, Some(("0.0000011", "0.00000002"))),
        accrual(&contract, 2, Some(("0.00000165", "0.00000003"))),
    ])
    .await
    .unwrap();
    work.commit().await.unwrap();
    let (until, read) = due().await;
    assert_eq!(until, Some(at(3 * 86_400)));
    assert_eq!(
        (read.released_to_seller, read.mining_revenue),
        (dec("0.00000165"), dec("0.00000003"))
    );
    assert_eq!(store.contract(contract.id).await.unwrap().unwrap(), read);
    let listed = store
        .contracts(contract.buyer_id, ContractRole::Buyer, None, None, 10)
        .await
        .unwrap();
    assert_eq!(listed, vec![read]);
    // Accrued up to day 3: not due again until later.
    let mut work = store.begin().await.unwrap();
    work.lock_accrual().await.unwrap();
    assert!(work
        .contracts_to_accrue(at(3 * 86_400), ACCRUAL_START, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn idempotency_claims_follow_the_draft((store, _db): (Arc<dyn Store>, TestDatabase)) {
    let now = at(0);
    let lock = now + Duration::seconds(30);
    let claim = |key: &'static str, fp: &'static str, now: DateTime<Utc>| {
        let store = store.clone();
        async move {
            store
                .claim_idempotency_key("u1", key, fp, now, now + Duration::seconds(30))
                .await
                .unwrap()
        }
    };
    assert_eq!(claim("k", "f1", now).await, IdempotencyClaim::Fresh);
    assert_eq!(claim("k", "f1", now).await, IdempotencyClaim::InFlight);
    assert_eq!(claim("k", "f2", now).await, IdempotencyClaim::Mismatch);
    // Another principal's namespace is separate.
    assert_eq!(
        store
            .claim_idempotency_key("u2", "k", "f9", now, lock)
            .await
            .unwrap(),
        IdempotencyClaim::Fresh
    );
    let mut work = store.begin().await.unwrap();
    work.complete_idempotency(&[IdempotencyCompletion {
        principal: "u1".into(),
        key: "k".into(),
        status: 201,
        body: "{\"id\":1}".into(),
    }])
    .await
    .unwrap();
    work.commit().await.unwrap();
    assert_eq!(
        claim("k", "f1", now).await,
        IdempotencyClaim::Replay {
            status: 201,
            body: "{\"id\":1}".into()
        }
    );
    assert_eq!(claim("k", "f2", now).await, IdempotencyClaim::Mismatch);
    // An abandoned in-flight claim (its holder died) can be taken over after its lock.
    assert_eq!(claim("dead", "f1", now).await, IdempotencyClaim::Fresh);
    assert_eq!(
        claim("dead", "f1", now + Duration::seconds(10)).await,
        IdempotencyClaim::InFlight
    );
    assert_eq!(
        claim("dead", "f1", now + Duration::seconds(31)).await,
        IdempotencyClaim::Fresh
    );
    // A released claim can be retried at once.
    store.release_idempotency_key("u1", "dead").await.unwrap();
    assert_eq!(claim("dead", "f1", now).await, IdempotencyClaim::Fresh);
    // Purge removes completed records older than the cut-off only.
    assert_eq!(
        store
            .purge_idempotency_keys(now + Duration::seconds(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(claim("k", "f1", now).await, IdempotencyClaim::Fresh);
}

async fn racing_claims_admit_exactly_one((store, _db): (Arc<dyn Store>, TestDatabase)) {
    let now = at(0);
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .claim_idempotency_key("u", "race", "f", now, now + Duration::seconds(30))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut fresh = 0;
    for task in tasks {
        if task.await.unwrap() == IdempotencyClaim::Fresh {
            fresh += 1;
        }
    }
    assert_eq!(fresh, 1);
}

/// Exports through every filter, including string filters that would end a
/// quoted literal early or cannot be stored at all: each selects exactly its
/// entries, exact to the last digit and microsecond, and nothing else happens.
async fn export_filters_select_exactly((store, _db): (Arc<dyn Store>, TestDatabase)) {
    let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
    credit(&store, alice, dec("0.50000000")).await;
    credit(&store, bob, dec("1.23456789")).await;
    let export = |filter: ExportFilter| {
        let store = store.clone();
        async move {
            let rows: Vec<ExportRow> = store
                .export_stream(&filter)
                .map(|row| row.unwrap())
                .collect()
                .await;
            rows
        }
    };
    let all = export(ExportFilter::default()).await;
    assert_eq!(all.len(), 4);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq), "journal order");
    let bobs = &all[3];
    assert_eq!(
        (bobs.owner_id, &*bobs.purpose, &*bobs.asset),
        (bob, "available", "BTC")
    );
    assert_eq!(
        (bobs.debit, bobs.credit),
        (Decimal::ZERO, dec("1.23456789"))
    );
    assert_eq!(bobs.balance_after, dec("1.23456789"));
    assert_eq!(bobs.created_at, at(0), "microseconds kept");
    assert_eq!(&*bobs.kind, "credit");
    assert_eq!(bobs.reference.as_deref(), Some("wire 42"));
    assert_eq!(bobs.transfer_id, all[2].transfer_id);
    assert!(bobs.chain_hash.is_some());
    let seqs = |rows: Vec<ExportRow>| rows.iter().map(|r| r.seq).collect::<Vec<_>>();
    let by = |f: fn(&mut ExportFilter)| {
        let mut filter = ExportFilter::default();
        f(&mut filter);
        filter
    };
    let owner = ExportFilter {
        owner: Some(alice),
        ..ExportFilter::default()
    };
    assert_eq!(seqs(export(owner).await), vec![all[1].seq]);
    let world = by(|f| f.purpose = Some("world".into()));
    assert_eq!(seqs(export(world).await), vec![all[0].seq, all[2].seq]);
    let btc = by(|f| f.asset = Some("BTC".into()));
    assert_eq!(export(btc).await, all);
    let from_start = by(|f| f.from = Some(at(0)));
    assert_eq!(export(from_start).await.len(), 4, "from is inclusive");
    let after = by(|f| f.from = Some(at(0) + Duration::microseconds(1)));
    assert!(export(after).await.is_empty());
    let before = by(|f| f.to = Some(at(0)));
    assert!(export(before).await.is_empty(), "to is exclusive");
    let hostile = [
        "x'y\\z",
        "'; DROP TABLE ledger_entries; --",
        "BTC' OR 'a' = 'a",
        "nul\0",
    ];
    for value in hostile {
        let asset = ExportFilter {
            asset: Some(value.into()),
            ..ExportFilter::default()
        };
        assert!(export(asset).await.is_empty(), "asset {value:?}");
        let purpose = ExportFilter {
            purpose: Some(value.into()),
            ..ExportFilter::default()
        };
        assert!(export(purpose).await.is_empty(), "purpose {value:?}");
    }
    assert_eq!(
        export(ExportFilter::default()).await,
        all,
        "nothing changed"
    );
}

conformance!(
    ledger_round_trip_keeps_exact_decimals,
    dropped_unit_of_work_rolls_back,
    rig_capacity_is_enforced_by_the_database,
    orders_upsert_and_rebuild_in_engine_order,
    contracts_list_by_role,
    an_active_contract_reads_its_latest_accrual_row,
    idempotency_claims_follow_the_draft,
    racing_claims_admit_exactly_one,
    export_filters_select_exactly,
);
