//! Black-box HTTP tests: the real server on port 0 against a real database, every
//! test run once on SQLite and once on PostgreSQL.

mod fixtures;
mod helpers;

mod access;
mod auth;
mod finance;
mod marketplace;
mod markets;
mod operations;
mod payouts;
mod withdrawals;
