//! SQLite: many rows per statement.
//!
//! Each statement sqlx runs on SQLite is a round trip to its worker thread, and a
//! statement inside a bigger transaction may open a statement journal; a batch
//! of an accrual period writes hundreds of thousands of rows. So rows go in as
//! multi-row `VALUES` lists — `INSERT … VALUES (…), (…), …` or a `WITH v(…) AS
//! (VALUES …)` that an `UPDATE … FROM v` or a `SELECT … JOIN v` reads — in chunks
//! that stay under SQLite's limit on bound parameters. `VALUES` rows keep their
//! order, so an insert's rowids (the journal's `seq`) follow the slice's order.

use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Sqlite, SqliteConnection};

use crate::StoreError;

/// The most parameters one statement binds (SQLite's default limit is 32,766).
const MAX_PARAMS: usize = 30_000;

/// The most rows one statement carries, whatever their width.
const MAX_ROWS: usize = 1_000;

/// A query being bound.
pub(super) type SqliteQuery<'q> = Query<'q, Sqlite, SqliteArguments<'q>>;

/// `(?, ?, …), (…)`: `rows` tuples of `columns` placeholders, bound in order.
/// Anonymous, not `?NNN`: SQLite finds a numbered parameter's name by a linear
/// scan, and sqlx asks for every parameter's name — quadratic in the parameters
/// of a statement (a 1,000-row insert took 225 ms instead of 3).
fn values(rows: usize, columns: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 3);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..columns {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('?');
        }
        out.push(')');
    }
    out
}

/// Rows per statement for rows of `columns` values.
fn chunk_rows(columns: usize) -> usize {
    assert!(columns > 0 && columns <= MAX_PARAMS);
    (MAX_PARAMS / columns).min(MAX_ROWS)
}

/// Runs `sql(values)` — a statement with one `VALUES` list, which `sql` places —
/// for `rows` in chunks, binding each row's `columns` values with `bind`; returns
/// the rows the statements affected in all.
pub(super) async fn execute<T>(
    tx: &mut SqliteConnection,
    rows: &[T],
    columns: usize,
    sql: impl Fn(&str) -> String,
    bind: impl for<'q> Fn(SqliteQuery<'q>, &'q T) -> SqliteQuery<'q>,
) -> Result<u64, StoreError> {
    let mut affected = 0;
    for chunk in rows.chunks(chunk_rows(columns)) {
        let text = sql(&values(chunk.len(), columns));
        let query = bound(&text, chunk, &bind);
        affected += query.execute(&mut *tx).await?.rows_affected();
    }
    Ok(affected)
}

/// [`execute`] for a statement that returns rows: all of them, chunk after chunk.
pub(super) async fn fetch<T>(
    tx: &mut SqliteConnection,
    rows: &[T],
    columns: usize,
    sql: impl Fn(&str) -> String,
    bind: impl for<'q> Fn(SqliteQuery<'q>, &'q T) -> SqliteQuery<'q>,
) -> Result<Vec<SqliteRow>, StoreError> {
    let mut out = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(chunk_rows(columns)) {
        let text = sql(&values(chunk.len(), columns));
        let query = bound(&text, chunk, &bind);
        out.extend(query.fetch_all(&mut *tx).await?);
    }
    Ok(out)
}

/// The statement `text` with every row of `chunk` bound.
fn bound<'q, T>(
    text: &'q str,
    chunk: &'q [T],
    bind: &impl for<'r> Fn(SqliteQuery<'r>, &'r T) -> SqliteQuery<'r>,
) -> SqliteQuery<'q> {
    chunk.iter().fold(sqlx::query(text), bind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_lists_have_rows_of_placeholders() {
        assert_eq!(values(2, 3), "(?, ?, ?), (?, ?, ?)");
        assert_eq!(values(1, 1), "(?)");
        assert!(chunk_rows(14) * 14 <= MAX_PARAMS);
        assert_eq!(chunk_rows(1), MAX_ROWS);
    }
}
