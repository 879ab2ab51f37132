//! PostgreSQL: withdrawal settings and withdrawals. The unit of work's withdrawal
//! methods (crates/store/src/postgres/market/mod.rs) call the `pub(super)` functions
//! here on their transaction.

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::PgStore;
use crate::withdrawals::{
    AutoPayoutCandidate, WithdrawalQuery, WithdrawalRow, WithdrawalSettingsRow, WithdrawalStore,
};
use crate::StoreError;

const WITHDRAWAL_COLUMNS: &str = "id, user_id, asset, amount, fee, address, status, \
    confirm_token_hash, created_at, confirmed_at, completed_at, updated_at, txid, reject_reason, auto";

fn settings_from_row(r: &PgRow) -> Result<WithdrawalSettingsRow, StoreError> {
    Ok(WithdrawalSettingsRow {
        user_id: r.try_get("user_id")?,
        asset: r.try_get("asset")?,
        address: r.try_get("address")?,
        threshold: r.try_get("threshold")?,
        auto_payout: r.try_get("auto_payout")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn withdrawal_from_row(r: &PgRow) -> Result<WithdrawalRow, StoreError> {
    Ok(WithdrawalRow {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        asset: r.try_get("asset")?,
        amount: r.try_get("amount")?,
        fee: r.try_get("fee")?,
        address: r.try_get("address")?,
        status: r.try_get("status")?,
        confirm_token_hash: r.try_get("confirm_token_hash")?,
        created_at: r.try_get("created_at")?,
        confirmed_at: r.try_get("confirmed_at")?,
        completed_at: r.try_get("completed_at")?,
        updated_at: r.try_get("updated_at")?,
        txid: r.try_get("txid")?,
        reject_reason: r.try_get("reject_reason")?,
        auto: r.try_get("auto")?,
    })
}

/// Inserts a new withdrawal in the unit of work's transaction.
pub(super) async fn insert(conn: &mut PgConnection, w: &WithdrawalRow) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO withdrawals ({WITHDRAWAL_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    ))
    .bind(w.id)
    .bind(w.user_id)
    .bind(&w.asset)
    .bind(w.amount)
    .bind(w.fee)
    .bind(&w.address)
    .bind(&w.status)
    .bind(&w.confirm_token_hash)
    .bind(w.created_at)
    .bind(w.confirmed_at)
    .bind(w.completed_at)
    .bind(w.updated_at)
    .bind(&w.txid)
    .bind(&w.reject_reason)
    .bind(w.auto)
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks a withdrawal's row (`FOR UPDATE`) and reads it.
pub(super) async fn lock(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<WithdrawalRow>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {WITHDRAWAL_COLUMNS} FROM withdrawals WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(withdrawal_from_row).transpose()
}

/// Writes a withdrawal's mutable fields (status, times, token, txid, reason).
pub(super) async fn update(conn: &mut PgConnection, w: &WithdrawalRow) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE withdrawals SET status = $2, confirm_token_hash = $3, confirmed_at = $4, \
         completed_at = $5, updated_at = $6, txid = $7, reject_reason = $8 WHERE id = $1",
    )
    .bind(w.id)
    .bind(&w.status)
    .bind(&w.confirm_token_hash)
    .bind(w.confirmed_at)
    .bind(w.completed_at)
    .bind(w.updated_at)
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
impl WithdrawalStore for PgStore {
    async fn withdrawal_settings(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<WithdrawalSettingsRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT user_id, asset, address, threshold, auto_payout, updated_at \
             FROM withdrawal_settings WHERE user_id = $1 ORDER BY asset",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(settings_from_row).collect()
    }

    async fn put_withdrawal_settings(&self, row: &WithdrawalSettingsRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO withdrawal_settings (user_id, asset, address, threshold, auto_payout, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, asset) DO UPDATE SET \
             address = EXCLUDED.address, threshold = EXCLUDED.threshold, \
             auto_payout = EXCLUDED.auto_payout, updated_at = EXCLUDED.updated_at",
        )
        .bind(row.user_id)
        .bind(&row.asset)
        .bind(&row.address)
        .bind(row.threshold)
        .bind(row.auto_payout)
        .bind(row.updated_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn withdrawal(&self, id: Uuid) -> Result<Option<WithdrawalRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {WITHDRAWAL_COLUMNS} FROM withdrawals WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(withdrawal_from_row).transpose()
    }

    async fn withdrawals(&self, query: &WithdrawalQuery) -> Result<Vec<WithdrawalRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {WITHDRAWAL_COLUMNS} FROM withdrawals WHERE ($1::uuid IS NULL OR user_id = $1) \
             AND ($2::text IS NULL OR status = $2) AND ($3::uuid IS NULL OR id < $3) \
             ORDER BY id DESC LIMIT $4"
        ))
        .bind(query.user_id)
        .bind(&query.status)
        .bind(query.before)
        .bind(i64::from(query.limit))
        .fetch_all(self.pool())
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
             COALESCE(a.balance, 0) AS available FROM withdrawal_settings s \
             LEFT JOIN accounts a ON a.owner_id = s.user_id AND a.asset = s.asset \
             AND a.purpose = 'available' \
             WHERE s.auto_payout AND ($1::uuid IS NULL OR (s.user_id, s.asset) > ($1, $2::text)) \
             ORDER BY s.user_id, s.asset LIMIT $3",
        )
        .bind(after_user)
        .bind(after_asset)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AutoPayoutCandidate {
                    settings: settings_from_row(r)?,
                    available: r.try_get("available")?,
                })
            })
            .collect()
    }
}
