//! SQLite: writing the journal — a batch's transfers, their entries on the hash
//! chain, and the balances they leave — for every unit of work (orders, accrual,
//! withdrawals). Many rows per statement ([`super::bulk`]): SQLite has one writer,
//! and an accrual period's batch is hundreds of thousands of rows.

use std::collections::HashMap;

use rust_decimal::Decimal;
use sqlx::{Sqlite, Transaction};
use uuid::Uuid;

use super::bulk;
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
    insert_transfers(tx, transfers).await?;
    if !entries.is_empty() {
        // One writer at a time (SQLite), so the head read here is current.
        let head: String = sqlx::query_scalar("SELECT last_hash FROM ledger_chain WHERE id = 1")
            .fetch_one(&mut **tx)
            .await?;
        let hashes = crate::chain::extend(&head, entries);
        insert_entries(tx, transfers, entries, &hashes).await?;
        sqlx::query("UPDATE ledger_chain SET last_hash = ?1, entries = entries + ?2 WHERE id = 1")
            .bind(hashes.last().map_or(head.as_str(), String::as_str))
            .bind(entries.len() as i64)
            .execute(&mut **tx)
            .await?;
    }
    let updated = bulk::execute(
        tx,
        balances,
        4,
        |values| {
            format!(
                "WITH v(owner_id, asset, purpose, balance) AS (VALUES {values}) \
                 UPDATE accounts SET balance = v.balance, \
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM v \
                 WHERE accounts.owner_id = v.owner_id AND accounts.asset = v.asset \
                 AND accounts.purpose = v.purpose"
            )
        },
        |q, (account, balance)| {
            q.bind(account.owner_id.to_string())
                .bind(&account.asset)
                .bind(&account.purpose)
                .bind(decimal_text(balance))
        },
    )
    .await?;
    if updated != balances.len() as u64 {
        return Err(StoreError::Conflict(format!(
            "{} balances written, {updated} accounts found",
            balances.len()
        )));
    }
    Ok(())
}

async fn insert_transfers(
    tx: &mut Transaction<'static, Sqlite>,
    transfers: &[TransferRecord],
) -> Result<(), StoreError> {
    bulk::execute(
        tx,
        transfers,
        13,
        |values| {
            format!(
                "INSERT INTO transfers (id, kind, asset, amount, debit_owner, debit_purpose, \
                 credit_owner, credit_purpose, order_id, contract_id, withdrawal_id, reference, \
                 created_at) VALUES {values}"
            )
        },
        |q, t| {
            q.bind(t.id.to_string())
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
        },
    )
    .await?;
    Ok(())
}

/// An entry as written: with its chain hash and its transfer's kind and links.
struct EntryRow<'a> {
    entry: &'a EntryRecord,
    chain_hash: &'a str,
    transfer: &'a TransferRecord,
}

async fn insert_entries(
    tx: &mut Transaction<'static, Sqlite>,
    transfers: &[TransferRecord],
    entries: &[EntryRecord],
    hashes: &[String],
) -> Result<(), StoreError> {
    // Each entry copies its transfer's kind and links; its transfer is one of
    // this batch's (and the foreign key holds it to the stored one).
    let by_id: HashMap<Uuid, &TransferRecord> = transfers.iter().map(|t| (t.id, t)).collect();
    let rows = entries
        .iter()
        .zip(hashes)
        .map(|(entry, hash)| {
            let transfer = by_id.get(&entry.transfer_id).ok_or_else(|| {
                StoreError::Conflict(format!(
                    "journal entry of transfer {} has no transfer",
                    entry.transfer_id
                ))
            })?;
            Ok(EntryRow {
                entry,
                chain_hash: hash,
                transfer,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    bulk::execute(
        tx,
        &rows,
        14,
        |values| {
            format!(
                "INSERT INTO ledger_entries (transfer_id, owner_id, asset, purpose, debit, credit, \
                 balance_after, created_at, chain_hash, kind, order_id, contract_id, \
                 withdrawal_id, reference) VALUES {values}"
            )
        },
        |q, r| {
            let (e, t) = (r.entry, r.transfer);
            q.bind(e.transfer_id.to_string())
                .bind(e.account.owner_id.to_string())
                .bind(&e.account.asset)
                .bind(&e.account.purpose)
                .bind(decimal_text(&e.debit))
                .bind(decimal_text(&e.credit))
                .bind(decimal_text(&e.balance_after))
                .bind(time_text(&e.created_at))
                .bind(r.chain_hash)
                .bind(&t.kind)
                .bind(text(t.order_id))
                .bind(text(t.contract_id))
                .bind(text(t.withdrawal_id))
                .bind(&t.reference)
        },
    )
    .await?;
    Ok(())
}
