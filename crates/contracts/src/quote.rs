//! Quotes: what a contract costs and what it may earn, before buying.
//!
//! For a hash rate `H` (display units), a tenor of `D` days, a price `P` (quote per
//! unit per day), a buyer fee rate `f`, an assumed hashprice `R` (revenue per unit per
//! day) and a maintenance fee `M` (per unit per day):
//!
//! - cost = H × D × P, rounded down to the asset's places
//! - buyer_fee = cost × f, rounded down
//! - total = cost + buyer_fee
//! - expected_revenue = H × D × R, rounded down (0 without a hashprice)
//! - maintenance = H × D × M, rounded down
//! - net = expected_revenue − total − maintenance
//! - breakeven_hashprice = (total + maintenance) ÷ (H × D), rounded *up* to the asset's
//!   places — the smallest hashprice at which the contract does not lose.
//!
//! Worked example: 100 TH/s for 30 days at 0.00000055 BTC/TH/day with a 3% fee,
//! hashprice 0.00000060, no maintenance: cost 0.00165, fee 0.0000495, total 0.0016995,
//! revenue 0.0018, net 0.0001005, break-even 0.00000057 (0.0016995 / 3000 =
//! 0.0000005665, up to 8 places).

use rust_decimal::{Decimal, RoundingStrategy};

use crate::catalog::{Asset, Market};

/// A quote's figures, all in the market's quote asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// hash rate × days × price.
    pub cost: Decimal,
    /// The buyer fee on top.
    pub buyer_fee: Decimal,
    /// cost + buyer fee.
    pub total: Decimal,
    /// hash rate × days × hashprice.
    pub expected_revenue: Decimal,
    /// hash rate × days × maintenance fee.
    pub maintenance: Decimal,
    /// revenue − total − maintenance.
    pub net: Decimal,
    /// The hashprice at which net is zero (rounded up).
    pub breakeven_hashprice: Decimal,
}

/// Quotes `units` display units of hash rate in `market` at `price`.
pub fn quote(
    market: &Market,
    asset: &Asset,
    units: Decimal,
    price: Decimal,
    hashprice: Option<Decimal>,
    maintenance_fee: Option<Decimal>,
) -> Option<Quote> {
    let unit_days = units.checked_mul(Decimal::from(market.tenor_days))?;
    let cost = market.cost(asset, units, price)?;
    let buyer_fee = market.buyer_fee_on(asset, cost)?;
    let total = cost + buyer_fee;
    let expected_revenue = asset.round(unit_days.checked_mul(hashprice.unwrap_or_default())?);
    let maintenance = market.maintenance(asset, units, maintenance_fee.unwrap_or_default())?;
    let net = expected_revenue - total - maintenance;
    let breakeven_hashprice = if unit_days.is_zero() {
        Decimal::ZERO
    } else {
        ((total + maintenance) / unit_days)
            .round_dp_with_strategy(asset.decimals, RoundingStrategy::AwayFromZero)
    };
    Some(Quote {
        cost,
        buyer_fee,
        total,
        expected_revenue,
        maintenance,
        net,
        breakeven_hashprice,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn the_worked_example_of_the_docs() {
        let c = Catalog::default();
        let q = quote(
            &c.markets["sha256-30d"],
            &c.assets["BTC"],
            d("100"),
            d("0.00000055"),
            Some(d("0.00000060")),
            None,
        )
        .unwrap();
        assert_eq!(q.cost, d("0.00165"));
        assert_eq!(q.buyer_fee, d("0.0000495"));
        assert_eq!(q.total, d("0.0016995"));
        assert_eq!(q.expected_revenue, d("0.0018"));
        assert_eq!(q.net, d("0.0001005"));
        assert_eq!(q.breakeven_hashprice, d("0.00000057"));
    }

    #[test]
    fn maintenance_raises_the_breakeven() {
        let c = Catalog::default();
        let m = &c.markets["sha256-30d"];
        let btc = &c.assets["BTC"];
        let without = quote(m, btc, d("10"), d("0.0000005"), None, None).unwrap();
        let with = quote(m, btc, d("10"), d("0.0000005"), None, Some(d("0.0000001"))).unwrap();
        assert_eq!(with.maintenance, d("0.00003"));
        assert!(with.breakeven_hashprice > without.breakeven_hashprice);
        assert_eq!(without.expected_revenue, Decimal::ZERO);
        assert_eq!(without.net, -without.total);
    }

    #[test]
    fn overflow_is_none_not_a_panic() {
        let c = Catalog::default();
        assert!(quote(
            &c.markets["sha256-30d"],
            &c.assets["BTC"],
            Decimal::MAX,
            Decimal::MAX,
            None,
            None
        )
        .is_none());
    }
}
