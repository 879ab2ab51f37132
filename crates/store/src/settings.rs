//! Settings: a small key/value table for operator state (the simulated business clock,
//! generated secrets, feature switches). The first table of the conformance pattern.

use async_trait::async_trait;

use crate::StoreError;

/// The longest key a setting may have, in bytes (the schema checks it too).
pub const SETTING_KEY_MAX_BYTES: usize = 128;
/// The longest value a setting may have, in bytes (the schema checks it too).
pub const SETTING_VALUE_MAX_BYTES: usize = 65_536;

/// Reads and writes settings.
#[async_trait]
pub trait SettingsStore: Send + Sync {
    /// The value stored under `key`, if any.
    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Stores `value` under `key`, replacing any previous value.
    async fn put_setting(&self, key: &str, value: &str) -> Result<(), StoreError>;
    /// Stores `value` under `key` only if the key is absent; returns the value now stored
    /// (yours if you won, the earlier one if someone else did). Safe under races.
    async fn put_setting_if_absent(&self, key: &str, value: &str) -> Result<String, StoreError>;
}

/// Checks a setting's key and value against the table's limits before any SQL runs.
pub(crate) fn check_setting(key: &str, value: &str) -> Result<(), StoreError> {
    if key.is_empty() || key.len() > SETTING_KEY_MAX_BYTES {
        return Err(StoreError::Conflict(format!(
            "setting key must be 1..={SETTING_KEY_MAX_BYTES} bytes"
        )));
    }
    if value.len() > SETTING_VALUE_MAX_BYTES {
        return Err(StoreError::Conflict(format!(
            "setting value must be at most {SETTING_VALUE_MAX_BYTES} bytes"
        )));
    }
    Ok(())
}
