//! SQLite: accounts and the ledger as read back — balances, the invariant's sums,
//! an owner's journal entries — and locking accounts in a unit of work.

use rust_decimal::Decimal;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use crate::market::{AccountBalance, AccountRef, EntryRecord, LedgerEntryRow};
use crate::sqlite::bulk::{self, SqliteQuery};
use crate::sqlite::codec::{all, decimal, opt_uuid, time, uuid};
use crate::sqlite::SqliteStore;
use crate::StoreError;

fn entry_from_row(row: &SqliteRow) -> Result<LedgerEntryRow, StoreError> {
    Ok(LedgerEntryRow {
        seq: row.try_get("seq")?,
        entry: EntryRecord {
            transfer_id: uuid(row, "transfer_id")?,
            account: AccountRef {
                owner_id: uuid(row, "owner_id")?,
                asset: row.try_get("asset")?,
                purpose: row.try_get("purpose")?,
            },
            debit: decimal(row, "debit")?,
            credit: decimal(row, "credit")?,
            balance_after: decimal(row, "balance_after")?,
            created_at: time(row, "created_at")?,
        },
        kind: row.try_get("kind")?,
        order_id: opt_uuid(row, "order_id")?,
        contract_id: opt_uuid(row, "contract_id")?,
        withdrawal_id: opt_uuid(row, "withdrawal_id")?,
        reference: row.try_get("reference")?,
    })
}

fn balance_from_row(row: &SqliteRow, column: &'static str) -> Result<AccountBalance, StoreError> {
    Ok(AccountBalance {
        account: AccountRef {
            owner_id: uuid(row, "owner_id")?,
            asset: row.try_get("asset")?,
            purpose: row.try_get("purpose")?,
        },
        balance: decimal(row, column)?,
    })
}

pub(super) async fn balances(
    store: &SqliteStore,
    owner_id: Uuid,
) -> Result<Vec<AccountBalance>, StoreError> {
    let rows = sqlx::query(
        "SELECT asset, purpose, balance FROM accounts WHERE owner_id = ?1 ORDER BY asset, purpose",
    )
    .bind(owner_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AccountBalance {
                account: AccountRef {
                    owner_id,
                    asset: r.try_get("asset")?,
                    purpose: r.try_get("purpose")?,
                },
                balance: decimal(r, "balance")?,
            })
        })
        .collect()
}

pub(super) async fn balance_sums(
    store: &SqliteStore,
) -> Result<Vec<(String, Decimal)>, StoreError> {
    // Summed in Rust: SQLite's sum() would go through floating point.
    let rows = sqlx::query("SELECT asset, balance FROM accounts ORDER BY asset")
        .fetch_all(store.reader())
        .await?;
    let mut sums: std::collections::BTreeMap<String, Decimal> = Default::default();
    for row in &rows {
        *sums.entry(row.try_get("asset")?).or_default() += decimal(row, "balance")?;
    }
    Ok(sums.into_iter().collect())
}

pub(super) async fn all_accounts(store: &SqliteStore) -> Result<Vec<AccountBalance>, StoreError> {
    let rows = sqlx::query(
        "SELECT owner_id, asset, purpose, balance FROM accounts ORDER BY owner_id, asset, purpose",
    )
    .fetch_all(store.reader())
    .await?;
    rows.iter()
        .map(|r| balance_from_row(r, "balance"))
        .collect()
}

pub(super) async fn journal_sums(store: &SqliteStore) -> Result<Vec<AccountBalance>, StoreError> {
    // Summed in Rust, exactly: SQLite's sum() would go through floating point.
    let mut sums: std::collections::BTreeMap<AccountRef, Decimal> = Default::default();
    let mut rows =
        sqlx::query("SELECT owner_id, asset, purpose, debit, credit FROM ledger_entries")
            .fetch(store.reader());
    while let Some(row) = futures_util::TryStreamExt::try_next(&mut rows).await? {
        let key = AccountRef {
            owner_id: uuid(&row, "owner_id")?,
            asset: row.try_get("asset")?,
            purpose: row.try_get("purpose")?,
        };
        *sums.entry(key).or_default() += decimal(&row, "credit")? - decimal(&row, "debit")?;
    }
    Ok(sums
        .into_iter()
        .map(|(account, balance)| AccountBalance { account, balance })
        .collect())
}

pub(super) async fn ledger_entries(
    store: &SqliteStore,
    owner_id: Uuid,
    asset: Option<&str>,
    before_seq: Option<i64>,
    limit: u32,
) -> Result<Vec<LedgerEntryRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT e.seq, e.transfer_id, e.owner_id, e.asset, e.purpose, e.debit, e.credit, \
         e.balance_after, e.created_at, e.kind, e.order_id, e.contract_id, e.withdrawal_id, e.reference \
         FROM ledger_entries e \
         WHERE e.owner_id = ?1 AND (?2 IS NULL OR e.asset = ?2) AND (?3 IS NULL OR e.seq < ?3) \
         ORDER BY e.seq DESC LIMIT ?4",
    )
    .bind(owner_id.to_string())
    .bind(asset)
    .bind(before_seq)
    .bind(i64::from(limit))
    .fetch_all(store.reader())
    .await?;
    all(&rows, entry_from_row)
}

/// Binds an account's key: owner, asset, purpose.
fn bind_account<'q>(q: SqliteQuery<'q>, a: &'q AccountRef) -> SqliteQuery<'q> {
    q.bind(a.owner_id.to_string())
        .bind(&a.asset)
        .bind(&a.purpose)
}

pub(super) async fn lock_accounts(
    tx: &mut SqliteConnection,
    accounts: &[AccountRef],
) -> Result<Vec<Decimal>, StoreError> {
    // The single writer connection already excludes other writers: "locking" is
    // creating the missing accounts and reading the balances.
    bulk::execute(
        tx,
        accounts,
        3,
        |values| {
            format!(
                "INSERT INTO accounts (owner_id, asset, purpose) VALUES {values} \
                 ON CONFLICT DO NOTHING"
            )
        },
        bind_account,
    )
    .await?;
    let numbered: Vec<(i64, &AccountRef)> = (0..).zip(accounts).collect();
    let rows = bulk::fetch(
        tx,
        &numbered,
        4,
        |values| {
            format!(
                "WITH v(n, owner_id, asset, purpose) AS (VALUES {values}) \
                 SELECT v.n, a.balance FROM v JOIN accounts a ON a.owner_id = v.owner_id \
                 AND a.asset = v.asset AND a.purpose = v.purpose ORDER BY v.n"
            )
        },
        |q, (n, a)| bind_account(q.bind(*n), a),
    )
    .await?;
    if rows.len() != accounts.len() {
        return Err(StoreError::Conflict(format!(
            "{} accounts to lock, {} found",
            accounts.len(),
            rows.len()
        )));
    }
    rows.iter().map(|r| decimal(r, "balance")).collect()
}
