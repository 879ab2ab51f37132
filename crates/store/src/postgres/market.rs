//! PostgreSQL: the marketplace. Bulk writes use `UNNEST` so a batch costs a handful
//! of statements however many orders it holds; locks are taken in key order.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use rust_decimal::Decimal;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};
use uuid::Uuid;

use super::copy_binary::{self, Fields};
use super::numeric::amount;
use super::PgStore;
use crate::market::*;
use crate::StoreError;

const ORDER_COLUMNS: &str = "id, engine_id, user_id, market, side, price, hash_rate_hs, filled_hs, \
    status, time_in_force, post_only, rig_id, client_order_id, hold_remaining, created_at, updated_at";
pub(crate) const CONTRACT_COLUMNS: &str =
    "id, market, buyer_id, seller_id, rig_id, buy_order_id, sell_order_id, \
    hash_rate_hs, price, cost, buyer_fee, asset, tenor_days, starts_at, ends_at, status, \
    released_to_seller, refunded_to_buyer, mining_revenue, created_at";
const RIG_COLUMNS: &str =
    "id, owner_id, name, algorithm, region, hash_rate_hs, offered_hs, contracted_hs, created_at";

fn order_from_row(row: &PgRow) -> Result<OrderRow, sqlx::Error> {
    Ok(OrderRow {
        id: row.try_get("id")?,
        engine_id: row.try_get("engine_id")?,
        user_id: row.try_get("user_id")?,
        market: row.try_get("market")?,
        side: row.try_get("side")?,
        price: amount(row, "price")?,
        hash_rate_hs: row.try_get("hash_rate_hs")?,
        filled_hs: row.try_get("filled_hs")?,
        status: row.try_get("status")?,
        time_in_force: row.try_get("time_in_force")?,
        post_only: row.try_get("post_only")?,
        rig_id: row.try_get("rig_id")?,
        client_order_id: row.try_get("client_order_id")?,
        hold_remaining: amount(row, "hold_remaining")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// An order from a binary COPY of [`ORDER_COLUMNS`], by position.
fn order_from_copy(f: &mut Fields<'_>) -> Result<OrderRow, StoreError> {
    Ok(OrderRow {
        id: f.uuid("id")?,
        engine_id: f.i64("engine_id")?,
        user_id: f.uuid("user_id")?,
        market: f.string("market")?,
        side: f.string("side")?,
        price: f.amount("price")?,
        hash_rate_hs: f.i64("hash_rate_hs")?,
        filled_hs: f.i64("filled_hs")?,
        status: f.string("status")?,
        time_in_force: f.string("time_in_force")?,
        post_only: f.bool("post_only")?,
        rig_id: f.opt_uuid("rig_id")?,
        client_order_id: f.opt_text("client_order_id")?.map(str::to_owned),
        hold_remaining: f.amount("hold_remaining")?,
        created_at: f.time("created_at")?,
        updated_at: f.time("updated_at")?,
    })
}

pub(crate) fn contract_from_row(row: &PgRow) -> Result<ContractRow, sqlx::Error> {
    Ok(ContractRow {
        id: row.try_get("id")?,
        market: row.try_get("market")?,
        buyer_id: row.try_get("buyer_id")?,
        seller_id: row.try_get("seller_id")?,
        rig_id: row.try_get("rig_id")?,
        buy_order_id: row.try_get("buy_order_id")?,
        sell_order_id: row.try_get("sell_order_id")?,
        hash_rate_hs: row.try_get("hash_rate_hs")?,
        price: amount(row, "price")?,
        cost: amount(row, "cost")?,
        buyer_fee: amount(row, "buyer_fee")?,
        asset: row.try_get("asset")?,
        tenor_days: row.try_get("tenor_days")?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        status: row.try_get("status")?,
        released_to_seller: amount(row, "released_to_seller")?,
        refunded_to_buyer: amount(row, "refunded_to_buyer")?,
        mining_revenue: amount(row, "mining_revenue")?,
        created_at: row.try_get("created_at")?,
    })
}

fn rig_from_row(row: &PgRow) -> Result<RigRow, sqlx::Error> {
    Ok(RigRow {
        id: row.try_get("id")?,
        owner_id: row.try_get("owner_id")?,
        name: row.try_get("name")?,
        algorithm: row.try_get("algorithm")?,
        region: row.try_get("region")?,
        hash_rate_hs: row.try_get("hash_rate_hs")?,
        offered_hs: row.try_get("offered_hs")?,
        contracted_hs: row.try_get("contracted_hs")?,
        created_at: row.try_get("created_at")?,
    })
}

fn entry_from_row(row: &PgRow) -> Result<LedgerEntryRow, sqlx::Error> {
    Ok(LedgerEntryRow {
        seq: row.try_get("seq")?,
        entry: EntryRecord {
            transfer_id: row.try_get("transfer_id")?,
            account: AccountRef {
                owner_id: row.try_get("owner_id")?,
                asset: row.try_get("asset")?,
                purpose: row.try_get("purpose")?,
            },
            debit: row.try_get("debit")?,
            credit: row.try_get("credit")?,
            balance_after: row.try_get("balance_after")?,
            created_at: row.try_get("created_at")?,
        },
        kind: row.try_get("kind")?,
        order_id: row.try_get("order_id")?,
        contract_id: row.try_get("contract_id")?,
        withdrawal_id: row.try_get("withdrawal_id")?,
        reference: row.try_get("reference")?,
    })
}

fn balance_from_row(row: &PgRow, column: &str) -> Result<AccountBalance, sqlx::Error> {
    Ok(AccountBalance {
        account: AccountRef {
            owner_id: row.try_get("owner_id")?,
            asset: row.try_get("asset")?,
            purpose: row.try_get("purpose")?,
        },
        balance: row.try_get(column)?,
    })
}

fn classify_row(fingerprint: &str, row: &PgRow) -> Result<IdempotencyClaim, StoreError> {
    crate::idempotency::classify(
        fingerprint,
        row.try_get("fingerprint")?,
        row.try_get("state")?,
        row.try_get::<Option<i32>, _>("response_status")?,
        row.try_get("response_body")?,
    )
}

/// Splits account refs into the three parallel arrays `UNNEST` takes.
/// Balances of locked account rows (owner_id, asset, purpose, balance), by account.
fn balances_by_account(
    rows: &[PgRow],
) -> Result<std::collections::HashMap<AccountRef, Decimal>, StoreError> {
    let mut found = std::collections::HashMap::with_capacity(rows.len());
    for row in rows {
        let key = AccountRef {
            owner_id: row.try_get("owner_id")?,
            asset: row.try_get("asset")?,
            purpose: row.try_get("purpose")?,
        };
        found.insert(key, amount(row, "balance")?);
    }
    Ok(found)
}

pub(super) fn account_arrays(accounts: &[AccountRef]) -> (Vec<Uuid>, Vec<String>, Vec<String>) {
    (
        accounts.iter().map(|a| a.owner_id).collect(),
        accounts.iter().map(|a| a.asset.clone()).collect(),
        accounts.iter().map(|a| a.purpose.clone()).collect(),
    )
}

#[async_trait]
impl MarketStore for PgStore {
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StoreError> {
        Ok(Box::new(PgWork {
            tx: self.pool().begin().await?,
        }))
    }

    async fn balances(&self, owner_id: Uuid) -> Result<Vec<AccountBalance>, StoreError> {
        let rows = sqlx::query(
            "SELECT asset, purpose, balance FROM accounts WHERE owner_id = $1 ORDER BY asset, purpose",
        )
        .bind(owner_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AccountBalance {
                    account: AccountRef {
                        owner_id,
                        asset: r.try_get("asset")?,
                        purpose: r.try_get("purpose")?,
                    },
                    balance: r.try_get("balance")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    async fn balance_sums(&self) -> Result<Vec<(String, Decimal)>, StoreError> {
        let rows = sqlx::query(
            "SELECT asset, sum(balance) AS total FROM accounts GROUP BY asset ORDER BY asset",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("asset")?, r.try_get("total")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    async fn all_accounts(&self) -> Result<Vec<AccountBalance>, StoreError> {
        let rows = sqlx::query("SELECT owner_id, asset, purpose, balance FROM accounts ORDER BY owner_id, asset, purpose")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| balance_from_row(r, "balance"))
            .collect::<Result<_, _>>()
            .map_err(Into::into)
    }

    async fn journal_sums(&self) -> Result<Vec<AccountBalance>, StoreError> {
        let rows = sqlx::query(
            "SELECT owner_id, asset, purpose, sum(credit) - sum(debit) AS total FROM ledger_entries \
             GROUP BY owner_id, asset, purpose ORDER BY owner_id, asset, purpose",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| balance_from_row(r, "total"))
            .collect::<Result<_, _>>()
            .map_err(Into::into)
    }

    async fn ledger_entries(
        &self,
        owner_id: Uuid,
        asset: Option<&str>,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<LedgerEntryRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.seq, e.transfer_id, e.owner_id, e.asset, e.purpose, e.debit, e.credit, \
             e.balance_after, e.created_at, e.kind, e.order_id, e.contract_id, e.withdrawal_id, e.reference \
             FROM ledger_entries e \
             WHERE e.owner_id = $1 AND ($2::text IS NULL OR e.asset = $2) AND ($3::bigint IS NULL OR e.seq < $3) \
             ORDER BY e.seq DESC LIMIT $4",
        )
        .bind(owner_id)
        .bind(asset)
        .bind(before_seq)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(entry_from_row)
            .collect::<Result<_, _>>()
            .map_err(Into::into)
    }

    async fn insert_rig(&self, rig: &RigRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO rigs (id, owner_id, name, algorithm, region, hash_rate_hs, offered_hs, contracted_hs, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(rig.id)
        .bind(rig.owner_id)
        .bind(&rig.name)
        .bind(&rig.algorithm)
        .bind(&rig.region)
        .bind(rig.hash_rate_hs)
        .bind(rig.offered_hs)
        .bind(rig.contracted_hs)
        .bind(rig.created_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn rig(&self, id: Uuid) -> Result<Option<RigRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {RIG_COLUMNS} FROM rigs WHERE id = $1 AND deleted_at IS NULL"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref()
            .map(rig_from_row)
            .transpose()
            .map_err(Into::into)
    }

    async fn rigs(
        &self,
        owner_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<RigRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {RIG_COLUMNS} FROM rigs WHERE owner_id = $1 AND deleted_at IS NULL \
             AND ($2::uuid IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
        ))
        .bind(owner_id)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(rig_from_row)
            .collect::<Result<_, _>>()
            .map_err(Into::into)
    }

    async fn update_rig(
        &self,
        id: Uuid,
        name: &str,
        hash_rate_hs: i64,
        region: Option<&str>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE rigs SET name = $2, hash_rate_hs = $3, region = $4 \
             WHERE id = $1 AND deleted_at IS NULL AND offered_hs + contracted_hs <= $3",
        )
        .bind(id)
        .bind(name)
        .bind(hash_rate_hs)
        .bind(region)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_rig(&self, id: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE rigs SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL \
             AND offered_hs = 0 AND contracted_hs = 0",
        )
        .bind(id)
        .bind(at)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn order(&self, id: Uuid) -> Result<Option<OrderRow>, StoreError> {
        let row = sqlx::query(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref()
            .map(order_from_row)
            .transpose()
            .map_err(Into::into)
    }

    async fn orders(&self, user_id: Uuid, query: &OrderQuery) -> Result<Vec<OrderRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = $1 AND ($2::text IS NULL OR market = $2) \
             AND ($3::text IS NULL OR status = $3) AND ($4::uuid IS NULL OR id < $4) ORDER BY id DESC LIMIT $5"
        ))
        .bind(user_id)
        .bind(&query.market)
        .bind(&query.status)
        .bind(query.before)
        .bind(i64::from(query.limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(order_from_row)
            .collect::<Result<_, _>>()
            .map_err(Into::into)
    }

    fn open_orders<'a>(&'a self, market: &'a str) -> BoxStream<'a, Result<OrderRow, StoreError>> {
        // Recovery reads every open order of a market (a million, say): binary
        // COPY, decoded by position, instead of a `PgRow` per order.
        let Some(market) = copy_binary::text_literal(market) else {
            return futures_util::stream::empty().boxed(); // no market is named so
        };
        let statement = format!(
            "COPY (SELECT {ORDER_COLUMNS} FROM orders WHERE market = {market} \
             AND status IN ('open', 'partially_filled') ORDER BY engine_id) TO STDOUT (FORMAT binary)"
        );
        let columns = ORDER_COLUMNS.split(',').count() as u16;
        copy_binary::copy_out(self.pool(), statement, columns, order_from_copy)
    }

    async fn max_engine_id(&self, market: &str) -> Result<i64, StoreError> {
        let max: Option<i64> =
            sqlx::query_scalar("SELECT max(engine_id) FROM orders WHERE market = $1")
                .bind(market)
                .fetch_one(self.pool())
                .await?;
        Ok(max.unwrap_or(0))
    }

    async fn open_order_count(&self, market: &str) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM orders WHERE market = $1 \
             AND status IN ('open', 'partially_filled')",
        )
        .bind(market)
        .fetch_one(self.pool())
        .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn contract(&self, id: Uuid) -> Result<Option<ContractRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CONTRACT_COLUMNS} FROM contracts WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref()
            .map(contract_from_row)
            .transpose()
            .map_err(Into::into)
    }

    async fn contracts(
        &self,
        user_id: Uuid,
        role: ContractRole,
        status: Option<&str>,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<ContractRow>, StoreError> {
        let who = match role {
            ContractRole::Buyer => "buyer_id = $1",
            ContractRole::Seller => "seller_id = $1",
            ContractRole::Any => "(buyer_id = $1 OR seller_id = $1)",
        };
        let rows = sqlx::query(&format!(
            "SELECT {CONTRACT_COLUMNS} FROM contracts WHERE {who} AND ($2::text IS NULL OR status = $2) \
             AND ($3::uuid IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
        ))
        .bind(user_id)
        .bind(status)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(contract_from_row)
            .collect::<Result<_, _>>()
            .map_err(Into::into)
    }

    async fn claim_idempotency_key(
        &self,
        principal: &str,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        lock_until: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StoreError> {
        // Insert a fresh claim, or take over one whose holder died (lock expired).
        let claimed = sqlx::query(
            "INSERT INTO idempotency_keys (principal, key, fingerprint, state, created_at, locked_until) \
             VALUES ($1, $2, $3, 'in_flight', $4, $5) \
             ON CONFLICT (principal, key) DO UPDATE SET locked_until = excluded.locked_until, created_at = excluded.created_at \
             WHERE idempotency_keys.state = 'in_flight' AND idempotency_keys.locked_until < $4 \
             AND idempotency_keys.fingerprint = excluded.fingerprint",
        )
        .bind(principal)
        .bind(key)
        .bind(fingerprint)
        .bind(now)
        .bind(lock_until)
        .execute(self.pool())
        .await?;
        if claimed.rows_affected() == 1 {
            return Ok(IdempotencyClaim::Fresh);
        }
        let row = sqlx::query(
            "SELECT fingerprint, state, response_status, response_body FROM idempotency_keys \
             WHERE principal = $1 AND key = $2",
        )
        .bind(principal)
        .bind(key)
        .fetch_one(self.pool())
        .await?;
        crate::idempotency::classify(
            fingerprint,
            row.try_get("fingerprint")?,
            row.try_get("state")?,
            row.try_get::<Option<i32>, _>("response_status")?,
            row.try_get("response_body")?,
        )
    }

    async fn release_idempotency_key(&self, principal: &str, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND state = 'in_flight'")
            .bind(principal)
            .bind(key)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn purge_idempotency_keys(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM idempotency_keys WHERE state = 'complete' AND created_at < $1",
        )
        .bind(before)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }
}

/// A PostgreSQL write transaction.
struct PgWork {
    tx: Transaction<'static, Postgres>,
}

#[async_trait]
impl UnitOfWork for PgWork {
    async fn lock_accounts(&mut self, accounts: &[AccountRef]) -> Result<Vec<Decimal>, StoreError> {
        let (owners, assets, purposes) = account_arrays(accounts);
        // One round trip: create the missing accounts and lock the existing ones in
        // key order. A row another transaction created after this statement's
        // snapshot is neither created here nor seen; a second run (a fresh
        // snapshot) finds and locks it.
        let mut found = std::collections::HashMap::new();
        for _ in 0..2 {
            let rows = sqlx::query(
                "WITH k AS (SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[]) AS k(owner_id, asset, purpose)), \
                 created AS (INSERT INTO accounts (owner_id, asset, purpose) SELECT * FROM k ORDER BY 1, 2, 3 \
                   ON CONFLICT DO NOTHING RETURNING owner_id, asset, purpose, balance), \
                 locked AS (SELECT a.owner_id, a.asset, a.purpose, a.balance FROM accounts a JOIN k \
                   ON a.owner_id = k.owner_id AND a.asset = k.asset AND a.purpose = k.purpose \
                   ORDER BY a.owner_id, a.asset, a.purpose FOR UPDATE OF a) \
                 SELECT * FROM locked UNION ALL SELECT * FROM created",
            )
            .bind(&owners)
            .bind(&assets)
            .bind(&purposes)
            .fetch_all(&mut *self.tx)
            .await?;
            found = balances_by_account(&rows)?;
            if accounts.iter().all(|a| found.contains_key(a)) {
                break;
            }
        }
        accounts
            .iter()
            .map(|a| {
                found.get(a).copied().ok_or_else(|| StoreError::Corrupt {
                    column: "accounts",
                    detail: format!("account {a:?} vanished while locking"),
                })
            })
            .collect()
    }

    async fn lock_rig(&mut self, id: Uuid) -> Result<Option<RigRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {RIG_COLUMNS} FROM rigs WHERE id = $1 AND deleted_at IS NULL FOR UPDATE"
        ))
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref()
            .map(rig_from_row)
            .transpose()
            .map_err(Into::into)
    }

    async fn write_ledger(
        &mut self,
        transfers: &[TransferRecord],
        entries: &[EntryRecord],
        balances: &[(AccountRef, Decimal)],
    ) -> Result<(), StoreError> {
        super::journal::write_journal(&mut self.tx, transfers, entries, balances).await?;
        Ok(())
    }

    async fn set_rig_usage(
        &mut self,
        rig_id: Uuid,
        offered_hs: i64,
        contracted_hs: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE rigs SET offered_hs = $2, contracted_hs = $3 WHERE id = $1")
            .bind(rig_id)
            .bind(offered_hs)
            .bind(contracted_hs)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn upsert_orders(&mut self, orders: &[OrderRow]) -> Result<(), StoreError> {
        if orders.is_empty() {
            return Ok(());
        }
        let col = |f: fn(&OrderRow) -> String| orders.iter().map(f).collect::<Vec<_>>();
        sqlx::query(
            "INSERT INTO orders (id, engine_id, user_id, market, side, price, hash_rate_hs, filled_hs, status, \
             time_in_force, post_only, rig_id, client_order_id, hold_remaining, created_at, updated_at) \
             SELECT * FROM UNNEST($1::uuid[], $2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::numeric[], \
             $7::bigint[], $8::bigint[], $9::text[], $10::text[], $11::bool[], $12::uuid[], $13::text[], \
             $14::numeric[], $15::timestamptz[], $16::timestamptz[]) \
             ON CONFLICT (id) DO UPDATE SET filled_hs = excluded.filled_hs, status = excluded.status, \
             hold_remaining = excluded.hold_remaining, price = excluded.price, \
             hash_rate_hs = excluded.hash_rate_hs, updated_at = excluded.updated_at",
        )
        .bind(orders.iter().map(|o| o.id).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| o.engine_id).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| o.user_id).collect::<Vec<_>>())
        .bind(col(|o| o.market.clone()))
        .bind(col(|o| o.side.clone()))
        .bind(orders.iter().map(|o| o.price).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| o.hash_rate_hs).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| o.filled_hs).collect::<Vec<_>>())
        .bind(col(|o| o.status.clone()))
        .bind(col(|o| o.time_in_force.clone()))
        .bind(orders.iter().map(|o| o.post_only).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| o.rig_id).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| o.client_order_id.clone()).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| o.hold_remaining).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| o.created_at).collect::<Vec<_>>())
        .bind(orders.iter().map(|o| o.updated_at).collect::<Vec<_>>())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn insert_contracts(&mut self, contracts: &[ContractRow]) -> Result<(), StoreError> {
        for c in contracts {
            sqlx::query(&format!(
                "INSERT INTO contracts ({CONTRACT_COLUMNS}) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
            ))
            .bind(c.id)
            .bind(&c.market)
            .bind(c.buyer_id)
            .bind(c.seller_id)
            .bind(c.rig_id)
            .bind(c.buy_order_id)
            .bind(c.sell_order_id)
            .bind(c.hash_rate_hs)
            .bind(c.price)
            .bind(c.cost)
            .bind(c.buyer_fee)
            .bind(&c.asset)
            .bind(c.tenor_days)
            .bind(c.starts_at)
            .bind(c.ends_at)
            .bind(&c.status)
            .bind(c.released_to_seller)
            .bind(c.refunded_to_buyer)
            .bind(c.mining_revenue)
            .bind(c.created_at)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    async fn find_idempotency_keys(
        &mut self,
        wanted: &[(String, String, String)],
    ) -> Result<Vec<(String, String, IdempotencyClaim)>, StoreError> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let principals: Vec<&str> = wanted.iter().map(|w| w.0.as_str()).collect();
        let keys: Vec<&str> = wanted.iter().map(|w| w.1.as_str()).collect();
        let rows = sqlx::query(
            "SELECT i.principal, i.key, i.fingerprint, i.state, i.response_status, i.response_body \
             FROM idempotency_keys i JOIN UNNEST($1::text[], $2::text[]) AS w(principal, key) \
             ON i.principal = w.principal AND i.key = w.key",
        )
        .bind(&principals)
        .bind(&keys)
        .fetch_all(&mut *self.tx)
        .await?;
        let mut found = Vec::with_capacity(rows.len());
        for row in &rows {
            let (principal, key): (String, String) =
                (row.try_get("principal")?, row.try_get("key")?);
            let Some(fingerprint) = wanted
                .iter()
                .find(|w| w.0 == principal && w.1 == key)
                .map(|w| &w.2)
            else {
                continue;
            };
            found.push((principal, key, classify_row(fingerprint, row)?));
        }
        Ok(found)
    }

    async fn insert_idempotency_records(
        &mut self,
        records: &[IdempotencyRecord],
    ) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO idempotency_keys (principal, key, fingerprint, state, response_status, response_body, \
             created_at, locked_until) \
             SELECT p, k, f, 'complete', s, b, c, c FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int[], \
             $5::text[], $6::timestamptz[]) AS r(p, k, f, s, b, c)",
        )
        .bind(records.iter().map(|r| r.principal.clone()).collect::<Vec<_>>())
        .bind(records.iter().map(|r| r.key.clone()).collect::<Vec<_>>())
        .bind(records.iter().map(|r| r.fingerprint.clone()).collect::<Vec<_>>())
        .bind(records.iter().map(|r| i32::from(r.status)).collect::<Vec<_>>())
        .bind(records.iter().map(|r| r.body.clone()).collect::<Vec<_>>())
        .bind(records.iter().map(|r| r.created_at).collect::<Vec<_>>())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn complete_idempotency(
        &mut self,
        completions: &[IdempotencyCompletion],
    ) -> Result<(), StoreError> {
        for c in completions {
            sqlx::query(
                "UPDATE idempotency_keys SET state = 'complete', response_status = $3, response_body = $4 \
                 WHERE principal = $1 AND key = $2",
            )
            .bind(&c.principal)
            .bind(&c.key)
            .bind(i32::from(c.status))
            .bind(&c.body)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    async fn lock_contract_progress(
        &mut self,
        ids: &[Uuid],
    ) -> Result<Vec<(Uuid, Option<DateTime<Utc>>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, accrued_until FROM contracts WHERE id = ANY($1) ORDER BY id FOR UPDATE",
        )
        .bind(ids)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("accrued_until")?)))
            .collect()
    }

    async fn insert_accruals(
        &mut self,
        rows: &[crate::payouts::AccrualRow],
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = rows.iter().map(|a| a.contract_id).collect();
        let starts: Vec<DateTime<Utc>> = rows.iter().map(|a| a.period_start).collect();
        let ends: Vec<DateTime<Utc>> = rows.iter().map(|a| a.period_end).collect();
        let delivered: Vec<i64> = rows.iter().map(|a| a.delivered_hs).collect();
        let money = |f: fn(&crate::payouts::AccrualRow) -> Decimal| -> Vec<Decimal> {
            rows.iter().map(f).collect()
        };
        let created: Vec<DateTime<Utc>> = rows.iter().map(|a| a.created_at).collect();
        sqlx::query(
            "INSERT INTO accruals (contract_id, period_start, period_end, delivered_hs, \
             released, seller_fee, revenue, maintenance, refunded, created_at) \
             SELECT * FROM UNNEST($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::bigint[], \
             $5::numeric[], $6::numeric[], $7::numeric[], $8::numeric[], $9::numeric[], \
             $10::timestamptz[])",
        )
        .bind(&ids)
        .bind(&starts)
        .bind(&ends)
        .bind(&delivered)
        .bind(money(|a| a.released))
        .bind(money(|a| a.seller_fee))
        .bind(money(|a| a.revenue))
        .bind(money(|a| a.maintenance))
        .bind(money(|a| a.refunded))
        .bind(&created)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn update_contract_progress(
        &mut self,
        rows: &[crate::payouts::ContractProgress],
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
        let money = |f: fn(&crate::payouts::ContractProgress) -> Decimal| -> Vec<Decimal> {
            rows.iter().map(f).collect()
        };
        let until: Vec<DateTime<Utc>> = rows.iter().map(|c| c.accrued_until).collect();
        let status: Vec<String> = rows.iter().map(|c| c.status.clone()).collect();
        sqlx::query(
            "UPDATE contracts c SET released_to_seller = v.released, refunded_to_buyer = v.refunded, \
             mining_revenue = v.revenue, accrued_until = v.until, status = v.status \
             FROM UNNEST($1::uuid[], $2::numeric[], $3::numeric[], $4::numeric[], \
             $5::timestamptz[], $6::text[]) AS v(id, released, refunded, revenue, until, status) \
             WHERE c.id = v.id",
        )
        .bind(&ids)
        .bind(money(|c| c.released_to_seller))
        .bind(money(|c| c.refunded_to_buyer))
        .bind(money(|c| c.mining_revenue))
        .bind(&until)
        .bind(&status)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn insert_user_emails(&mut self, emails: &[UserEmail]) -> Result<(), StoreError> {
        for e in emails {
            sqlx::query(
                "INSERT INTO outbox_emails (id, recipient, subject, body_text, body_html, status, \
                 attempts, next_attempt_at, created_at) \
                 SELECT $1, email, $2, $3, $4, 'pending', 0, $5, $5 FROM users WHERE id = $6",
            )
            .bind(e.id)
            .bind(&e.subject)
            .bind(&e.body_text)
            .bind(&e.body_html)
            .bind(e.created_at)
            .bind(e.user_id)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    async fn insert_withdrawal(
        &mut self,
        row: &crate::withdrawals::WithdrawalRow,
    ) -> Result<(), StoreError> {
        super::withdrawals::insert(&mut self.tx, row).await
    }

    async fn lock_withdrawal(
        &mut self,
        id: Uuid,
    ) -> Result<Option<crate::withdrawals::WithdrawalRow>, StoreError> {
        super::withdrawals::lock(&mut self.tx, id).await
    }

    async fn update_withdrawal(
        &mut self,
        row: &crate::withdrawals::WithdrawalRow,
    ) -> Result<(), StoreError> {
        super::withdrawals::update(&mut self.tx, row).await
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}
