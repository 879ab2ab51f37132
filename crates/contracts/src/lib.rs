//! The pure domain of what hashmarket sells. No I/O, no clock, no floats.
//!
//! - [`hash_rate`]: exact integer H/s, parsed from and shown in display units.
//! - [`catalog`]: algorithms, assets (and the one money rounding rule: down to the
//!   asset's places), markets (algorithm × tenor) with tick, minimum, step and fees.
//! - [`quote`]: cost, fee, expected revenue, net and break-even of a contract.
//! - [`schedule`]: a contract's cost split across accrual periods and by delivery,
//!   parts always summing to the whole.
//! - [`lifecycle`]: the contract state machine.
//!
//! A contract's cost is hash rate (display units) × tenor days × price, rounded down
//! to the asset's places; fees are fractions of it, rounded down.

#![deny(missing_docs)]

pub mod catalog;
pub mod hash_rate;
pub mod lifecycle;
pub mod quote;
pub mod schedule;

pub use catalog::{Algorithm, AmountError, Asset, Catalog, CatalogError, Market, RuleError};
pub use hash_rate::{HashRate, HashRateError, Unit};
pub use lifecycle::ContractStatus;
pub use quote::{quote, Quote};
pub use schedule::{split_by_delivery, PeriodDue, ProRata};
