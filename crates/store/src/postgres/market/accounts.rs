//! PostgreSQL: accounts and the ledger as read back — balances, the invariant's sums,
//! an owner's journal entries — and locking accounts in a unit of work.

use rust_decimal::Decimal;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::market::{AccountBalance, AccountRef, EntryRecord, LedgerEntryRow};
use crate::postgres::numeric::amount;
use crate::postgres::PgStore;
use crate::StoreError;

fn entry_from_row(row: &PgRow) -> Result<LedgerEntryRow, sqlx::Error> {
    Ok(LedgerEntryRow {
        seq: row.try_get("seq")?,
        entry: EntryRecord {
            transfer_id: row.try_get("transfer_id")?,
            account: AccountRef {
                owner_id: row.try_get("owner_id")?,
                asset: row.try_get("asset")?,
                purpose: row.try_get("purpose")?,
            },
            debit: row.try_get("debit")?,
            credit: row.try_get("credit")?,
            balance_after: row.try_get("balance_after")?,
            created_at: row.try_get("created_at")?,
        },
        kind: row.try_get("kind")?,
        order_id: row.try_get("order_id")?,
        contract_id: row.try_get("contract_id")?,
        withdrawal_id: row.try_get("withdrawal_id")?,
        reference: row.try_get("reference")?,
    })
}

fn balance_from_row(row: &PgRow, column: &str) -> Result<AccountBalance, sqlx::Error> {
    Ok(AccountBalance {
        account: AccountRef {
            owner_id: row.try_get("owner_id")?,
            asset: row.try_get("asset")?,
            purpose: row.try_get("purpose")?,
        },
        balance: row.try_get(column)?,
    })
}

/// Balances of locked account rows (owner_id, asset, purpose, balance), by account.
fn balances_by_account(
    rows: &[PgRow],
) -> Result<std::collections::HashMap<AccountRef, Decimal>, StoreError> {
    let mut found = std::collections::HashMap::with_capacity(rows.len());
    for row in rows {
        let key = AccountRef {
            owner_id: row.try_get("owner_id")?,
            asset: row.try_get("asset")?,
            purpose: row.try_get("purpose")?,
        };
        found.insert(key, amount(row, "balance")?);
    }
    Ok(found)
}

/// Splits account refs into the three parallel arrays `UNNEST` takes.
pub(in crate::postgres) fn account_arrays(
    accounts: &[AccountRef],
) -> (Vec<Uuid>, Vec<String>, Vec<String>) {
    (
        accounts.iter().map(|a| a.owner_id).collect(),
        accounts.iter().map(|a| a.asset.clone()).collect(),
        accounts.iter().map(|a| a.purpose.clone()).collect(),
    )
}

pub(super) async fn balances(
    store: &PgStore,
    owner_id: Uuid,
) -> Result<Vec<AccountBalance>, StoreError> {
    let rows = sqlx::query(
        "SELECT asset, purpose, balance FROM accounts WHERE owner_id = $1 ORDER BY asset, purpose",
    )
    .bind(owner_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AccountBalance {
                account: AccountRef {
                    owner_id,
                    asset: r.try_get("asset")?,
                    purpose: r.try_get("purpose")?,
                },
                balance: r.try_get("balance")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

pub(super) async fn balance_sums(store: &PgStore) -> Result<Vec<(String, Decimal)>, StoreError> {
    let rows = sqlx::query(
        "SELECT asset, sum(balance) AS total FROM accounts GROUP BY asset ORDER BY asset",
    )
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("asset")?, r.try_get("total")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

pub(super) async fn all_accounts(store: &PgStore) -> Result<Vec<AccountBalance>, StoreError> {
    let rows = sqlx::query(
        "SELECT owner_id, asset, purpose, balance FROM accounts ORDER BY owner_id, asset, purpose",
    )
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| balance_from_row(r, "balance"))
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}

pub(super) async fn journal_sums(store: &PgStore) -> Result<Vec<AccountBalance>, StoreError> {
    let rows = sqlx::query(
        "SELECT owner_id, asset, purpose, sum(credit) - sum(debit) AS total FROM ledger_entries \
         GROUP BY owner_id, asset, purpose ORDER BY owner_id, asset, purpose",
    )
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| balance_from_row(r, "total"))
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}

pub(super) async fn ledger_entries(
    store: &PgStore,
    owner_id: Uuid,
    asset: Option<&str>,
    before_seq: Option<i64>,
    limit: u32,
) -> Result<Vec<LedgerEntryRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT e.seq, e.transfer_id, e.owner_id, e.asset, e.purpose, e.debit, e.credit, \
         e.balance_after, e.created_at, e.kind, e.order_id, e.contract_id, e.withdrawal_id, e.reference \
         FROM ledger_entries e \
         WHERE e.owner_id = $1 AND ($2::text IS NULL OR e.asset = $2) AND ($3::bigint IS NULL OR e.seq < $3) \
         ORDER BY e.seq DESC LIMIT $4",
    )
    .bind(owner_id)
    .bind(asset)
    .bind(before_seq)
    .bind(i64::from(limit))
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(entry_from_row)
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}

pub(super) async fn lock_accounts(
    tx: &mut PgConnection,
    accounts: &[AccountRef],
) -> Result<Vec<Decimal>, StoreError> {
    let (owners, assets, purposes) = account_arrays(accounts);
    // One round trip: create the missing accounts and lock the existing ones in
    // key order. A row another transaction created after this statement's
    // snapshot is neither created here nor seen; a second run (a fresh
    // snapshot) finds and locks it.
    let mut found = std::collections::HashMap::new();
    for _ in 0..2 {
        let rows = sqlx::query(
            "WITH k AS (SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[]) AS k(owner_id, asset, purpose)), \
             created AS (INSERT INTO accounts (owner_id, asset, purpose) SELECT * FROM k ORDER BY 1, 2, 3 \
               ON CONFLICT DO NOTHING RETURNING owner_id, asset, purpose, balance), \
             locked AS (SELECT a.owner_id, a.asset, a.purpose, a.balance FROM accounts a JOIN k \
               ON a.owner_id = k.owner_id AND a.asset = k.asset AND a.purpose = k.purpose \
               ORDER BY a.owner_id, a.asset, a.purpose FOR UPDATE OF a) \
             SELECT * FROM locked UNION ALL SELECT * FROM created",
        )
        .bind(&owners)
        .bind(&assets)
        .bind(&purposes)
        .fetch_all(&mut *tx)
        .await?;
        found = balances_by_account(&rows)?;
        if accounts.iter().all(|a| found.contains_key(a)) {
            break;
        }
    }
    accounts
        .iter()
        .map(|a| {
            found.get(a).copied().ok_or_else(|| StoreError::Corrupt {
                column: "accounts",
                detail: format!("account {a:?} vanished while locking"),
            })
        })
        .collect()
}
