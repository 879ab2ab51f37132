//! Payouts (HM-6): accrual of delivered hash rate into seller releases and buyer
//! revenue ([`rules`], pure, over `hashmarket_contracts::schedule`), and the
//! service that runs it over the database on the business clock ([`service`]).

#![deny(missing_docs)]

pub mod postings;
pub mod rules;
pub mod service;
