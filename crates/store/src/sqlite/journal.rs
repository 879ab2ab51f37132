//! SQLite: writing the journal — a batch's transfers, their entries on the hash
//! chain, and the balances they leave — for every unit of work (orders, accrual,
//! withdrawals). One statement per row: SQLite has one writer, and its statements
//! are prepared once and cached.

use rust_decimal::Decimal;
use sqlx::{Sqlite, Transaction};

use super::codec::{decimal_text, text, time_text};
use crate::market::{AccountRef, EntryRecord, TransferRecord};
use crate::StoreError;

/// Writes a batch's transfers, their journal entries (extending the hash chain)
/// and the touched accounts' balances.
pub(super) async fn write_journal(
    tx: &mut Transaction<'static, Sqlite>,
    transfers: &[TransferRecord],
    entries: &[EntryRecord],
    balances: &[(AccountRef, Decimal)],
) -> Result<(), StoreError> {
    for t in transfers {
        insert_transfer(tx, t).await?;
    }
    if !entries.is_empty() {
        // One writer at a time (SQLite), so the head read here is current.
        let head: String = sqlx::query_scalar("SELECT last_hash FROM ledger_chain WHERE id = 1")
            .fetch_one(&mut **tx)
            .await?;
        let hashes = crate::chain::extend(&head, entries);
        for (e, hash) in entries.iter().zip(&hashes) {
            insert_entry(tx, e, hash).await?;
        }
        sqlx::query("UPDATE ledger_chain SET last_hash = ?1, entries = entries + ?2 WHERE id = 1")
            .bind(hashes.last().map_or(head.as_str(), String::as_str))
            .bind(entries.len() as i64)
            .execute(&mut **tx)
            .await?;
    }
    for (account, balance) in balances {
        sqlx::query(
            "UPDATE accounts SET balance = ?4, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
             WHERE owner_id = ?1 AND asset = ?2 AND purpose = ?3",
        )
        .bind(account.owner_id.to_string())
        .bind(&account.asset)
        .bind(&account.purpose)
        .bind(decimal_text(balance))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn insert_transfer(
    tx: &mut Transaction<'static, Sqlite>,
    t: &TransferRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO transfers (id, kind, asset, amount, debit_owner, debit_purpose, credit_owner, credit_purpose, \
         order_id, contract_id, withdrawal_id, reference, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )
    .bind(t.id.to_string())
    .bind(&t.kind)
    .bind(&t.debit.asset)
    .bind(decimal_text(&t.amount))
    .bind(t.debit.owner_id.to_string())
    .bind(&t.debit.purpose)
    .bind(t.credit.owner_id.to_string())
    .bind(&t.credit.purpose)
    .bind(text(t.order_id))
    .bind(text(t.contract_id))
    .bind(text(t.withdrawal_id))
    .bind(&t.reference)
    .bind(time_text(&t.created_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_entry(
    tx: &mut Transaction<'static, Sqlite>,
    e: &EntryRecord,
    chain_hash: &str,
) -> Result<(), StoreError> {
    // The entry copies its transfer's kind and links (written just before, in this
    // transaction); no transfer, no row — checked below.
    let inserted = sqlx::query(
        "INSERT INTO ledger_entries (transfer_id, owner_id, asset, purpose, debit, credit, balance_after, \
         created_at, chain_hash, kind, order_id, contract_id, withdrawal_id, reference) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, kind, order_id, contract_id, withdrawal_id, reference \
         FROM transfers WHERE id = ?1",
    )
    .bind(e.transfer_id.to_string())
    .bind(e.account.owner_id.to_string())
    .bind(&e.account.asset)
    .bind(&e.account.purpose)
    .bind(decimal_text(&e.debit))
    .bind(decimal_text(&e.credit))
    .bind(decimal_text(&e.balance_after))
    .bind(time_text(&e.created_at))
    .bind(chain_hash)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted != 1 {
        return Err(StoreError::Conflict(format!(
            "journal entry of transfer {} has no transfer",
            e.transfer_id
        )));
    }
    Ok(())
}
