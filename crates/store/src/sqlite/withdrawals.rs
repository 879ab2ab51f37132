//! SQLite: withdrawal settings and withdrawals. The unit of work's withdrawal
//! methods (crates/store/src/sqlite/market/mod.rs) call the `pub(super)` functions
//! here on their transaction; the single writer connection makes "lock" a read.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use super::codec::{decimal, decimal_text, opt_time, time, time_text, uuid};
use super::SqliteStore;
use crate::withdrawals::{
    AutoPayoutCandidate, WithdrawalQuery, WithdrawalRow, WithdrawalSettingsRow, WithdrawalStore,
};
use crate::StoreError;

const WITHDRAWAL_COLUMNS: &str = "id, user_id, asset, amount, fee, address, status, \
    confirm_token_hash, created_at, confirmed_at, completed_at, updated_at, txid, reject_reason, auto";

fn settings_from_row(r: &SqliteRow) -> Result<WithdrawalSettingsRow, StoreError> {
    Ok(WithdrawalSettingsRow {
        user_id: uuid(r, "user_id")?,
        asset: r.try_get("asset")?,
        address: r.try_get("address")?,
        threshold: decimal(r, "threshold")?,
        auto_payout: r.try_get("auto_payout")?,
        updated_at: time(r, "updated_at")?,
    })
}

fn withdrawal_from_row(r: &SqliteRow) -> Result<WithdrawalRow, StoreError> {
    Ok(WithdrawalRow {
        id: uuid(r, "id")?,
        user_id: uuid(r, "user_id")?,
        asset: r.try_get("asset")?,
        amount: decimal(r, "amount")?,
        fee: decimal(r, "fee")?,
        address: r.try_get("address")?,
        status: r.try_get("status")?,
        confirm_token_hash: r.try_get("confirm_token_hash")?,
        created_at: time(r, "created_at")?,
        confirmed_at: opt_time(r, "confirmed_at")?,
        completed_at: opt_time(r, "completed_at")?,
        updated_at: time(r, "updated_at")?,
        txid: r.try_get("txid")?,
        reject_reason: r.try_get("reject_reason")?,
        auto: r.try_get("auto")?,
    })
}

fn opt_time_text(t: &Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.as_ref().map(time_text)
}

/// Inserts a new withdrawal in the unit of work's transaction.
pub(super) async fn insert(
    conn: &mut SqliteConnection,
    w: &WithdrawalRow,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO withdrawals ({WITHDRAWAL_COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
    ))
    .bind(w.id.to_string())
    .bind(w.user_id.to_string())
    .bind(&w.asset)
    .bind(decimal_text(&w.amount))
    .bind(decimal_text(&w.fee))
    .bind(&w.address)
    .bind(&w.status)
    .bind(&w.confirm_token_hash)
    .bind(time_text(&w.created_at))
    .bind(opt_time_text(&w.confirmed_at))
    .bind(opt_time_text(&w.completed_at))
    .bind(time_text(&w.updated_at))
    .bind(&w.txid)
    .bind(&w.reject_reason)
    .bind(w.auto)
    .execute(conn)
    .await?;
    Ok(())
}

/// Reads a withdrawal inside the unit of work (the writer is alone: a lock).
pub(super) async fn lock(
    conn: &mut SqliteConnection,
    id: Uuid,
) -> Result<Option<WithdrawalRow>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {WITHDRAWAL_COLUMNS} FROM withdrawals WHERE id = ?1"
    ))
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(withdrawal_from_row).transpose()
}

/// Writes a withdrawal's mutable fields (status, times, token, txid, reason).
pub(super) async fn update(
    conn: &mut SqliteConnection,
    w: &WithdrawalRow,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE withdrawals SET status = ?2, confirm_token_hash = ?3, confirmed_at = ?4, \
         completed_at = ?5, updated_at = ?6, txid = ?7, reject_reason = ?8 WHERE id = ?1",
    )
    .bind(w.id.to_string())
    .bind(&w.status)
    .bind(&w.confirm_token_hash)
    .bind(opt_time_text(&w.confirmed_at))
    .bind(opt_time_text(&w.completed_at))
    .bind(time_text(&w.updated_at))
    .bind(&w.txid)
    .bind(&w.reject_reason)
    .execute(conn)
    .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Conflict(format!(
            "withdrawal {} vanished",
            w.id
        )));
    }
    Ok(())
}

#[async_trait]
impl WithdrawalStore for SqliteStore {
    async fn withdrawal_settings(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<WithdrawalSettingsRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT user_id, asset, address, threshold, auto_payout, updated_at \
             FROM withdrawal_settings WHERE user_id = ?1 ORDER BY asset",
        )
        .bind(user_id.to_string())
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(settings_from_row).collect()
    }

    async fn put_withdrawal_settings(&self, row: &WithdrawalSettingsRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO withdrawal_settings (user_id, asset, address, threshold, auto_payout, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (user_id, asset) DO UPDATE SET \
             address = excluded.address, threshold = excluded.threshold, \
             auto_payout = excluded.auto_payout, updated_at = excluded.updated_at",
        )
        .bind(row.user_id.to_string())
        .bind(&row.asset)
        .bind(&row.address)
        .bind(decimal_text(&row.threshold))
        .bind(row.auto_payout)
        .bind(time_text(&row.updated_at))
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn withdrawal(&self, id: Uuid) -> Result<Option<WithdrawalRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {WITHDRAWAL_COLUMNS} FROM withdrawals WHERE id = ?1"
        ))
        .bind(id.to_string())
        .fetch_optional(self.reader())
        .await?;
        row.as_ref().map(withdrawal_from_row).transpose()
    }

    async fn withdrawals(&self, query: &WithdrawalQuery) -> Result<Vec<WithdrawalRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {WITHDRAWAL_COLUMNS} FROM withdrawals WHERE (?1 IS NULL OR user_id = ?1) \
             AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR id < ?3) \
             ORDER BY id DESC LIMIT ?4"
        ))
        .bind(query.user_id.map(|u| u.to_string()))
        .bind(&query.status)
        .bind(query.before.map(|u| u.to_string()))
        .bind(i64::from(query.limit))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(withdrawal_from_row).collect()
    }

    async fn auto_payout_candidates(
        &self,
        after: Option<(Uuid, String)>,
        limit: u32,
    ) -> Result<Vec<AutoPayoutCandidate>, StoreError> {
        let (after_user, after_asset) = after.unzip();
        let rows = sqlx::query(
            "SELECT s.user_id, s.asset, s.address, s.threshold, s.auto_payout, s.updated_at, \
             COALESCE(a.balance, '0') AS available FROM withdrawal_settings s \
             LEFT JOIN accounts a ON a.owner_id = s.user_id AND a.asset = s.asset \
             AND a.purpose = 'available' \
             WHERE s.auto_payout = 1 AND (?1 IS NULL OR (s.user_id, s.asset) > (?1, ?2)) \
             ORDER BY s.user_id, s.asset LIMIT ?3",
        )
        .bind(after_user.map(|u| u.to_string()))
        .bind(after_asset)
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AutoPayoutCandidate {
                    settings: settings_from_row(r)?,
                    available: decimal(r, "available")?,
                })
            })
            .collect()
    }
}
