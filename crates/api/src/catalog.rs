//! The catalog as the HTTP layer uses it: reading client values (hash rates with
//! units, prices, amounts) into exact domain values with field-level problems, and
//! showing domain values in each algorithm's unit and each asset's places.

use std::sync::Arc;

use hashmarket_contracts::{Catalog, HashRate, Unit};
use rust_decimal::Decimal;

use crate::problem::Problem;

/// The catalog, shared by every handler.
#[derive(Debug, Clone)]
pub struct ApiCatalog {
    inner: Arc<Catalog>,
}

impl ApiCatalog {
    /// Wraps a catalog.
    pub fn new(catalog: Catalog) -> ApiCatalog {
        ApiCatalog {
            inner: Arc::new(catalog),
        }
    }

    /// The catalog itself.
    pub fn catalog(&self) -> &Catalog {
        &self.inner
    }

    fn unit(&self, algorithm: &str) -> Unit {
        self.inner
            .algorithms
            .get(algorithm)
            .map(|a| a.unit)
            .unwrap_or(Unit::H)
    }

    /// `hs` shown in the algorithm's unit, e.g. `"120 TH/s"`.
    pub fn format_hash_rate(&self, algorithm: &str, hs: i64) -> String {
        let rate = HashRate::from_hs(u128::try_from(hs).unwrap_or(0)).unwrap_or_default();
        rate.format(self.unit(algorithm))
    }

    /// A rig's capacity: a positive hash rate of a known algorithm, within the
    /// store's bound (9.2 EH/s).
    pub fn parse_capacity(&self, algorithm: &str, text: &str) -> Result<i64, Problem> {
        if !self.inner.algorithms.contains_key(algorithm) {
            return Err(Problem::validation(
                "algorithm",
                "no such algorithm (GET /v1/algorithms)",
            ));
        }
        let rate =
            HashRate::parse(text).map_err(|e| Problem::validation("hash_rate", e.to_string()))?;
        i64::try_from(rate.hs())
            .map_err(|_| Problem::validation("hash_rate", "at most 9.2 EH/s per rig or order"))
    }

    /// An order's hash rate: parsed, at least the market minimum, on its step.
    pub fn parse_order_hash_rate(&self, market: &str, text: &str) -> Result<i64, Problem> {
        let market = self.market(market)?;
        let unit = self.unit(&market.algorithm);
        let rate =
            HashRate::parse(text).map_err(|e| Problem::validation("hash_rate", e.to_string()))?;
        let rate = market
            .check_hash_rate(rate, unit)
            .map_err(|e| Problem::validation("hash_rate", e.to_string()))?;
        i64::try_from(rate.hs())
            .map_err(|_| Problem::validation("hash_rate", "at most 9.2 EH/s per order"))
    }

    /// A price in a market: positive, within the asset's places, on the tick.
    pub fn parse_price(&self, market: &str, text: &str) -> Result<Decimal, Problem> {
        let market = self.market(market)?;
        let asset = self.asset(&market.quote_asset)?;
        market
            .check_price(asset, text)
            .map_err(|e| Problem::validation("price", e.to_string()))
    }

    /// A price shown with the quote asset's places.
    pub fn format_price(&self, market: &str, price: Decimal) -> String {
        match self.inner.markets.get(market) {
            Some(m) => self.format(&m.quote_asset, price),
            None => price.normalize().to_string(),
        }
    }

    /// Every asset id.
    pub fn asset_ids(&self) -> impl Iterator<Item = &str> {
        self.inner.assets.keys().map(String::as_str)
    }

    /// The asset's decimal places (0 for an unknown asset).
    pub fn decimals(&self, asset: &str) -> u32 {
        self.inner.assets.get(asset).map_or(0, |a| a.decimals)
    }

    /// An amount shown with the asset's places (`"0.00050000"`).
    pub fn format(&self, asset: &str, amount: Decimal) -> String {
        match self.inner.assets.get(asset) {
            Some(a) => a.format(amount),
            None => amount.normalize().to_string(),
        }
    }

    /// An amount of `asset` from the field `field` (unknown asset or too many places: 422).
    pub fn parse_amount(&self, asset: &str, text: &str, field: &str) -> Result<Decimal, Problem> {
        let asset = self.asset(asset)?;
        asset
            .parse_amount(text)
            .map_err(|e| Problem::validation(field.to_string(), e.to_string()))
    }

    fn market(&self, id: &str) -> Result<&hashmarket_contracts::Market, Problem> {
        self.inner
            .markets
            .get(id)
            .ok_or_else(|| Problem::validation("market", "no such market (GET /v1/markets)"))
    }

    fn asset(&self, id: &str) -> Result<&hashmarket_contracts::Asset, Problem> {
        self.inner
            .assets
            .get(id)
            .ok_or_else(|| Problem::validation("asset", "no such asset (GET /v1/assets)"))
    }
}
