//! The ledger's hash chain (HM-7 §4): each journal entry's `chain_hash` is
//! SHA-256 over the previous entry's hash and the entry's canonical content, in
//! commit order, starting from [`GENESIS`]. Altering, inserting or deleting any
//! entry breaks every hash after it; `hashmarket verify` recomputes the chain and
//! names the first entry that does not match.

use async_trait::async_trait;
use chrono::SecondsFormat;
use sha2::{Digest, Sha256};

use crate::market::EntryRecord;
use crate::StoreError;

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The canonical text of an entry: its fields, `|`-separated, decimals
/// normalised, the time in RFC 3339 UTC with microseconds.
pub fn canonical(entry: &EntryRecord) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}|{}|{}",
        entry.transfer_id,
        entry.account.owner_id,
        entry.account.asset,
        entry.account.purpose,
        entry.debit.normalize(),
        entry.credit.normalize(),
        entry.balance_after.normalize(),
        entry
            .created_at
            .to_rfc3339_opts(SecondsFormat::Micros, true)
    )
}

/// The hash of `entry` following `previous`: hex SHA-256 of `previous "\n" canonical`.
pub fn link(previous: &str, entry: &EntryRecord) -> String {
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical(entry).as_bytes());
    hex::encode(hasher.finalize())
}

/// The hashes of `entries` appended after `head`, in order.
pub fn extend(head: &str, entries: &[EntryRecord]) -> Vec<String> {
    let mut previous = head.to_string();
    entries
        .iter()
        .map(|e| {
            previous = link(&previous, e);
            previous.clone()
        })
        .collect()
}

/// A journal entry as the chain sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedEntry {
    /// Position in the journal.
    pub seq: i64,
    /// The entry.
    pub entry: EntryRecord,
    /// Its stored hash (`None` for entries written before the chain existed).
    pub chain_hash: Option<String>,
}

/// Reads the chain back.
#[async_trait]
pub trait ChainStore: Send + Sync {
    /// Up to `limit` entries after `after_seq`, in journal order.
    async fn chained_entries(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<ChainedEntry>, StoreError>;
    /// The chain's head: the last hash and how many entries it covers.
    async fn chain_head(&self) -> Result<(String, i64), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::AccountRef;
    use rust_decimal::Decimal;

    fn entry(credit: i64) -> EntryRecord {
        EntryRecord {
            transfer_id: uuid::Uuid::nil(),
            account: AccountRef {
                owner_id: uuid::Uuid::nil(),
                asset: "BTC".into(),
                purpose: "available".into(),
            },
            debit: Decimal::ZERO,
            credit: Decimal::new(credit, 8),
            balance_after: Decimal::new(credit, 8),
            created_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn any_change_breaks_every_later_hash() {
        let entries = [entry(1), entry(2), entry(3)];
        let chain = extend(GENESIS, &entries);
        assert_eq!(chain[0], link(GENESIS, &entries[0]));
        let mut altered = entries.clone();
        altered[1].credit = Decimal::new(20, 8);
        let other = extend(GENESIS, &altered);
        assert_eq!(chain[0], other[0]);
        assert_ne!(chain[1], other[1]);
        assert_ne!(chain[2], other[2]);
        // Trailing zeros do not matter: 0.1 and 0.10 are the same amount.
        let mut rescaled = entries.clone();
        rescaled[0].credit = Decimal::new(10, 9);
        assert_eq!(extend(GENESIS, &rescaled)[0], chain[0]);
    }
}
