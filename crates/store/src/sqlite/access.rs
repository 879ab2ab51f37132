use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use super::codec::{opt_time, opt_uuid, time, time_text, uuid};
use super::SqliteStore;
use crate::access::{
    AccessStore, AccessWrite, ApiKeyRow, AuditEventRow, OutboxEmail, OutboxStatus, RefreshOutcome,
    RefreshTokenRow, SessionRow, TotpRow,
};
use crate::identity::UserRow;
use crate::StoreError;

const USER_COLUMNS: &str =
    "u.id, u.email, u.password_hash, u.role, u.email_verified_at, u.created_at";
const KEY_COLUMNS: &str = "k.id AS key_id, k.user_id AS key_user_id, k.label, k.key, \
     k.sealed_secret, k.scopes, k.created_at AS key_created_at, k.expires_at, k.revoked_at, \
     k.last_used_at, k.replaced_by";
const EMAIL_COLUMNS: &str = "id, recipient, subject, body_text, body_html, attempts, created_at";

fn user_from(row: &SqliteRow) -> Result<UserRow, StoreError> {
    Ok(UserRow {
        id: uuid(row, "id")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        role: row.try_get("role")?,
        email_verified_at: opt_time(row, "email_verified_at")?,
        created_at: time(row, "created_at")?,
    })
}

fn key_from(row: &SqliteRow) -> Result<ApiKeyRow, StoreError> {
    Ok(ApiKeyRow {
        id: uuid(row, "key_id")?,
        user_id: uuid(row, "key_user_id")?,
        label: row.try_get("label")?,
        key: row.try_get("key")?,
        sealed_secret: row.try_get("sealed_secret")?,
        scopes: row.try_get("scopes")?,
        created_at: time(row, "key_created_at")?,
        expires_at: opt_time(row, "expires_at")?,
        revoked_at: opt_time(row, "revoked_at")?,
        last_used_at: opt_time(row, "last_used_at")?,
        replaced_by: opt_uuid(row, "replaced_by")?,
    })
}

fn email_from(row: &SqliteRow) -> Result<OutboxEmail, StoreError> {
    Ok(OutboxEmail {
        id: uuid(row, "id")?,
        recipient: row.try_get("recipient")?,
        subject: row.try_get("subject")?,
        body_text: row.try_get("body_text")?,
        body_html: row.try_get("body_html")?,
        attempts: row.try_get("attempts")?,
        created_at: time(row, "created_at")?,
    })
}

fn audit_from(row: &SqliteRow) -> Result<AuditEventRow, StoreError> {
    Ok(AuditEventRow {
        id: uuid(row, "id")?,
        user_id: opt_uuid(row, "user_id")?,
        kind: row.try_get("kind")?,
        ip: row.try_get("ip")?,
        detail: row.try_get("detail")?,
        created_at: time(row, "created_at")?,
    })
}

fn opt_text(t: Option<DateTime<Utc>>) -> Option<String> {
    t.as_ref().map(time_text)
}

/// A unique clash is a [`StoreError::Conflict`]; anything else stays a database error.
fn conflict_or(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_string())
        }
        _ => StoreError::Database(err),
    }
}

/// Executes one insert inside the caller's transaction.
async fn write_one(conn: &mut SqliteConnection, write: &AccessWrite) -> Result<(), StoreError> {
    let query = match write {
        AccessWrite::User(u) => sqlx::query(
            "INSERT INTO users (id, email, password_hash, role, email_verified_at, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(u.id.to_string())
        .bind(&u.email)
        .bind(&u.password_hash)
        .bind(&u.role)
        .bind(opt_text(u.email_verified_at))
        .bind(time_text(&u.created_at)),
        AccessWrite::Session(s) => sqlx::query(
            "INSERT INTO sessions (id, user_id, created_at, revoked_at) VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(s.id.to_string())
        .bind(s.user_id.to_string())
        .bind(time_text(&s.created_at))
        .bind(opt_text(s.revoked_at)),
        AccessWrite::RefreshToken(t) => sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(&t.token_hash)
        .bind(t.session_id.to_string())
        .bind(time_text(&t.created_at))
        .bind(time_text(&t.expires_at)),
        AccessWrite::EmailToken(t) => sqlx::query(
            "INSERT INTO email_tokens (token_hash, user_id, purpose, expires_at) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(&t.token_hash)
        .bind(t.user_id.to_string())
        .bind(&t.purpose)
        .bind(time_text(&t.expires_at)),
        AccessWrite::ApiKey(k) => sqlx::query(
            "INSERT INTO api_keys (id, user_id, label, key, sealed_secret, scopes, created_at, \
             expires_at, revoked_at, last_used_at, replaced_by) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .bind(k.id.to_string())
        .bind(k.user_id.to_string())
        .bind(&k.label)
        .bind(&k.key)
        .bind(&k.sealed_secret)
        .bind(&k.scopes)
        .bind(time_text(&k.created_at))
        .bind(opt_text(k.expires_at))
        .bind(opt_text(k.revoked_at))
        .bind(opt_text(k.last_used_at))
        .bind(k.replaced_by.map(|id| id.to_string())),
        AccessWrite::Totp(t) => sqlx::query(
            "INSERT INTO totp_secrets (user_id, sealed_secret, created_at, confirmed_at, last_step) \
             VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (user_id) DO UPDATE SET sealed_secret = excluded.sealed_secret, \
             created_at = excluded.created_at, last_step = 0 \
             WHERE totp_secrets.confirmed_at IS NULL",
        )
        .bind(t.user_id.to_string())
        .bind(&t.sealed_secret)
        .bind(time_text(&t.created_at))
        .bind(opt_text(t.confirmed_at))
        .bind(t.last_step),
        AccessWrite::Audit(a) => sqlx::query(
            "INSERT INTO audit_events (id, user_id, kind, ip, detail, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(a.id.to_string())
        .bind(a.user_id.map(|id| id.to_string()))
        .bind(&a.kind)
        .bind(&a.ip)
        .bind(&a.detail)
        .bind(time_text(&a.created_at)),
        AccessWrite::Email(e) => sqlx::query(
            "INSERT INTO outbox_emails (id, recipient, subject, body_text, body_html, status, \
             attempts, next_attempt_at, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?7)",
        )
        .bind(e.id.to_string())
        .bind(&e.recipient)
        .bind(&e.subject)
        .bind(&e.body_text)
        .bind(&e.body_html)
        .bind(e.attempts)
        .bind(time_text(&e.created_at)),
    };
    let done = query.execute(&mut *conn).await.map_err(conflict_or)?;
    if let AccessWrite::Totp(_) = write {
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict("TOTP is already confirmed".into()));
        }
    }
    Ok(())
}

async fn write_all(conn: &mut SqliteConnection, writes: &[AccessWrite]) -> Result<(), StoreError> {
    for write in writes {
        write_one(conn, write).await?;
    }
    Ok(())
}

#[async_trait]
impl AccessStore for SqliteStore {
    async fn write_access(&self, writes: &[AccessWrite]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        write_all(&mut tx, writes).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn user_session(
        &self,
        user_id: Uuid,
        session_id: Uuid,
    ) -> Result<Option<(UserRow, SessionRow)>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, s.id AS session_id, s.created_at AS session_created_at, \
             s.revoked_at FROM users u JOIN sessions s ON s.user_id = u.id \
             WHERE u.id = ?1 AND s.id = ?2"
        ))
        .bind(user_id.to_string())
        .bind(session_id.to_string())
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let session = SessionRow {
            id: uuid(&row, "session_id")?,
            user_id,
            created_at: time(&row, "session_created_at")?,
            revoked_at: opt_time(&row, "revoked_at")?,
        };
        Ok(Some((user_from(&row)?, session)))
    }

    async fn use_refresh_token(
        &self,
        token_hash: &str,
        next: &RefreshTokenRow,
        reuse_audit: &AuditEventRow,
        now: DateTime<Utc>,
    ) -> Result<RefreshOutcome, StoreError> {
        // The single writer connection serialises this read-then-write.
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT t.session_id, t.expires_at, t.used_at, s.user_id, s.revoked_at \
             FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id \
             WHERE t.token_hash = ?1",
        )
        .bind(token_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(RefreshOutcome::Invalid);
        };
        let session_id = uuid(&row, "session_id")?;
        let user_id = uuid(&row, "user_id")?;
        let expires_at = time(&row, "expires_at")?;
        let used_at = opt_time(&row, "used_at")?;
        let revoked_at = opt_time(&row, "revoked_at")?;
        if revoked_at.is_some() || expires_at <= now {
            return Ok(RefreshOutcome::Invalid);
        }
        if used_at.is_some() {
            sqlx::query("UPDATE sessions SET revoked_at = ?2 WHERE id = ?1")
                .bind(session_id.to_string())
                .bind(time_text(&now))
                .execute(&mut *tx)
                .await?;
            let audit = AuditEventRow {
                user_id: Some(user_id),
                ..reuse_audit.clone()
            };
            write_one(&mut tx, &AccessWrite::Audit(audit)).await?;
            tx.commit().await?;
            return Ok(RefreshOutcome::Reused {
                user_id,
                session_id,
            });
        }
        sqlx::query("UPDATE refresh_tokens SET used_at = ?2 WHERE token_hash = ?1")
            .bind(token_hash)
            .bind(time_text(&now))
            .execute(&mut *tx)
            .await?;
        let next = RefreshTokenRow {
            session_id,
            ..next.clone()
        };
        write_one(&mut tx, &AccessWrite::RefreshToken(next)).await?;
        tx.commit().await?;
        Ok(RefreshOutcome::Rotated {
            user_id,
            session_id,
        })
    }

    async fn revoke_session(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        audit: &AuditEventRow,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = ?3 WHERE id = ?1 AND user_id = ?2 \
             AND revoked_at IS NULL",
        )
        .bind(session_id.to_string())
        .bind(user_id.to_string())
        .bind(time_text(&now))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        write_one(&mut tx, &AccessWrite::Audit(audit.clone())).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn use_email_token(
        &self,
        token_hash: &str,
        audit_kind: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Uuid>, StoreError> {
        let mut tx = self.begin_write().await?;
        let user_id: Option<String> = sqlx::query_scalar(
            "UPDATE email_tokens SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL \
             AND expires_at > ?2 RETURNING user_id",
        )
        .bind(token_hash)
        .bind(time_text(&now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(user_id) = user_id else {
            return Ok(None);
        };
        let user_id = Uuid::parse_str(&user_id).map_err(|e| StoreError::Corrupt {
            column: "email_tokens.user_id",
            detail: e.to_string(),
        })?;
        sqlx::query(
            "UPDATE users SET email_verified_at = ?2 WHERE id = ?1 AND email_verified_at IS NULL",
        )
        .bind(user_id.to_string())
        .bind(time_text(&now))
        .execute(&mut *tx)
        .await?;
        let audit = AuditEventRow {
            id: Uuid::now_v7(),
            user_id: Some(user_id),
            kind: audit_kind.to_string(),
            ip: None,
            detail: "{}".into(),
            created_at: now,
        };
        write_one(&mut tx, &AccessWrite::Audit(audit)).await?;
        tx.commit().await?;
        Ok(Some(user_id))
    }

    async fn api_key_by_key(&self, key: &str) -> Result<Option<(ApiKeyRow, UserRow)>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS}, {USER_COLUMNS} FROM api_keys k JOIN users u ON u.id = k.user_id \
             WHERE k.key = ?1"
        ))
        .bind(key)
        .fetch_optional(self.reader())
        .await?;
        Ok(match row {
            Some(row) => Some((key_from(&row)?, user_from(&row)?)),
            None => None,
        })
    }

    async fn api_key(&self, user_id: Uuid, id: Uuid) -> Result<Option<ApiKeyRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.id = ?1 AND k.user_id = ?2"
        ))
        .bind(id.to_string())
        .bind(user_id.to_string())
        .fetch_optional(self.reader())
        .await?;
        row.as_ref().map(key_from).transpose()
    }

    async fn api_keys(&self, user_id: Uuid) -> Result<Vec<ApiKeyRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.user_id = ?1 ORDER BY k.created_at, k.id"
        ))
        .bind(user_id.to_string())
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(key_from).collect()
    }

    async fn rotate_api_key(
        &self,
        user_id: Uuid,
        old_id: Uuid,
        new_id: Uuid,
        old_expires_at: DateTime<Utc>,
        writes: &[AccessWrite],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE api_keys SET replaced_by = ?3, \
             expires_at = MIN(COALESCE(expires_at, ?4), ?4) \
             WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL AND replaced_by IS NULL \
             AND (expires_at IS NULL OR expires_at > ?5)",
        )
        .bind(old_id.to_string())
        .bind(user_id.to_string())
        .bind(new_id.to_string())
        .bind(time_text(&old_expires_at))
        .bind(time_text(&now))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        write_all(&mut tx, writes).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn revoke_api_key(
        &self,
        user_id: Uuid,
        id: Uuid,
        audit: &AuditEventRow,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = ?3 WHERE id = ?1 AND user_id = ?2 \
             AND revoked_at IS NULL",
        )
        .bind(id.to_string())
        .bind(user_id.to_string())
        .bind(time_text(&now))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        write_one(&mut tx, &AccessWrite::Audit(audit.clone())).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn claim_nonce(
        &self,
        key_id: Uuid,
        nonce: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "INSERT INTO api_nonces (key_id, nonce, expires_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (key_id, nonce) DO UPDATE SET expires_at = excluded.expires_at \
             WHERE api_nonces.expires_at <= ?4",
        )
        .bind(key_id.to_string())
        .bind(nonce)
        .bind(time_text(&expires_at))
        .bind(time_text(&now))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1 \
             AND (last_used_at IS NULL OR last_used_at < ?3)",
        )
        .bind(key_id.to_string())
        .bind(time_text(&now))
        .bind(time_text(&(now - Duration::seconds(60))))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn purge_nonces(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM api_nonces WHERE expires_at <= ?1")
            .bind(time_text(&now))
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected())
    }

    async fn totp(&self, user_id: Uuid) -> Result<Option<TotpRow>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, sealed_secret, created_at, confirmed_at, last_step \
             FROM totp_secrets WHERE user_id = ?1",
        )
        .bind(user_id.to_string())
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(TotpRow {
            user_id: uuid(&row, "user_id")?,
            sealed_secret: row.try_get("sealed_secret")?,
            created_at: time(&row, "created_at")?,
            confirmed_at: opt_time(&row, "confirmed_at")?,
            last_step: row.try_get("last_step")?,
        }))
    }

    async fn accept_totp_step(
        &self,
        user_id: Uuid,
        step: i64,
        audit: Option<&AuditEventRow>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE totp_secrets SET last_step = ?2, confirmed_at = COALESCE(confirmed_at, ?3) \
             WHERE user_id = ?1 AND last_step < ?2",
        )
        .bind(user_id.to_string())
        .bind(step)
        .bind(time_text(&now))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(audit) = audit {
            write_one(&mut tx, &AccessWrite::Audit(audit.clone())).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn audit_events(
        &self,
        user_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<AuditEventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, user_id, kind, ip, detail, created_at FROM audit_events \
             WHERE user_id = ?1 AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3",
        )
        .bind(user_id.to_string())
        .bind(before.map(|id| id.to_string()))
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(audit_from).collect()
    }

    async fn claim_due_emails(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxEmail>, StoreError> {
        let rows = sqlx::query(&format!(
            "UPDATE outbox_emails SET next_attempt_at = ?2 WHERE id IN ( \
               SELECT id FROM outbox_emails WHERE status = 'pending' AND next_attempt_at <= ?1 \
               ORDER BY next_attempt_at LIMIT ?3) \
             RETURNING {EMAIL_COLUMNS}"
        ))
        .bind(time_text(&now))
        .bind(time_text(&lease_until))
        .bind(i64::from(limit))
        .fetch_all(self.writer())
        .await?;
        rows.iter().map(email_from).collect()
    }

    async fn record_email_attempt(
        &self,
        id: Uuid,
        error: Option<&str>,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let status = match (error, retry_at) {
            (None, _) => "sent",
            (Some(_), Some(_)) => "pending",
            (Some(_), None) => "failed",
        };
        sqlx::query(
            "UPDATE outbox_emails SET status = ?2, attempts = attempts + 1, last_error = ?3, \
             next_attempt_at = COALESCE(?4, next_attempt_at), \
             sent_at = CASE WHEN ?2 = 'sent' THEN ?5 ELSE sent_at END WHERE id = ?1",
        )
        .bind(id.to_string())
        .bind(status)
        .bind(error)
        .bind(opt_text(retry_at))
        .bind(time_text(&now))
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn email_status(&self, id: Uuid) -> Result<Option<OutboxStatus>, StoreError> {
        let row =
            sqlx::query("SELECT status, attempts, last_error FROM outbox_emails WHERE id = ?1")
                .bind(id.to_string())
                .fetch_optional(self.reader())
                .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(OutboxStatus {
            status: row.try_get("status")?,
            attempts: row.try_get("attempts")?,
            last_error: row.try_get("last_error")?,
        }))
    }
}
