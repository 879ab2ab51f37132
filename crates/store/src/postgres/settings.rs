use async_trait::async_trait;

use super::PgStore;
use crate::settings::{check_setting, SettingsStore};
use crate::StoreError;

#[async_trait]
impl SettingsStore for PgStore {
    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let value = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        Ok(value)
    }

    async fn put_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        check_setting(key, value)?;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()",
        )
        .bind(key)
        .bind(value)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn put_setting_if_absent(&self, key: &str, value: &str) -> Result<String, StoreError> {
        check_setting(key, value)?;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(self.pool())
        .await?;
        let stored = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_one(self.pool())
            .await?;
        Ok(stored)
    }
}
