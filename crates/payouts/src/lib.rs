//! Payouts (HM-6): accrual of delivered hash rate into seller releases and buyer
//! revenue (pure rules, over `hashmarket_contracts::schedule`), withdrawal thresholds,
//! and the service that runs them on the business clock's schedule.
//!
//! Not filled in yet.

#![deny(missing_docs)]
