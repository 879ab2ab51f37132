//! SQLite: idempotency keys — claiming, releasing and purging them, and a unit
//! of work's lookups, records and completions.

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use crate::market::{IdempotencyClaim, IdempotencyCompletion, IdempotencyRecord};
use crate::sqlite::codec::time_text;
use crate::sqlite::SqliteStore;
use crate::StoreError;

fn classify_row(fingerprint: &str, row: &SqliteRow) -> Result<IdempotencyClaim, StoreError> {
    crate::idempotency::classify(
        fingerprint,
        row.try_get("fingerprint")?,
        row.try_get("state")?,
        row.try_get::<Option<i32>, _>("response_status")?,
        row.try_get("response_body")?,
    )
}

pub(super) async fn claim_idempotency_key(
    store: &SqliteStore,
    principal: &str,
    key: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
    lock_until: DateTime<Utc>,
) -> Result<IdempotencyClaim, StoreError> {
    let mut tx = store.begin_write().await?;
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

pub(super) async fn release_idempotency_key(
    store: &SqliteStore,
    principal: &str,
    key: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE principal = ?1 AND key = ?2 AND state = 'in_flight'",
    )
    .bind(principal)
    .bind(key)
    .execute(store.writer())
    .await?;
    Ok(())
}

pub(super) async fn purge_idempotency_keys(
    store: &SqliteStore,
    before: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let done =
        sqlx::query("DELETE FROM idempotency_keys WHERE state = 'complete' AND created_at < ?1")
            .bind(time_text(&before))
            .execute(store.writer())
            .await?;
    Ok(done.rows_affected())
}

pub(super) async fn find_idempotency_keys(
    tx: &mut SqliteConnection,
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
        .fetch_optional(&mut *tx)
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

pub(super) async fn insert_idempotency_records(
    tx: &mut SqliteConnection,
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
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

pub(super) async fn complete_idempotency(
    tx: &mut SqliteConnection,
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
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}
