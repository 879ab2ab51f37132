//! PostgreSQL: idempotency keys — claiming, releasing and purging them, and a unit
//! of work's lookups, records and completions.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::market::{IdempotencyClaim, IdempotencyCompletion, IdempotencyRecord};
use crate::postgres::PgStore;
use crate::StoreError;

fn classify_row(fingerprint: &str, row: &PgRow) -> Result<IdempotencyClaim, StoreError> {
    crate::idempotency::classify(
        fingerprint,
        row.try_get("fingerprint")?,
        row.try_get("state")?,
        row.try_get::<Option<i32>, _>("response_status")?,
        row.try_get("response_body")?,
    )
}

pub(super) async fn claim_idempotency_key(
    store: &PgStore,
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
    .execute(store.pool())
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
    .fetch_one(store.pool())
    .await?;
    crate::idempotency::classify(
        fingerprint,
        row.try_get("fingerprint")?,
        row.try_get("state")?,
        row.try_get::<Option<i32>, _>("response_status")?,
        row.try_get("response_body")?,
    )
}

pub(super) async fn release_idempotency_key(
    store: &PgStore,
    principal: &str,
    key: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND state = 'in_flight'",
    )
    .bind(principal)
    .bind(key)
    .execute(store.pool())
    .await?;
    Ok(())
}

pub(super) async fn purge_idempotency_keys(
    store: &PgStore,
    before: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let done =
        sqlx::query("DELETE FROM idempotency_keys WHERE state = 'complete' AND created_at < $1")
            .bind(before)
            .execute(store.pool())
            .await?;
    Ok(done.rows_affected())
}

pub(super) async fn find_idempotency_keys(
    tx: &mut PgConnection,
    wanted: &[(String, String, String)],
) -> Result<Vec<(String, String, IdempotencyClaim)>, StoreError> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let principals: Vec<&str> = wanted.iter().map(|w| w.0.as_str()).collect();
    let keys: Vec<&str> = wanted.iter().map(|w| w.1.as_str()).collect();
    // One primary-key probe per wanted key, whatever the statistics say: as a
    // plain join, a cached plan made while the table was small (a fresh
    // database, or before autovacuum's next ANALYZE) hash-joined a sequential
    // scan of every stored key on every batch. `LIMIT 1` keeps the subquery
    // from being pulled up into such a join; (principal, key) is the key.
    let rows = sqlx::query(
        "SELECT i.principal, i.key, i.fingerprint, i.state, i.response_status, i.response_body \
         FROM UNNEST($1::text[], $2::text[]) AS w(principal, key) \
         CROSS JOIN LATERAL (SELECT * FROM idempotency_keys k \
           WHERE k.principal = w.principal AND k.key = w.key LIMIT 1) i",
    )
    .bind(&principals)
    .bind(&keys)
    .fetch_all(&mut *tx)
    .await?;
    let mut found = Vec::with_capacity(rows.len());
    for row in &rows {
        let (principal, key): (String, String) = (row.try_get("principal")?, row.try_get("key")?);
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

pub(super) async fn insert_idempotency_records(
    tx: &mut PgConnection,
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
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub(super) async fn complete_idempotency(
    tx: &mut PgConnection,
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
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}
