//! SQLite: the marketplace. Every write goes through the single writer connection,
//! so a unit of work is alone by construction and locking is just reading;
//! statements are prepared once and cached by sqlx, so per-row inserts are cheap.

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use rust_decimal::Decimal;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};
use uuid::Uuid;

use super::codec::{decimal, decimal_text, opt_time, opt_uuid, time, time_text, uuid};
use super::SqliteStore;
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

fn order_from_row(row: &SqliteRow) -> Result<OrderRow, StoreError> {
    Ok(OrderRow {
        id: uuid(row, "id")?,
        engine_id: row.try_get("engine_id")?,
        user_id: uuid(row, "user_id")?,
        market: row.try_get("market")?,
        side: row.try_get("side")?,
        price: decimal(row, "price")?,
        hash_rate_hs: row.try_get("hash_rate_hs")?,
        filled_hs: row.try_get("filled_hs")?,
        status: row.try_get("status")?,
        time_in_force: row.try_get("time_in_force")?,
        post_only: row.try_get("post_only")?,
        rig_id: opt_uuid(row, "rig_id")?,
        client_order_id: row.try_get("client_order_id")?,
        hold_remaining: decimal(row, "hold_remaining")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

pub(crate) fn contract_from_row(row: &SqliteRow) -> Result<ContractRow, StoreError> {
    Ok(ContractRow {
        id: uuid(row, "id")?,
        market: row.try_get("market")?,
        buyer_id: uuid(row, "buyer_id")?,
        seller_id: uuid(row, "seller_id")?,
        rig_id: uuid(row, "rig_id")?,
        buy_order_id: uuid(row, "buy_order_id")?,
        sell_order_id: uuid(row, "sell_order_id")?,
        hash_rate_hs: row.try_get("hash_rate_hs")?,
        price: decimal(row, "price")?,
        cost: decimal(row, "cost")?,
        buyer_fee: decimal(row, "buyer_fee")?,
        asset: row.try_get("asset")?,
        tenor_days: row.try_get("tenor_days")?,
        starts_at: time(row, "starts_at")?,
        ends_at: time(row, "ends_at")?,
        status: row.try_get("status")?,
        released_to_seller: decimal(row, "released_to_seller")?,
        refunded_to_buyer: decimal(row, "refunded_to_buyer")?,
        mining_revenue: decimal(row, "mining_revenue")?,
        created_at: time(row, "created_at")?,
    })
}

fn rig_from_row(row: &SqliteRow) -> Result<RigRow, StoreError> {
    Ok(RigRow {
        id: uuid(row, "id")?,
        owner_id: uuid(row, "owner_id")?,
        name: row.try_get("name")?,
        algorithm: row.try_get("algorithm")?,
        region: row.try_get("region")?,
        hash_rate_hs: row.try_get("hash_rate_hs")?,
        offered_hs: row.try_get("offered_hs")?,
        contracted_hs: row.try_get("contracted_hs")?,
        created_at: time(row, "created_at")?,
    })
}

fn entry_from_row(row: &SqliteRow) -> Result<LedgerEntryRow, StoreError> {
    Ok(LedgerEntryRow {
        seq: row.try_get("seq")?,
        entry: EntryRecord {
            transfer_id: uuid(row, "transfer_id")?,
            account: AccountRef {
                owner_id: uuid(row, "owner_id")?,
                asset: row.try_get("asset")?,
                purpose: row.try_get("purpose")?,
            },
            debit: decimal(row, "debit")?,
            credit: decimal(row, "credit")?,
            balance_after: decimal(row, "balance_after")?,
            created_at: time(row, "created_at")?,
        },
        kind: row.try_get("kind")?,
        order_id: opt_uuid(row, "order_id")?,
        contract_id: opt_uuid(row, "contract_id")?,
        withdrawal_id: opt_uuid(row, "withdrawal_id")?,
        reference: row.try_get("reference")?,
    })
}

fn balance_from_row(row: &SqliteRow, column: &'static str) -> Result<AccountBalance, StoreError> {
    Ok(AccountBalance {
        account: AccountRef {
            owner_id: uuid(row, "owner_id")?,
            asset: row.try_get("asset")?,
            purpose: row.try_get("purpose")?,
        },
        balance: decimal(row, column)?,
    })
}

fn classify_row(fingerprint: &str, row: &SqliteRow) -> Result<IdempotencyClaim, StoreError> {
    crate::idempotency::classify(
        fingerprint,
        row.try_get("fingerprint")?,
        row.try_get("state")?,
        row.try_get::<Option<i32>, _>("response_status")?,
        row.try_get("response_body")?,
    )
}

fn all<T>(
    rows: &[SqliteRow],
    f: fn(&SqliteRow) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows.iter().map(f).collect()
}

/// An optional id as SQLite stores it (text).
pub(super) fn text(id: Option<Uuid>) -> Option<String> {
    id.map(|u| u.to_string())
}

#[async_trait]
impl MarketStore for SqliteStore {
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StoreError> {
        Ok(Box::new(SqliteWork {
            tx: self.begin_write().await?,
        }))
    }

    async fn balances(&self, owner_id: Uuid) -> Result<Vec<AccountBalance>, StoreError> {
        let rows = sqlx::query("SELECT asset, purpose, balance FROM accounts WHERE owner_id = ?1 ORDER BY asset, purpose")
            .bind(owner_id.to_string())
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AccountBalance {
                    account: AccountRef {
                        owner_id,
                        asset: r.try_get("asset")?,
                        purpose: r.try_get("purpose")?,
                    },
                    balance: decimal(r, "balance")?,
                })
            })
            .collect()
    }

    async fn balance_sums(&self) -> Result<Vec<(String, Decimal)>, StoreError> {
        // Summed in Rust: SQLite's sum() would go through floating point.
        let rows = sqlx::query("SELECT asset, balance FROM accounts ORDER BY asset")
            .fetch_all(self.reader())
            .await?;
        let mut sums: std::collections::BTreeMap<String, Decimal> = Default::default();
        for row in &rows {
            *sums.entry(row.try_get("asset")?).or_default() += decimal(row, "balance")?;
        }
        Ok(sums.into_iter().collect())
    }

    async fn all_accounts(&self) -> Result<Vec<AccountBalance>, StoreError> {
        let rows = sqlx::query("SELECT owner_id, asset, purpose, balance FROM accounts ORDER BY owner_id, asset, purpose")
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|r| balance_from_row(r, "balance"))
            .collect()
    }

    async fn journal_sums(&self) -> Result<Vec<AccountBalance>, StoreError> {
        // Summed in Rust, exactly: SQLite's sum() would go through floating point.
        let mut sums: std::collections::BTreeMap<AccountRef, Decimal> = Default::default();
        let mut rows =
            sqlx::query("SELECT owner_id, asset, purpose, debit, credit FROM ledger_entries")
                .fetch(self.reader());
        while let Some(row) = futures_util::TryStreamExt::try_next(&mut rows).await? {
            let key = AccountRef {
                owner_id: uuid(&row, "owner_id")?,
                asset: row.try_get("asset")?,
                purpose: row.try_get("purpose")?,
            };
            *sums.entry(key).or_default() += decimal(&row, "credit")? - decimal(&row, "debit")?;
        }
        Ok(sums
            .into_iter()
            .map(|(account, balance)| AccountBalance { account, balance })
            .collect())
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
             WHERE e.owner_id = ?1 AND (?2 IS NULL OR e.asset = ?2) AND (?3 IS NULL OR e.seq < ?3) \
             ORDER BY e.seq DESC LIMIT ?4",
        )
        .bind(owner_id.to_string())
        .bind(asset)
        .bind(before_seq)
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await?;
        all(&rows, entry_from_row)
    }

    async fn insert_rig(&self, rig: &RigRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO rigs (id, owner_id, name, algorithm, region, hash_rate_hs, offered_hs, contracted_hs, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .bind(rig.id.to_string())
        .bind(rig.owner_id.to_string())
        .bind(&rig.name)
        .bind(&rig.algorithm)
        .bind(&rig.region)
        .bind(rig.hash_rate_hs)
        .bind(rig.offered_hs)
        .bind(rig.contracted_hs)
        .bind(time_text(&rig.created_at))
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn rig(&self, id: Uuid) -> Result<Option<RigRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {RIG_COLUMNS} FROM rigs WHERE id = ?1 AND deleted_at IS NULL"
        ))
        .bind(id.to_string())
        .fetch_optional(self.reader())
        .await?;
        row.as_ref().map(rig_from_row).transpose()
    }

    async fn rigs(
        &self,
        owner_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<RigRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {RIG_COLUMNS} FROM rigs WHERE owner_id = ?1 AND deleted_at IS NULL \
             AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3"
        ))
        .bind(owner_id.to_string())
        .bind(text(before))
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await?;
        all(&rows, rig_from_row)
    }

    async fn update_rig(
        &self,
        id: Uuid,
        name: &str,
        hash_rate_hs: i64,
        region: Option<&str>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE rigs SET name = ?2, hash_rate_hs = ?3, region = ?4 \
             WHERE id = ?1 AND deleted_at IS NULL AND offered_hs + contracted_hs <= ?3",
        )
        .bind(id.to_string())
        .bind(name)
        .bind(hash_rate_hs)
        .bind(region)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_rig(&self, id: Uuid, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE rigs SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL \
             AND offered_hs = 0 AND contracted_hs = 0",
        )
        .bind(id.to_string())
        .bind(time_text(&at))
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn order(&self, id: Uuid) -> Result<Option<OrderRow>, StoreError> {
        let row = sqlx::query(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1"))
            .bind(id.to_string())
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(order_from_row).transpose()
    }

    async fn orders(&self, user_id: Uuid, query: &OrderQuery) -> Result<Vec<OrderRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = ?1 AND (?2 IS NULL OR market = ?2) \
             AND (?3 IS NULL OR status = ?3) AND (?4 IS NULL OR id < ?4) ORDER BY id DESC LIMIT ?5"
        ))
        .bind(user_id.to_string())
        .bind(&query.market)
        .bind(&query.status)
        .bind(text(query.before))
        .bind(i64::from(query.limit))
        .fetch_all(self.reader())
        .await?;
        all(&rows, order_from_row)
    }

    fn open_orders<'a>(&'a self, market: &'a str) -> BoxStream<'a, Result<OrderRow, StoreError>> {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE market = ?1 \
                 AND status IN ('open', 'partially_filled') ORDER BY engine_id"
            )
        });
        sqlx::query(&SQL)
            .bind(market)
            .fetch(self.reader())
            .map(|row| order_from_row(&row?))
            .boxed()
    }

    async fn max_engine_id(&self, market: &str) -> Result<i64, StoreError> {
        let max: Option<i64> =
            sqlx::query_scalar("SELECT max(engine_id) FROM orders WHERE market = ?1")
                .bind(market)
                .fetch_one(self.reader())
                .await?;
        Ok(max.unwrap_or(0))
    }

    async fn open_order_count(&self, market: &str) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM orders WHERE market = ?1 \
             AND status IN ('open', 'partially_filled')",
        )
        .bind(market)
        .fetch_one(self.reader())
        .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn contract(&self, id: Uuid) -> Result<Option<ContractRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CONTRACT_COLUMNS} FROM contracts WHERE id = ?1"
        ))
        .bind(id.to_string())
        .fetch_optional(self.reader())
        .await?;
        row.as_ref().map(contract_from_row).transpose()
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
            ContractRole::Buyer => "buyer_id = ?1",
            ContractRole::Seller => "seller_id = ?1",
            ContractRole::Any => "(buyer_id = ?1 OR seller_id = ?1)",
        };
        let rows = sqlx::query(&format!(
            "SELECT {CONTRACT_COLUMNS} FROM contracts WHERE {who} AND (?2 IS NULL OR status = ?2) \
             AND (?3 IS NULL OR id < ?3) ORDER BY id DESC LIMIT ?4"
        ))
        .bind(user_id.to_string())
        .bind(status)
        .bind(text(before))
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await?;
        all(&rows, contract_from_row)
    }

    async fn claim_idempotency_key(
        &self,
        principal: &str,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        lock_until: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StoreError> {
        let mut tx = self.begin_write().await?;
        let claimed = sqlx::query(
            "INSERT INTO idempotency_keys (principal, key, fingerprint, state, created_at, locked_until) \
             VALUES (?1, ?2, ?3, 'in_flight', ?4, ?5) \
             ON CONFLICT (principal, key) DO UPDATE SET locked_until = excluded.locked_until, created_at = excluded.created_at \
             WHERE idempotency_keys.state = 'in_flight' AND idempotency_keys.locked_until < ?4 \
             AND idempotency_keys.fingerprint = excluded.fingerprint",
        )
        .bind(principal)
        .bind(key)
        .bind(fingerprint)
        .bind(time_text(&now))
        .bind(time_text(&lock_until))
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 1 {
            tx.commit().await?;
            return Ok(IdempotencyClaim::Fresh);
        }
        let row = sqlx::query(
            "SELECT fingerprint, state, response_status, response_body FROM idempotency_keys \
             WHERE principal = ?1 AND key = ?2",
        )
        .bind(principal)
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        crate::idempotency::classify(
            fingerprint,
            row.try_get("fingerprint")?,
            row.try_get("state")?,
            row.try_get::<Option<i32>, _>("response_status")?,
            row.try_get("response_body")?,
        )
    }

    async fn release_idempotency_key(&self, principal: &str, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM idempotency_keys WHERE principal = ?1 AND key = ?2 AND state = 'in_flight'")
            .bind(principal)
            .bind(key)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    async fn purge_idempotency_keys(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM idempotency_keys WHERE state = 'complete' AND created_at < ?1",
        )
        .bind(time_text(&before))
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected())
    }
}

/// A SQLite write transaction on the single writer connection.
struct SqliteWork {
    tx: Transaction<'static, Sqlite>,
}

#[async_trait]
impl UnitOfWork for SqliteWork {
    async fn lock_accounts(&mut self, accounts: &[AccountRef]) -> Result<Vec<Decimal>, StoreError> {
        let mut balances = Vec::with_capacity(accounts.len());
        for account in accounts {
            sqlx::query("INSERT INTO accounts (owner_id, asset, purpose) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING")
                .bind(account.owner_id.to_string())
                .bind(&account.asset)
                .bind(&account.purpose)
                .execute(&mut *self.tx)
                .await?;
            let row = sqlx::query(
                "SELECT balance FROM accounts WHERE owner_id = ?1 AND asset = ?2 AND purpose = ?3",
            )
            .bind(account.owner_id.to_string())
            .bind(&account.asset)
            .bind(&account.purpose)
            .fetch_one(&mut *self.tx)
            .await?;
            balances.push(decimal(&row, "balance")?);
        }
        Ok(balances)
    }

    async fn lock_rig(&mut self, id: Uuid) -> Result<Option<RigRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {RIG_COLUMNS} FROM rigs WHERE id = ?1 AND deleted_at IS NULL"
        ))
        .bind(id.to_string())
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(rig_from_row).transpose()
    }

    async fn write_ledger(
        &mut self,
        transfers: &[TransferRecord],
        entries: &[EntryRecord],
        balances: &[(AccountRef, Decimal)],
    ) -> Result<(), StoreError> {
        super::journal::write_journal(&mut self.tx, transfers, entries, balances).await
    }

    async fn set_rig_usage(
        &mut self,
        rig_id: Uuid,
        offered_hs: i64,
        contracted_hs: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE rigs SET offered_hs = ?2, contracted_hs = ?3 WHERE id = ?1")
            .bind(rig_id.to_string())
            .bind(offered_hs)
            .bind(contracted_hs)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn upsert_orders(&mut self, orders: &[OrderRow]) -> Result<(), StoreError> {
        for o in orders {
            sqlx::query(&format!(
                "INSERT INTO orders ({ORDER_COLUMNS}) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) \
                 ON CONFLICT (id) DO UPDATE SET filled_hs = excluded.filled_hs, status = excluded.status, \
                 hold_remaining = excluded.hold_remaining, price = excluded.price, \
                 hash_rate_hs = excluded.hash_rate_hs, updated_at = excluded.updated_at"
            ))
            .bind(o.id.to_string())
            .bind(o.engine_id)
            .bind(o.user_id.to_string())
            .bind(&o.market)
            .bind(&o.side)
            .bind(decimal_text(&o.price))
            .bind(o.hash_rate_hs)
            .bind(o.filled_hs)
            .bind(&o.status)
            .bind(&o.time_in_force)
            .bind(o.post_only)
            .bind(text(o.rig_id))
            .bind(&o.client_order_id)
            .bind(decimal_text(&o.hold_remaining))
            .bind(time_text(&o.created_at))
            .bind(time_text(&o.updated_at))
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    async fn insert_contracts(&mut self, contracts: &[ContractRow]) -> Result<(), StoreError> {
        for c in contracts {
            sqlx::query(&format!(
                "INSERT INTO contracts ({CONTRACT_COLUMNS}) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"
            ))
            .bind(c.id.to_string())
            .bind(&c.market)
            .bind(c.buyer_id.to_string())
            .bind(c.seller_id.to_string())
            .bind(c.rig_id.to_string())
            .bind(c.buy_order_id.to_string())
            .bind(c.sell_order_id.to_string())
            .bind(c.hash_rate_hs)
            .bind(decimal_text(&c.price))
            .bind(decimal_text(&c.cost))
            .bind(decimal_text(&c.buyer_fee))
            .bind(&c.asset)
            .bind(c.tenor_days)
            .bind(time_text(&c.starts_at))
            .bind(time_text(&c.ends_at))
            .bind(&c.status)
            .bind(decimal_text(&c.released_to_seller))
            .bind(decimal_text(&c.refunded_to_buyer))
            .bind(decimal_text(&c.mining_revenue))
            .bind(time_text(&c.created_at))
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    async fn find_idempotency_keys(
        &mut self,
        wanted: &[(String, String, String)],
    ) -> Result<Vec<(String, String, IdempotencyClaim)>, StoreError> {
        let mut found = Vec::new();
        for (principal, key, fingerprint) in wanted {
            let row = sqlx::query(
                "SELECT fingerprint, state, response_status, response_body FROM idempotency_keys \
                 WHERE principal = ?1 AND key = ?2",
            )
            .bind(principal)
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await?;
            if let Some(row) = row {
                found.push((
                    principal.clone(),
                    key.clone(),
                    classify_row(fingerprint, &row)?,
                ));
            }
        }
        Ok(found)
    }

    async fn insert_idempotency_records(
        &mut self,
        records: &[IdempotencyRecord],
    ) -> Result<(), StoreError> {
        for r in records {
            sqlx::query(
                "INSERT INTO idempotency_keys (principal, key, fingerprint, state, response_status, response_body, \
                 created_at, locked_until) VALUES (?1, ?2, ?3, 'complete', ?4, ?5, ?6, ?6)",
            )
            .bind(&r.principal)
            .bind(&r.key)
            .bind(&r.fingerprint)
            .bind(i32::from(r.status))
            .bind(&r.body)
            .bind(time_text(&r.created_at))
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    async fn complete_idempotency(
        &mut self,
        completions: &[IdempotencyCompletion],
    ) -> Result<(), StoreError> {
        for c in completions {
            sqlx::query(
                "UPDATE idempotency_keys SET state = 'complete', response_status = ?3, response_body = ?4 \
                 WHERE principal = ?1 AND key = ?2",
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
        // The single writer connection already excludes other writers.
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(10_000) {
            let list = (1..=chunk.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!("SELECT id, accrued_until FROM contracts WHERE id IN ({list})");
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id.to_string());
            }
            for r in query.fetch_all(&mut *self.tx).await? {
                out.push((uuid(&r, "id")?, opt_time(&r, "accrued_until")?));
            }
        }
        Ok(out)
    }

    async fn insert_accruals(
        &mut self,
        rows: &[crate::payouts::AccrualRow],
    ) -> Result<(), StoreError> {
        for a in rows {
            sqlx::query(
                "INSERT INTO accruals (contract_id, period_start, period_end, delivered_hs, \
                 released, seller_fee, revenue, maintenance, refunded, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .bind(a.contract_id.to_string())
            .bind(time_text(&a.period_start))
            .bind(time_text(&a.period_end))
            .bind(a.delivered_hs)
            .bind(decimal_text(&a.released))
            .bind(decimal_text(&a.seller_fee))
            .bind(decimal_text(&a.revenue))
            .bind(decimal_text(&a.maintenance))
            .bind(decimal_text(&a.refunded))
            .bind(time_text(&a.created_at))
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    async fn update_contract_progress(
        &mut self,
        rows: &[crate::payouts::ContractProgress],
    ) -> Result<(), StoreError> {
        for c in rows {
            sqlx::query(
                "UPDATE contracts SET released_to_seller = ?2, refunded_to_buyer = ?3, \
                 mining_revenue = ?4, accrued_until = ?5, status = ?6 WHERE id = ?1",
            )
            .bind(c.id.to_string())
            .bind(decimal_text(&c.released_to_seller))
            .bind(decimal_text(&c.refunded_to_buyer))
            .bind(decimal_text(&c.mining_revenue))
            .bind(time_text(&c.accrued_until))
            .bind(&c.status)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    async fn insert_user_emails(&mut self, emails: &[UserEmail]) -> Result<(), StoreError> {
        for e in emails {
            sqlx::query(
                "INSERT INTO outbox_emails (id, recipient, subject, body_text, body_html, status, \
                 attempts, next_attempt_at, created_at) \
                 SELECT ?1, email, ?2, ?3, ?4, 'pending', 0, ?5, ?5 FROM users WHERE id = ?6",
            )
            .bind(e.id.to_string())
            .bind(&e.subject)
            .bind(&e.body_text)
            .bind(&e.body_html)
            .bind(time_text(&e.created_at))
            .bind(e.user_id.to_string())
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
