//! The order path of hashmarket.
//!
//! - [`clock`]: the business clock (wall or simulated).
//!
//! Each market (algorithm × tenor) gets a sequencer: one task that owns that
//! market's in-memory order book (crates/matching), takes commands in batches,
//! checks funds and rig capacity against the ledger (crates/ledger), builds the
//! contracts of its fills (crates/contracts), and writes the whole batch — orders,
//! fills, contracts, ledger transfers, idempotency records — in one database
//! transaction before it answers anyone (group commit).

#![deny(missing_docs)]

pub mod clock;

pub use clock::{BusinessClock, ClockError};
