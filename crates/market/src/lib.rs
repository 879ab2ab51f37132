//! The order path of hashmarket.
//!
//! - [`clock`]: the business clock (wall or simulated).
//! - [`markets`]: the markets of this node and their sequencers.
//! - [`sequencer`]: one task per market that owns its order book (crates/matching),
//!   takes commands in batches, and writes each batch — orders, fills, contracts,
//!   ledger transfers, idempotency records — in one database transaction before it
//!   answers anyone (group commit).
//! - [`execution`]: what one command does to the book, the ledger and the rigs.
//! - [`money`]: accounts, transfer kinds, and the operator's credits.

#![deny(missing_docs)]

pub mod batch;
pub mod book;
pub mod clock;
pub mod command;
pub mod execution;
pub mod markets;
pub mod money;
pub mod notices;
pub mod sequencer;
pub mod spec;
pub mod verify;

pub use clock::{BusinessClock, ClockError};
pub use command::{NewOrder, OrderError, OrderOutcome, Side, TimeInForce};
pub use markets::Markets;
pub use notices::Notices;
pub use spec::MarketTerms;
