//! The pure double-entry ledger model (HM-5): accounts per (owner, asset, purpose),
//! transfers that debit one account and credit another of the same asset, batches
//! applied atomically, and the balance rules — property-tested against a reference
//! model.
//!
//! Not filled in yet: the order path applies the same rules today through
//! `hashmarket_market::money::check_transfer` (one transfer at a time against locked
//! balances). This crate is where the batch-level model and its property tests go.

#![deny(missing_docs)]
