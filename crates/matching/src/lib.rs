//! The matching engine (HM-3): one price-time order book per market, integers inside
//! (ticks and lots), deterministic, with amend, snapshot/restore, property tests
//! against a reference model, a fuzz target and side-by-side benchmarks.
//!
//! Not filled in yet: the order path runs on the simpler book in
//! `hashmarket_market::book` (place with GTC/IOC/FOK, post-only, self-trade
//! prevention, cancel, depth). This crate is where the optimised engine goes.

#![deny(missing_docs)]
