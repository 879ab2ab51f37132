//! What is traded: algorithms, assets, tenors and markets, from configuration.
//! `Catalog::default()` is the embedded default; a deployment may load its own
//! (serde) — every limit a client can hit is published by `GET /v1/markets`.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::hash_rate::{HashRate, Unit};

/// A proof-of-work algorithm and how its hash rate is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Algorithm {
    /// Id, e.g. `sha256`.
    pub id: String,
    /// Display unit.
    pub unit: Unit,
    /// The coin it mines, which is also the quote asset of its markets.
    pub coin: String,
}

/// An asset and its money rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    /// Code, e.g. `BTC`.
    pub id: String,
    /// Decimal places amounts are kept to.
    pub decimals: u32,
    /// Smallest withdrawal the operator sends.
    pub withdrawal_min: Decimal,
    /// Network fee charged per withdrawal.
    pub withdrawal_fee: Decimal,
}

impl Asset {
    /// Rounds an amount down to the asset's places — the one rounding rule of money
    /// here: down (toward zero), so a part never exceeds its whole and what is not
    /// paid is carried, never invented.
    pub fn round(&self, amount: Decimal) -> Decimal {
        amount.round_dp_with_strategy(self.decimals, RoundingStrategy::ToZero)
    }

    /// Shown with exactly the asset's places, e.g. `"0.00050000"`.
    pub fn format(&self, amount: Decimal) -> String {
        let mut shown = self.round(amount);
        shown.rescale(self.decimals);
        shown.to_string()
    }

    /// Parses a decimal amount with at most the asset's places.
    pub fn parse_amount(&self, text: &str) -> Result<Decimal, AmountError> {
        let amount = parse_decimal(text).ok_or(AmountError::Malformed)?;
        if amount.scale() > self.decimals {
            return Err(AmountError::TooPrecise {
                decimals: self.decimals,
            });
        }
        Ok(amount)
    }
}

/// Why an amount or price could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Not a plain decimal number.
    #[error("expected a decimal string like \"0.00050000\"")]
    Malformed,
    /// More places than the asset has.
    #[error("at most {decimals} decimal places")]
    TooPrecise {
        /// The asset's places.
        decimals: u32,
    },
    /// Not positive where it must be.
    #[error("must be positive")]
    NotPositive,
    /// Above the largest price accepted.
    #[error("at most 1000000 per unit per day")]
    TooLarge,
    /// Not a multiple of the tick.
    #[error("must be a multiple of the tick size {tick}")]
    OffTick {
        /// The tick.
        tick: Decimal,
    },
}

/// A plain decimal (`"12"`, `"0.5"`, `"-3.25"`): no exponent, no spaces, ≤ 28 places.
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let ok = !text.is_empty()
        && text.len() <= 40
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        && text.bytes().filter(|b| *b == b'.').count() <= 1
        && !text[1..].contains('-');
    if !ok {
        return None;
    }
    Decimal::from_str(text).ok()
}

/// One market: algorithm × tenor, with its limits and fees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Market {
    /// Id, `<algorithm>-<days>d`.
    pub id: String,
    /// Algorithm id.
    pub algorithm: String,
    /// Contract length in days.
    pub tenor_days: u32,
    /// Quote asset.
    pub quote_asset: String,
    /// Smallest price step (quote per display unit per day).
    pub tick_size: Decimal,
    /// Smallest order.
    pub min_hash_rate_hs: u128,
    /// Orders are whole multiples of this.
    pub hash_rate_step_hs: u128,
    /// Buyer fee, fraction of cost charged on top.
    pub buyer_fee: Decimal,
    /// Seller fee, fraction of what the seller is paid.
    pub seller_fee: Decimal,
}

/// Why an order's terms break a market's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// Below the market's minimum.
    #[error("below the market minimum of {0}")]
    BelowMinimum(String),
    /// Not a multiple of the market's step.
    #[error("must be a multiple of {0}")]
    OffStep(String),
}

/// The highest price accepted, per display unit per day: far above any real price,
/// low enough that hash rate × days × price cannot overflow.
pub const MAX_PRICE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

impl Market {
    /// A contract's cost: `units` display units × tenor days × `price`, rounded down
    /// to the asset's places — the one place this formula lives. `None` on overflow.
    pub fn cost(&self, asset: &Asset, units: Decimal, price: Decimal) -> Option<Decimal> {
        let unit_days = units.checked_mul(Decimal::from(self.tenor_days))?;
        Some(asset.round(unit_days.checked_mul(price)?))
    }

    /// The buyer fee on a cost, rounded down.
    pub fn buyer_fee_on(&self, asset: &Asset, cost: Decimal) -> Option<Decimal> {
        Some(asset.round(cost.checked_mul(self.buyer_fee)?))
    }

    /// The seller fee taken from `paid` (what is released to the seller), rounded
    /// down: the seller receives `paid − fee`.
    pub fn seller_fee_on(&self, asset: &Asset, paid: Decimal) -> Option<Decimal> {
        Some(asset.round(paid.checked_mul(self.seller_fee)?))
    }

    /// Maintenance for `units` display units over the tenor at `fee_per_unit_day`,
    /// rounded down.
    pub fn maintenance(
        &self,
        asset: &Asset,
        units: Decimal,
        fee_per_unit_day: Decimal,
    ) -> Option<Decimal> {
        let unit_days = units.checked_mul(Decimal::from(self.tenor_days))?;
        Some(asset.round(unit_days.checked_mul(fee_per_unit_day)?))
    }

    /// Checks a price: positive, at most [`MAX_PRICE`], on the tick, within the
    /// asset's places.
    pub fn check_price(&self, asset: &Asset, text: &str) -> Result<Decimal, AmountError> {
        let price = asset.parse_amount(text)?;
        if price <= Decimal::ZERO {
            return Err(AmountError::NotPositive);
        }
        if price > MAX_PRICE {
            return Err(AmountError::TooLarge);
        }
        if !(price % self.tick_size).is_zero() {
            return Err(AmountError::OffTick {
                tick: self.tick_size,
            });
        }
        Ok(price)
    }

    /// Checks an order's hash rate: at least the minimum, a whole number of steps.
    pub fn check_hash_rate(&self, rate: HashRate, unit: Unit) -> Result<HashRate, RuleError> {
        let show = |hs: u128| {
            HashRate::from_hs(hs)
                .map(|r| r.format(unit))
                .unwrap_or_default()
        };
        if rate.hs() < self.min_hash_rate_hs {
            return Err(RuleError::BelowMinimum(show(self.min_hash_rate_hs)));
        }
        if !rate.hs().is_multiple_of(self.hash_rate_step_hs) {
            return Err(RuleError::OffStep(show(self.hash_rate_step_hs)));
        }
        Ok(rate)
    }
}

/// Every algorithm, asset and market.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    /// By id.
    pub algorithms: BTreeMap<String, Algorithm>,
    /// By id.
    pub assets: BTreeMap<String, Asset>,
    /// By id.
    pub markets: BTreeMap<String, Market>,
}

/// Why a catalog is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("catalog: {0}")]
pub struct CatalogError(pub String);

impl Catalog {
    /// The contract lengths offered, in days, ascending.
    pub fn tenors_days(&self) -> Vec<u32> {
        let tenors: std::collections::BTreeSet<u32> =
            self.markets.values().map(|m| m.tenor_days).collect();
        tenors.into_iter().collect()
    }

    /// Checks that every market names a known algorithm and asset, is called
    /// `<algorithm>-<days>d`, has a positive tenor, tick and step, a minimum that is a
    /// whole number of steps, a tick within the asset's places, and fees in [0, 1).
    pub fn validate(&self) -> Result<(), CatalogError> {
        let fail = |what: String| Err(CatalogError(what));
        for (id, a) in &self.algorithms {
            if *id != a.id || !self.assets.contains_key(&a.coin) {
                return fail(format!(
                    "algorithm {id}: id mismatch or unknown coin {}",
                    a.coin
                ));
            }
        }
        for (id, m) in &self.markets {
            let Some(asset) = self.assets.get(&m.quote_asset) else {
                return fail(format!("market {id}: unknown asset {}", m.quote_asset));
            };
            if !self.algorithms.contains_key(&m.algorithm) {
                return fail(format!("market {id}: unknown algorithm {}", m.algorithm));
            }
            if *id != m.id
                || m.id != format!("{}-{}d", m.algorithm, m.tenor_days)
                || m.tenor_days == 0
            {
                return fail(format!(
                    "market {id}: must be called <algorithm>-<days>d with days > 0"
                ));
            }
            if m.tick_size <= Decimal::ZERO || m.tick_size.scale() > asset.decimals {
                return fail(format!(
                    "market {id}: tick must be positive within {} places",
                    asset.decimals
                ));
            }
            if m.hash_rate_step_hs == 0 || m.min_hash_rate_hs % m.hash_rate_step_hs != 0 {
                return fail(format!(
                    "market {id}: step must be positive and divide the minimum"
                ));
            }
            let fee_ok = |f: Decimal| f >= Decimal::ZERO && f < Decimal::ONE;
            if !fee_ok(m.buyer_fee) || !fee_ok(m.seller_fee) {
                return fail(format!("market {id}: fees must be in [0, 1)"));
            }
        }
        Ok(())
    }
}

/// The default contract lengths, in days.
pub const DEFAULT_TENORS_DAYS: [u32; 6] = [1, 7, 30, 90, 180, 365];

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).expect("a literal decimal")
}

impl Default for Catalog {
    /// sha256/BTC in TH/s, scrypt/LTC GH/s, kawpow/RVN MH/s, randomx/XMR kH/s,
    /// etchash/ETC GH/s, each on every default tenor; fees 3% buyer, 2% seller.
    fn default() -> Catalog {
        let algorithms = [
            ("sha256", Unit::Th, "BTC"),
            ("scrypt", Unit::Gh, "LTC"),
            ("kawpow", Unit::Mh, "RVN"),
            ("randomx", Unit::Kh, "XMR"),
            ("etchash", Unit::Gh, "ETC"),
        ];
        let assets = [
            ("BTC", 8, "0.001", "0.0001"),
            ("LTC", 8, "0.1", "0.001"),
            ("RVN", 8, "100", "1"),
            ("XMR", 12, "0.1", "0.0001"),
            ("ETC", 8, "0.1", "0.001"),
        ];
        let mut catalog = Catalog {
            algorithms: BTreeMap::new(),
            assets: BTreeMap::new(),
            markets: BTreeMap::new(),
        };
        for (id, decimals, min, fee) in assets {
            let asset = Asset {
                id: id.into(),
                decimals,
                withdrawal_min: d(min),
                withdrawal_fee: d(fee),
            };
            catalog.assets.insert(id.into(), asset);
        }
        for (id, unit, coin) in algorithms {
            catalog.algorithms.insert(
                id.into(),
                Algorithm {
                    id: id.into(),
                    unit,
                    coin: coin.into(),
                },
            );
            let tick = Decimal::new(1, catalog.assets[coin].decimals);
            for tenor_days in DEFAULT_TENORS_DAYS {
                let market = Market {
                    id: format!("{id}-{tenor_days}d"),
                    algorithm: id.into(),
                    tenor_days,
                    quote_asset: coin.into(),
                    tick_size: tick,
                    min_hash_rate_hs: unit.hs(),
                    hash_rate_step_hs: unit.hs(),
                    buyer_fee: d("0.03"),
                    seller_fee: d("0.02"),
                };
                catalog.markets.insert(market.id.clone(), market);
            }
        }
        catalog
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_cover_five_algorithms_on_six_tenors() {
        let c = Catalog::default();
        assert_eq!(c.algorithms.len(), 5);
        assert_eq!(c.markets.len(), 30);
        assert_eq!(c.algorithms["sha256"].unit, Unit::Th);
        assert_eq!(c.markets["sha256-30d"].quote_asset, "BTC");
        assert_eq!(c.markets["randomx-365d"].tick_size, d("0.000000000001"));
    }

    #[test]
    fn the_default_catalog_is_valid_and_broken_ones_are_named() {
        let c = Catalog::default();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.tenors_days(), DEFAULT_TENORS_DAYS.to_vec());
        let mut bad = c.clone();
        bad.markets.get_mut("sha256-30d").unwrap().tick_size = d("0.000000001");
        assert!(bad.validate().unwrap_err().0.contains("sha256-30d"));
        let mut bad = c.clone();
        bad.markets.get_mut("sha256-7d").unwrap().buyer_fee = d("1.5");
        assert!(bad.validate().is_err());
        let mut bad = c.clone();
        bad.markets.get_mut("scrypt-1d").unwrap().hash_rate_step_hs = 0;
        assert!(bad.validate().is_err());
        let mut bad = c;
        bad.assets.remove("LTC");
        assert!(bad.validate().is_err());
    }

    #[test]
    fn fees_round_down_in_one_place() {
        let c = Catalog::default();
        let (m, btc) = (&c.markets["sha256-30d"], &c.assets["BTC"]);
        assert_eq!(m.cost(btc, d("40"), d("0.0000005")), Some(d("0.0006")));
        assert_eq!(m.buyer_fee_on(btc, d("0.0006")), Some(d("0.000018")));
        // 2% of 0.00000049 = 0.0000000098 → 0.00000000 (down): the seller keeps it all.
        assert_eq!(m.seller_fee_on(btc, d("0.00000049")), Some(d("0")));
        assert_eq!(m.seller_fee_on(btc, d("0.0006")), Some(d("0.000012")));
        assert_eq!(
            m.maintenance(btc, d("10"), d("0.0000001")),
            Some(d("0.00003"))
        );
        assert_eq!(m.cost(btc, Decimal::MAX, Decimal::MAX), None);
    }

    #[test]
    fn amounts_keep_the_asset_places() {
        let btc = &Catalog::default().assets["BTC"];
        assert_eq!(btc.parse_amount("0.00050000").unwrap(), d("0.0005"));
        assert_eq!(
            btc.parse_amount("0.000000001"),
            Err(AmountError::TooPrecise { decimals: 8 })
        );
        assert_eq!(btc.parse_amount("1e5"), Err(AmountError::Malformed));
        assert_eq!(btc.parse_amount(" 1"), Err(AmountError::Malformed));
        assert_eq!(btc.parse_amount("1-2"), Err(AmountError::Malformed));
        assert_eq!(btc.format(d("0.0005")), "0.00050000");
        assert_eq!(btc.format(d("0.123456789")), "0.12345678", "rounded down");
    }

    #[test]
    fn prices_and_hash_rates_follow_the_market_rules() {
        let c = Catalog::default();
        let (m, btc) = (&c.markets["sha256-30d"], &c.assets["BTC"]);
        assert_eq!(m.check_price(btc, "0.00000055").unwrap(), d("0.00000055"));
        assert_eq!(m.check_price(btc, "0"), Err(AmountError::NotPositive));
        assert_eq!(
            m.check_price(btc, "-0.00000055"),
            Err(AmountError::NotPositive)
        );
        assert_eq!(
            m.check_price(btc, "0.000000555"),
            Err(AmountError::TooPrecise { decimals: 8 })
        );
        let th = HashRate::parse("120 TH/s").unwrap();
        assert!(m.check_hash_rate(th, Unit::Th).is_ok());
        let half = HashRate::parse("0.5 TH/s").unwrap();
        assert!(matches!(
            m.check_hash_rate(half, Unit::Th),
            Err(RuleError::BelowMinimum(_))
        ));
        let odd = HashRate::parse("1.5 TH/s").unwrap();
        assert!(matches!(
            m.check_hash_rate(odd, Unit::Th),
            Err(RuleError::OffStep(_))
        ));
    }
}
