//! SQLite has no uuid, exact decimal or timestamp types: they are stored as text in
//! one canonical form each, written and read only through these functions.
//! Times are RFC 3339 UTC with microseconds and `Z`, fixed width, so text order is
//! time order.

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use std::str::FromStr;
use uuid::Uuid;

use crate::StoreError;

/// A time as stored.
pub fn time_text(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A decimal as stored: normalised (no trailing zeros), never exponent notation.
pub fn decimal_text(d: &Decimal) -> String {
    d.normalize().to_string()
}

fn corrupt(column: &'static str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        column,
        detail: detail.to_string(),
    }
}

/// Reads a uuid column.
pub fn uuid(row: &SqliteRow, column: &'static str) -> Result<Uuid, StoreError> {
    let text: String = row.try_get(column)?;
    Uuid::parse_str(&text).map_err(|e| corrupt(column, e))
}

/// Reads a nullable uuid column.
pub fn opt_uuid(row: &SqliteRow, column: &'static str) -> Result<Option<Uuid>, StoreError> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| Uuid::parse_str(&t).map_err(|e| corrupt(column, e)))
        .transpose()
}

/// Reads a decimal column.
pub fn decimal(row: &SqliteRow, column: &'static str) -> Result<Decimal, StoreError> {
    let text: String = row.try_get(column)?;
    Decimal::from_str(&text).map_err(|e| corrupt(column, e))
}

/// Reads a nullable decimal column.
pub fn opt_decimal(row: &SqliteRow, column: &'static str) -> Result<Option<Decimal>, StoreError> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| Decimal::from_str(&t).map_err(|e| corrupt(column, e)))
        .transpose()
}

/// Reads a time column.
pub fn time(row: &SqliteRow, column: &'static str) -> Result<DateTime<Utc>, StoreError> {
    let text: String = row.try_get(column)?;
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| corrupt(column, e))
}

/// Reads a nullable time column.
pub fn opt_time(
    row: &SqliteRow,
    column: &'static str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| {
        DateTime::parse_from_rfc3339(&t)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| corrupt(column, e))
    })
    .transpose()
}

/// An optional id as SQLite stores it (text).
pub(super) fn text(id: Option<Uuid>) -> Option<String> {
    id.map(|u| u.to_string())
}

/// Decodes every row with `f`.
pub(super) fn all<T>(
    rows: &[SqliteRow],
    f: fn(&SqliteRow) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows.iter().map(f).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_sort_as_text() {
        let a = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let b = a + chrono::Duration::microseconds(1);
        assert!(time_text(&a) < time_text(&b));
        assert_eq!(time_text(&a), "2026-01-01T00:00:00.000000Z");
    }

    #[test]
    fn decimals_are_canonical() {
        assert_eq!(
            decimal_text(&Decimal::from_str("0.00050000").unwrap()),
            "0.0005"
        );
        assert_eq!(decimal_text(&Decimal::from_str("-12.0").unwrap()), "-12");
        assert_eq!(decimal_text(&Decimal::ZERO), "0");
    }
}
