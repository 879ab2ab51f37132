//! PostgreSQL: writing the journal — a batch's transfers, their entries on the hash
//! chain, and the balances they leave — for every unit of work (orders, accrual,
//! withdrawals).

use rust_decimal::Decimal;
use sqlx::{Postgres, Transaction};

use super::market::account_arrays;
use crate::market::{AccountRef, EntryRecord, TransferRecord};
use crate::StoreError;

/// Writes a batch's transfers, their journal entries (extending the hash chain) and
/// the changed accounts' balances in ONE statement — data-modifying CTEs — because on
/// a busy server every round trip of a sequencer's batch is a wait for a core. The
/// chain's head row is read and locked first (a second round trip): ledger writers
/// append in turn, so the journal's seq order is the chain's order.
pub(super) async fn write_journal(
    tx: &mut Transaction<'static, Postgres>,
    transfers: &[TransferRecord],
    entries: &[EntryRecord],
    balances: &[(AccountRef, Decimal)],
) -> Result<(), StoreError> {
    if transfers.is_empty() && entries.is_empty() && balances.is_empty() {
        return Ok(());
    }
    let head: String =
        sqlx::query_scalar("SELECT last_hash FROM ledger_chain WHERE id = 1 FOR UPDATE")
            .fetch_one(&mut **tx)
            .await?;
    let hashes = crate::chain::extend(&head, entries);
    let strings = |f: fn(&TransferRecord) -> String| transfers.iter().map(f).collect::<Vec<_>>();
    let accounts: Vec<AccountRef> = balances.iter().map(|(a, _)| a.clone()).collect();
    let (owners, assets, purposes) = account_arrays(&accounts);
    // Each entry copies its transfer's kind and links from the rows the first CTE
    // returns (a sibling CTE cannot see the table's new rows, so they are joined
    // directly); an entry whose transfer is not in this batch would be lost by the
    // join, so the entry count is checked. WITH ORDINALITY keeps the journal's seq
    // in the order the entries were given. Every data-modifying CTE runs to
    // completion whether or not the final SELECT reads it.
    let (inserted, updated): (i64, i64) = sqlx::query_as(
        "WITH t AS (INSERT INTO transfers (id, kind, asset, amount, debit_owner, debit_purpose, \
           credit_owner, credit_purpose, order_id, contract_id, withdrawal_id, reference, created_at) \
           SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::numeric[], $5::uuid[], $6::text[], \
           $7::uuid[], $8::text[], $9::uuid[], $10::uuid[], $11::uuid[], $12::text[], $13::timestamptz[]) \
           RETURNING id, kind, order_id, contract_id, withdrawal_id, reference), \
         e AS (INSERT INTO ledger_entries (transfer_id, owner_id, asset, purpose, debit, credit, \
           balance_after, created_at, chain_hash, kind, order_id, contract_id, withdrawal_id, reference) \
           SELECT e.transfer_id, e.owner_id, e.asset, e.purpose, e.debit, e.credit, e.balance_after, \
           e.created_at, e.chain_hash, t.kind, t.order_id, t.contract_id, t.withdrawal_id, t.reference \
           FROM UNNEST($14::uuid[], $15::uuid[], $16::text[], $17::text[], $18::numeric[], $19::numeric[], \
           $20::numeric[], $21::timestamptz[], $22::text[]) WITH ORDINALITY \
           AS e(transfer_id, owner_id, asset, purpose, debit, credit, balance_after, created_at, chain_hash, n) \
           JOIN t ON t.id = e.transfer_id ORDER BY e.n RETURNING 1), \
         a AS (UPDATE accounts a SET balance = v.balance, updated_at = now() \
           FROM UNNEST($23::uuid[], $24::text[], $25::text[], $26::numeric[]) AS v(owner_id, asset, purpose, balance) \
           WHERE a.owner_id = v.owner_id AND a.asset = v.asset AND a.purpose = v.purpose RETURNING 1), \
         c AS (UPDATE ledger_chain SET last_hash = $27, entries = entries + $28 WHERE id = 1) \
         SELECT (SELECT count(*) FROM e), (SELECT count(*) FROM a)",
    )
    .bind(transfers.iter().map(|t| t.id).collect::<Vec<_>>())
    .bind(strings(|t| t.kind.clone()))
    .bind(strings(|t| t.debit.asset.clone()))
    .bind(transfers.iter().map(|t| t.amount).collect::<Vec<_>>())
    .bind(transfers.iter().map(|t| t.debit.owner_id).collect::<Vec<_>>())
    .bind(strings(|t| t.debit.purpose.clone()))
    .bind(transfers.iter().map(|t| t.credit.owner_id).collect::<Vec<_>>())
    .bind(strings(|t| t.credit.purpose.clone()))
    .bind(transfers.iter().map(|t| t.order_id).collect::<Vec<_>>())
    .bind(transfers.iter().map(|t| t.contract_id).collect::<Vec<_>>())
    .bind(transfers.iter().map(|t| t.withdrawal_id).collect::<Vec<_>>())
    .bind(transfers.iter().map(|t| t.reference.clone()).collect::<Vec<_>>())
    .bind(transfers.iter().map(|t| t.created_at).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.transfer_id).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.account.owner_id).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.account.asset.clone()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.account.purpose.clone()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.debit).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.credit).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.balance_after).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.created_at).collect::<Vec<_>>())
    .bind(&hashes)
    .bind(&owners)
    .bind(&assets)
    .bind(&purposes)
    .bind(balances.iter().map(|(_, b)| *b).collect::<Vec<_>>())
    .bind(hashes.last().map_or(head.as_str(), String::as_str))
    .bind(entries.len() as i64)
    .fetch_one(&mut **tx)
    .await?;
    // These two checks stand in for foreign keys (migration 0013): an entry's
    // transfer is in this statement, and every account written exists, once.
    if inserted != entries.len() as i64 {
        return Err(StoreError::Conflict(format!(
            "{} of {} journal entries have no transfer in their batch",
            entries.len() as i64 - inserted,
            entries.len()
        )));
    }
    if updated != balances.len() as i64 {
        return Err(StoreError::Conflict(format!(
            "{updated} account rows updated for {} balances: an account is missing",
            balances.len()
        )));
    }
    Ok(())
}
