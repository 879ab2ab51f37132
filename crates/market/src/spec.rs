//! A market's terms as the order path needs them: integer ticks and lots for the
//! book, and the money of a fill — cost, buyer fee, the hold a bid sets aside.
//!
//! cost = hash rate (display units) × tenor days × price, rounded *down* to the
//! asset's places; fee = cost × fee rate, rounded down. Rounding down makes parts
//! never exceed their whole: the holds for parts of an order add up to at most the
//! order's hold, so the last fill or release takes exactly what is left.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// One market: an algorithm and a tenor, with its published limits and fees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketTerms {
    /// Market id, e.g. `sha256-30d`.
    pub id: String,
    /// Algorithm id, e.g. `sha256`.
    pub algorithm: String,
    /// Contract length in days.
    pub tenor_days: u32,
    /// Quote asset, e.g. `BTC`.
    pub asset: String,
    /// The asset's decimal places.
    pub asset_decimals: u32,
    /// H/s in one display unit (1 TH/s = 10^12 H/s): a power of ten.
    pub unit_hs: i64,
    /// Smallest price step.
    pub tick: Decimal,
    /// Hash rate step, in H/s; every order is a whole number of steps.
    pub step_hs: i64,
    /// Smallest order, in H/s.
    pub min_hs: i64,
    /// Buyer fee as a fraction (0.03 = 3%), charged on top of the cost.
    pub buyer_fee_rate: Decimal,
    /// Seller fee as a fraction, taken from what the seller is paid.
    pub seller_fee_rate: Decimal,
}

impl MarketTerms {
    /// The terms of every market of a catalog.
    pub fn from_catalog(catalog: &hashmarket_contracts::Catalog) -> Vec<MarketTerms> {
        catalog
            .markets
            .values()
            .filter_map(|m| {
                let algorithm = catalog.algorithms.get(&m.algorithm)?;
                let asset = catalog.assets.get(&m.quote_asset)?;
                Some(MarketTerms {
                    id: m.id.clone(),
                    algorithm: m.algorithm.clone(),
                    tenor_days: m.tenor_days,
                    asset: asset.id.clone(),
                    asset_decimals: asset.decimals,
                    unit_hs: i64::try_from(algorithm.unit.hs()).ok()?,
                    tick: m.tick_size,
                    step_hs: i64::try_from(m.hash_rate_step_hs).ok()?,
                    min_hs: i64::try_from(m.min_hash_rate_hs).ok()?,
                    buyer_fee_rate: m.buyer_fee,
                    seller_fee_rate: m.seller_fee,
                })
            })
            .collect()
    }

    /// A price in ticks (the price is on the tick: the API checked it).
    pub fn ticks(&self, price: Decimal) -> u64 {
        (price / self.tick).trunc().to_u64().unwrap_or(0)
    }

    /// The price of `ticks`.
    pub fn price(&self, ticks: u64) -> Decimal {
        self.tick * Decimal::from(ticks)
    }

    /// A hash rate in lots (on the step: the API checked it).
    pub fn lots(&self, hash_rate_hs: i64) -> u64 {
        u64::try_from(hash_rate_hs / self.step_hs).unwrap_or(0)
    }

    /// The hash rate of `lots`.
    pub fn hash_rate_hs(&self, lots: u64) -> i64 {
        i64::try_from(lots)
            .unwrap_or(i64::MAX)
            .saturating_mul(self.step_hs)
    }

    /// The hash rate in display units, exactly (the unit is a power of ten).
    pub fn display_units(&self, hash_rate_hs: i64) -> Decimal {
        Decimal::from(hash_rate_hs) / Decimal::from(self.unit_hs)
    }

    /// Rounds an amount down to the asset's places.
    pub fn round_amount(&self, amount: Decimal) -> Decimal {
        amount.round_dp_with_strategy(self.asset_decimals, RoundingStrategy::ToZero)
    }

    /// A contract's cost: display units × days × price, rounded down.
    pub fn cost(&self, hash_rate_hs: i64, price: Decimal) -> Decimal {
        self.round_amount(self.display_units(hash_rate_hs) * Decimal::from(self.tenor_days) * price)
    }

    /// The buyer fee on a cost, rounded down.
    pub fn buyer_fee(&self, cost: Decimal) -> Decimal {
        self.round_amount(cost * self.buyer_fee_rate)
    }

    /// What a bid of `hash_rate_hs` at `price` holds: its worst-case cost plus fee.
    pub fn hold_for(&self, hash_rate_hs: i64, price: Decimal) -> Decimal {
        let cost = self.cost(hash_rate_hs, price);
        cost + self.buyer_fee(cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    pub(crate) fn sha256_30d() -> MarketTerms {
        MarketTerms {
            id: "sha256-30d".into(),
            algorithm: "sha256".into(),
            tenor_days: 30,
            asset: "BTC".into(),
            asset_decimals: 8,
            unit_hs: 1_000_000_000_000,
            tick: Decimal::from_str("0.00000001").unwrap(),
            step_hs: 1_000_000_000_000,
            min_hs: 1_000_000_000_000,
            buyer_fee_rate: Decimal::from_str("0.03").unwrap(),
            seller_fee_rate: Decimal::from_str("0.02").unwrap(),
        }
    }

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn cost_is_units_times_days_times_price_rounded_down() {
        let t = sha256_30d();
        // 120 TH/s × 30 d × 0.00000055 BTC/TH/s/d = 0.00198 BTC.
        assert_eq!(t.cost(120_000_000_000_000, d("0.00000055")), d("0.00198"));
        // 3% of it, 0.0000594.
        assert_eq!(t.buyer_fee(d("0.00198")), d("0.0000594"));
        assert_eq!(
            t.hold_for(120_000_000_000_000, d("0.00000055")),
            d("0.0020394")
        );
        // 1 TH/s × 30 × 0.00000007 × 3% = 0.000000063 → 0.00000006 (down).
        assert_eq!(
            t.buyer_fee(t.cost(1_000_000_000_000, d("0.00000007"))),
            d("0.00000006")
        );
    }

    #[test]
    fn holds_of_parts_never_exceed_the_hold_of_the_whole() {
        let t = sha256_30d();
        let price = d("0.00000037");
        for split in 1..20_i64 {
            let whole = 20 * t.step_hs;
            let part = split * t.step_hs;
            assert!(
                t.hold_for(part, price) + t.hold_for(whole - part, price)
                    <= t.hold_for(whole, price)
            );
        }
    }

    #[test]
    fn ticks_and_lots_round_trip() {
        let t = sha256_30d();
        assert_eq!(t.price(t.ticks(d("0.00000055"))), d("0.00000055"));
        assert_eq!(t.hash_rate_hs(t.lots(5_000_000_000_000)), 5_000_000_000_000);
    }
}
