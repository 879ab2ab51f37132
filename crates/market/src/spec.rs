//! A market's terms as the order path needs them: integer ticks and lots for the
//! book, and the money of a fill — cost, buyer fee, the hold a bid sets aside —
//! computed by the contracts crate (the one home of those formulas).
//!
//! Amounts round down to the asset's places, so parts never exceed their whole: the
//! holds for parts of an order add up to at most the order's hold, and the last fill
//! or release takes exactly what is left.

use hashmarket_contracts::{Asset, Market};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

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
    /// H/s in one display unit (1 TH/s = 10^12 H/s): a power of ten.
    pub unit_hs: i64,
    /// Smallest price step.
    pub tick: Decimal,
    /// Hash rate step, in H/s; every order is a whole number of steps.
    pub step_hs: i64,
    /// The catalog's market, for its formulas.
    pub market: Market,
    /// The quote asset, for its rounding.
    pub quote: Asset,
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
                    unit_hs: i64::try_from(algorithm.unit.hs()).ok()?,
                    tick: m.tick_size,
                    step_hs: i64::try_from(m.hash_rate_step_hs).ok()?,
                    market: m.clone(),
                    quote: asset.clone(),
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

    /// A contract's cost: display units × days × price, rounded down. Prices are
    /// bounded (`MAX_PRICE`) and hash rates fit `i64`, so this cannot overflow.
    pub fn cost(&self, hash_rate_hs: i64, price: Decimal) -> Decimal {
        let cost = self
            .market
            .cost(&self.quote, self.display_units(hash_rate_hs), price);
        cost.unwrap_or_else(|| {
            panic!(
                "cost overflow: {hash_rate_hs} H/s at {price} in {}",
                self.id
            )
        })
    }

    /// The buyer fee on a cost, rounded down.
    pub fn buyer_fee(&self, cost: Decimal) -> Decimal {
        let fee = self.market.buyer_fee_on(&self.quote, cost);
        fee.unwrap_or_else(|| panic!("fee overflow on {cost} in {}", self.id))
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
        let catalog = hashmarket_contracts::Catalog::default();
        MarketTerms::from_catalog(&catalog)
            .into_iter()
            .find(|t| t.id == "sha256-30d")
            .unwrap()
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
