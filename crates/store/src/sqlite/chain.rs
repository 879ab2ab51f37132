use async_trait::async_trait;
use sqlx::Row;

use super::codec::{decimal, time, uuid};
use super::SqliteStore;
use crate::chain::{ChainStore, ChainedEntry};
use crate::market::{AccountRef, EntryRecord};
use crate::StoreError;

#[async_trait]
impl ChainStore for SqliteStore {
    async fn chained_entries(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<ChainedEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, transfer_id, owner_id, asset, purpose, debit, credit, balance_after, \
             created_at, chain_hash FROM ledger_entries WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ChainedEntry {
                    seq: r.try_get("seq")?,
                    entry: EntryRecord {
                        transfer_id: uuid(r, "transfer_id")?,
                        account: AccountRef {
                            owner_id: uuid(r, "owner_id")?,
                            asset: r.try_get("asset")?,
                            purpose: r.try_get("purpose")?,
                        },
                        debit: decimal(r, "debit")?,
                        credit: decimal(r, "credit")?,
                        balance_after: decimal(r, "balance_after")?,
                        created_at: time(r, "created_at")?,
                    },
                    chain_hash: r.try_get("chain_hash")?,
                })
            })
            .collect()
    }

    async fn chain_head(&self) -> Result<(String, i64), StoreError> {
        let row = sqlx::query("SELECT last_hash, entries FROM ledger_chain WHERE id = 1")
            .fetch_one(self.reader())
            .await?;
        Ok((row.try_get("last_hash")?, row.try_get("entries")?))
    }
}
