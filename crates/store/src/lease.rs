//! Market leases: at most one process runs a market's sequencer.
//!
//! PostgreSQL: a session advisory lock per market, held by a connection set aside
//! for the lease. If the process dies, PostgreSQL ends its session and the lock is
//! free for another node to take. SQLite: an exclusive OS lock on a file next to the
//! database, one for the whole process (SQLite is one machine's database anyway).

use async_trait::async_trait;

use crate::StoreError;

/// Proof that this process owns a market; dropping it gives the market up.
pub struct MarketLease {
    _held: Box<dyn std::any::Any + Send + Sync>,
}

impl MarketLease {
    /// Wraps whatever keeps the lock held.
    pub(crate) fn new(held: impl std::any::Any + Send + Sync) -> MarketLease {
        MarketLease {
            _held: Box::new(held),
        }
    }
}

impl std::fmt::Debug for MarketLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MarketLease")
    }
}

/// Taking market leases.
#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Takes the lease of `market` if no other process holds it.
    async fn try_lease_market(&self, market: &str) -> Result<Option<MarketLease>, StoreError>;
}

/// The advisory-lock key of a market: a stable 64-bit hash (FNV-1a) of its id.
pub fn market_lock_key(market: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in b"hashmarket.market:".iter().chain(market.as_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash as i64
}

#[cfg(test)]
mod tests {
    use super::market_lock_key;

    #[test]
    fn lock_keys_are_stable_and_distinct() {
        assert_eq!(market_lock_key("sha256-30d"), market_lock_key("sha256-30d"));
        assert_ne!(market_lock_key("sha256-30d"), market_lock_key("sha256-7d"));
    }
}
