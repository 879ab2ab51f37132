use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use uuid::Uuid;

use super::codec::{time, time_text, uuid};
use super::SqliteStore;
use crate::identity::{IdentityStore, UserRow};
use crate::StoreError;

fn user_from_row(row: &SqliteRow) -> Result<UserRow, StoreError> {
    let verified: Option<String> = row.try_get("email_verified_at")?;
    Ok(UserRow {
        id: uuid(row, "id")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        role: row.try_get("role")?,
        email_verified_at: match verified {
            Some(_) => Some(time(row, "email_verified_at")?),
            None => None,
        },
        created_at: time(row, "created_at")?,
    })
}

const COLUMNS: &str = "id, email, password_hash, role, email_verified_at, created_at";

#[async_trait]
impl IdentityStore for SqliteStore {
    async fn insert_user(&self, user: &UserRow) -> Result<bool, StoreError> {
        let done = sqlx::query(&format!(
            "INSERT INTO users ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (email) DO NOTHING"
        ))
        .bind(user.id.to_string())
        .bind(&user.email)
        .bind(&user.password_hash)
        .bind(&user.role)
        .bind(user.email_verified_at.as_ref().map(time_text))
        .bind(time_text(&user.created_at))
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn user(&self, id: Uuid) -> Result<Option<UserRow>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = ?1"))
            .bind(id.to_string())
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRow>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE email = ?1"))
            .bind(email)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }
}
