//! The accrual service: runs [`crate::rules`] over the database, page by page.
//!
//! For every active contract it accrues each whole period between where it was
//! accrued up to and `until` (the business clock's now): the rig's delivery that
//! period (time-weighted from its reports) shared among the rig's contracts, the
//! period's hashprice, the contract's due part of its cost. A page of contracts (by
//! default every due contract, read and written in chunks) is one transaction —
//! its `accruals` rows (primary key (contract, period): a second run, or a crashed
//! one re-run, cannot credit twice), the contracts' new totals, and the ledger
//! postings: the page's movements summed per account ([`crate::postings`]), under
//! one reference that its accrual rows also carry. They commit together or not at
//! all.
//!
//! A period whose delivery or hashprice data is missing waits; once `until` is a
//! grace period past its end it counts as not delivered (the buyer gets that part
//! of the cost back at the end) — never silently zero while data may still come.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use hashmarket_contracts::schedule::ProRata;
use hashmarket_contracts::Catalog;
use hashmarket_market::batch::Batch;
use hashmarket_market::notices::Notices;
use hashmarket_store::market::ContractRow;
use hashmarket_store::payouts::{
    AccrualRow, AccruingContract, ContractProgress, RigContract, ACCRUAL_POSTING_PREFIX,
    ACCRUAL_START,
};
use hashmarket_store::{Store, StoreError};

use crate::postings::{ContractAccounts, Postings};
use crate::rules::{self, ContractTerms, Rates, Segment};

/// How accrual runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccrualConfig {
    /// Length of an accrual period (aligned to the Unix epoch).
    pub period_secs: i64,
    /// How long past a period's end missing data is waited for.
    pub grace_secs: i64,
    /// Contracts per transaction at most (a transaction also ends after the chunk
    /// that takes its summed postings past [`MAX_POSTINGS`]).
    pub page_contracts: u32,
    /// Transfers posted into memory before they are written into the
    /// transaction (the journal is written in slices of this many).
    pub post_slice_transfers: usize,
}

impl Default for AccrualConfig {
    fn default() -> Self {
        AccrualConfig {
            period_secs: 3600,
            grace_secs: 6 * 3600,
            page_contracts: MAX_PAGE_CONTRACTS,
            post_slice_transfers: 50_000,
        }
    }
}

/// The most contracts one accrual transaction covers.
pub const MAX_PAGE_CONTRACTS: u32 = 1_000_000;

/// Contracts read, accrued and written into the transaction at a time: what is
/// held in memory per contract.
const CHUNK_CONTRACTS: u32 = 5_000;

/// A transaction ends after the chunk that takes its summed postings (distinct
/// (kind, account pair)s) past this many: the bound on its memory whatever the
/// spread of buyers and sellers.
pub const MAX_POSTINGS: usize = 500_000;

/// What a market's contracts accrue with.
#[derive(Debug, Clone)]
pub struct MarketRates {
    /// Algorithm id (hashprices are per algorithm).
    pub algorithm: String,
    /// H/s per display unit (hashprices are per display unit per day).
    pub unit_hs: u128,
    /// Decimal places of the market's asset.
    pub decimals: u32,
    /// Seller fee, a fraction.
    pub seller_fee: Decimal,
}

/// Every market's rates, from the catalog.
pub fn market_rates(catalog: &Catalog) -> BTreeMap<String, MarketRates> {
    catalog
        .markets
        .values()
        .filter_map(|m| {
            let algorithm = catalog.algorithms.get(&m.algorithm)?;
            let asset = catalog.assets.get(&m.quote_asset)?;
            Some((
                m.id.clone(),
                MarketRates {
                    algorithm: m.algorithm.clone(),
                    unit_hs: algorithm.unit.hs(),
                    decimals: asset.decimals,
                    seller_fee: m.seller_fee,
                },
            ))
        })
        .collect()
}

/// Why accrual stopped.
#[derive(Debug, thiserror::Error)]
pub enum AccrualError {
    /// The database failed (the page in progress rolled back; re-run to continue).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A contract of a market the catalog no longer has.
    #[error("contract {contract} is in market {market}, which the catalog does not list")]
    UnknownMarket {
        /// The contract.
        contract: Uuid,
        /// Its market.
        market: String,
    },
    /// An amount too large for exact integer arithmetic.
    #[error("an amount of contract {0} does not fit exact arithmetic")]
    Overflow(Uuid),
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccrualReport {
    /// (contract, period) pairs accrued.
    pub periods: u64,
    /// Contracts that reached their end.
    pub completed: u64,
    /// Contracts left waiting for delivery or hashprice data.
    pub waiting: u64,
    /// Contracts looked at.
    pub contracts: u64,
}

fn to_minor(amount: Decimal, decimals: u32) -> Option<i128> {
    let scaled = amount.checked_mul(Decimal::from(10u64.checked_pow(decimals)?))?;
    scaled
        .trunc()
        .mantissa()
        .checked_div(10i128.pow(scaled.trunc().scale()))
}

fn from_minor(minor: i128, decimals: u32) -> Decimal {
    Decimal::from_i128_with_scale(minor, decimals)
}

fn secs(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

fn time(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0)
        .single()
        .expect("a period boundary is a valid time")
}

/// A price per display unit per day → minor units per H/s per day × RATE_SCALE.
fn scaled_rate(price: Decimal, decimals: u32, unit_hs: u128) -> Option<i128> {
    let mantissa = price.mantissa();
    let exponent = (decimals + 18).checked_sub(price.scale())?;
    let minor_scaled = mantissa.checked_mul(10i128.checked_pow(exponent)?)?;
    minor_scaled.checked_div(i128::try_from(unit_hs).ok()?)
}

/// The data one page needs, read before its transaction.
struct PageData {
    deliveries: BTreeMap<Uuid, Vec<Segment>>,
    rig_contracts: BTreeMap<Uuid, Vec<RigContract>>,
    hashprices: BTreeMap<String, Vec<Segment>>,
}

async fn page_data(
    store: &dyn Store,
    page: &[AccruingContract],
    rates: &BTreeMap<String, MarketRates>,
    until: DateTime<Utc>,
) -> Result<PageData, AccrualError> {
    let rigs: Vec<Uuid> = page
        .iter()
        .map(|c| c.contract.rig_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let from = page
        .iter()
        .map(|c| c.accrued_until.unwrap_or(c.contract.starts_at))
        .min()
        .unwrap_or(until);
    let to = until;
    let mut deliveries: BTreeMap<Uuid, Vec<Segment>> = BTreeMap::new();
    for d in store.deliveries(&rigs, from, to).await? {
        deliveries.entry(d.rig_id).or_default().push(Segment {
            from_secs: secs(d.from_at),
            to_secs: secs(d.to_at),
            value: i128::from(d.hash_rate_hs),
        });
    }
    let mut rig_contracts: BTreeMap<Uuid, Vec<RigContract>> = BTreeMap::new();
    for c in store.rig_contracts(&rigs, from, to).await? {
        rig_contracts.entry(c.rig_id).or_default().push(c);
    }
    let mut hashprices: BTreeMap<String, Vec<Segment>> = BTreeMap::new();
    let markets: BTreeSet<&str> = page.iter().map(|c| c.contract.market.as_str()).collect();
    for market in markets {
        let Some(rate) = rates.get(market) else {
            continue;
        };
        let key = format!("{}/{}", rate.algorithm, rate.decimals);
        if hashprices.contains_key(&key) {
            continue;
        }
        let mut segments = Vec::new();
        for h in store.hashprices(&rate.algorithm, from, to).await? {
            if let Some(value) = scaled_rate(h.price, rate.decimals, rate.unit_hs) {
                segments.push(Segment {
                    from_secs: secs(h.from_at),
                    to_secs: secs(h.to_at),
                    value,
                });
            }
        }
        hashprices.insert(key, segments);
    }
    Ok(PageData {
        deliveries,
        rig_contracts,
        hashprices,
    })
}

/// Accrues every active contract up to `until` (business time); `progress` is
/// told how many contracts each committed transaction covered.
pub async fn accrue_until(
    store: &dyn Store,
    rates: &BTreeMap<String, MarketRates>,
    notices: &Notices,
    until: DateTime<Utc>,
    config: AccrualConfig,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<AccrualReport, AccrualError> {
    assert!(config.period_secs > 0 && config.page_contracts > 0 && config.post_slice_transfers > 0);
    let mut report = AccrualReport::default();
    let mut after = ACCRUAL_START;
    loop {
        let page = accrue_page(
            store,
            rates,
            notices,
            until,
            config,
            &mut after,
            &mut report,
        )
        .await?;
        if page.contracts > 0 {
            progress(page.contracts);
        }
        if page.last {
            return Ok(report);
        }
    }
}

/// What one transaction covered.
struct Page {
    contracts: u64,
    /// No contracts are left after it.
    last: bool,
}

/// One transaction: chunks of contracts after `after` until the page is full,
/// each chunk's accrual rows written as it is done, then the summed postings.
async fn accrue_page(
    store: &dyn Store,
    rates: &BTreeMap<String, MarketRates>,
    notices: &Notices,
    until: DateTime<Utc>,
    config: AccrualConfig,
    after: &mut (Uuid, Uuid),
    report: &mut AccrualReport,
) -> Result<Page, AccrualError> {
    // Lock first, read after: a concurrent run waits here until this one ends,
    // then its reads (fresh statements) see what this one committed.
    let mut batch = Batch::new(store.begin().await?, until, notices.clone());
    batch.lock_accrual().await?;
    let mut postings = Postings::new();
    let reference = format!("{ACCRUAL_POSTING_PREFIX}{}", Uuid::now_v7());
    let mut covered: u64 = 0;
    let last = loop {
        let room = u64::from(config.page_contracts) - covered;
        let limit = u32::try_from(room.min(u64::from(CHUNK_CONTRACTS))).unwrap_or(CHUNK_CONTRACTS);
        let chunk = batch.contracts_to_accrue(until, *after, limit).await?;
        let Some(tail) = chunk.last() else { break true };
        *after = (tail.contract.rig_id, tail.contract.id);
        let short = chunk.len() < limit as usize;
        let data = page_data(store, &chunk, rates, until).await?;
        let context = Context {
            rates,
            data: &data,
            until,
            config,
            reference: &reference,
        };
        for contract in &chunk {
            accrue_contract(&mut batch, &mut postings, contract, &context, report)?;
        }
        batch.flush_accruals().await?;
        covered += chunk.len() as u64;
        report.contracts += chunk.len() as u64;
        if short {
            break true;
        }
        if covered >= u64::from(config.page_contracts) || postings.len() >= MAX_POSTINGS {
            break false;
        }
    };
    batch.lock(&postings.accounts()).await?;
    postings
        .post(&mut batch, &reference, config.post_slice_transfers)
        .await?;
    batch.commit().await?;
    Ok(Page {
        contracts: covered,
        last,
    })
}

/// What every contract of a chunk accrues with.
struct Context<'a> {
    rates: &'a BTreeMap<String, MarketRates>,
    data: &'a PageData,
    until: DateTime<Utc>,
    config: AccrualConfig,
    /// The page's posting reference, also on its accrual rows.
    reference: &'a str,
}

/// Accrues one contract's due periods into the batch.
fn accrue_contract(
    batch: &mut Batch,
    postings: &mut Postings,
    entry: &AccruingContract,
    context: &Context<'_>,
    report: &mut AccrualReport,
) -> Result<(), AccrualError> {
    let Context {
        rates,
        data,
        until,
        config,
        reference,
    } = *context;
    let c = &entry.contract;
    let rate = rates
        .get(&c.market)
        .ok_or_else(|| AccrualError::UnknownMarket {
            contract: c.id,
            market: c.market.clone(),
        })?;
    let overflow = || AccrualError::Overflow(c.id);
    let dec = rate.decimals;
    let terms = ContractTerms {
        cost_minor: to_minor(c.cost, dec).ok_or_else(overflow)?,
        hash_rate_hs: c.hash_rate_hs,
        start_secs: secs(c.starts_at),
        end_secs: secs(c.ends_at),
    };
    let fee_ppm = to_minor(rate.seller_fee, 6).ok_or_else(overflow)?;
    let hashprice = data
        .hashprices
        .get(&format!("{}/{}", rate.algorithm, dec))
        .map(Vec::as_slice)
        .unwrap_or_default();
    let deliveries = data
        .deliveries
        .get(&c.rig_id)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let rig_contracts = data
        .rig_contracts
        .get(&c.rig_id)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let Some(schedule) = ProRata::new(terms.cost_minor, terms.start_secs, terms.end_secs) else {
        return Ok(());
    };
    let resume = secs(entry.accrued_until.unwrap_or(c.starts_at));
    let now = secs(until);
    let mut released = to_minor(c.released_to_seller, dec).ok_or_else(overflow)?;
    let mut refunded = to_minor(c.refunded_to_buyer, dec).ok_or_else(overflow)?;
    let mut revenue_total = to_minor(c.mining_revenue, dec).ok_or_else(overflow)?;
    let mut accrued_until = resume;
    let mut completed = false;
    let accounts = ContractAccounts::new(c.buyer_id, c.seller_id, &c.asset);
    for period in schedule.periods(config.period_secs) {
        if period.to_secs <= resume {
            continue;
        }
        if period.to_secs > now {
            break;
        }
        let delivered = rules::average_over(deliveries, period.from_secs, period.to_secs);
        let price = rules::average_over(hashprice, period.from_secs, period.to_secs);
        let (delivered_hs, price_scaled) = match (delivered, price) {
            (Some(d), Some(p)) => (i64::try_from(d).unwrap_or(i64::MAX), p),
            _ if now < period.to_secs + config.grace_secs => {
                report.waiting += 1;
                break;
            }
            // Past the grace: what was not reported was not delivered.
            _ => (0, 0),
        };
        let sharing: Vec<&RigContract> = rig_contracts
            .iter()
            .filter(|r| secs(r.starts_at) < period.to_secs && secs(r.ends_at) > period.from_secs)
            .collect();
        let hash_rates: Vec<i64> = sharing.iter().map(|r| r.hash_rate_hs).collect();
        let shares = rules::share_delivery(delivered_hs, &hash_rates);
        let share = sharing
            .iter()
            .position(|r| r.contract_id == c.id)
            .map_or(0, |i| shares[i]);
        let accrual = rules::accrue_period(
            &terms,
            period.from_secs,
            period.to_secs,
            share,
            released,
            &Rates {
                hashprice_scaled: price_scaled,
                seller_fee_ppm: fee_ppm,
                maintenance_scaled: 0,
            },
        );
        let m = |minor| from_minor(minor, dec);
        released += accrual.released;
        refunded += accrual.refund;
        revenue_total += accrual.revenue - accrual.maintenance;
        let row = AccrualRow {
            contract_id: c.id,
            period_start: time(period.from_secs),
            period_end: time(period.to_secs),
            delivered_hs: accrual.delivered_hs,
            released: m(accrual.released),
            seller_fee: m(accrual.seller_fee),
            revenue: m(accrual.revenue),
            maintenance: m(accrual.maintenance),
            refunded: m(accrual.refund),
            created_at: until,
            posting: Some(reference.to_string()),
            released_total: Some(m(released)),
            revenue_total: Some(m(revenue_total)),
        };
        postings.add(&accounts, &row);
        batch.add_accrual(row);
        accrued_until = period.to_secs;
        report.periods += 1;
        if period.to_secs >= terms.end_secs {
            completed = true;
            break;
        }
    }
    if !completed {
        // An active contract's progress and totals are its latest accrual row's.
        return Ok(());
    }
    // The contract's money is settled in full: releases + refunds = cost.
    assert_eq!(
        released + refunded,
        terms.cost_minor,
        "contract {} settled unevenly",
        c.id
    );
    report.completed += 1;
    let progress = ContractProgress {
        id: c.id,
        released_to_seller: from_minor(released, dec),
        refunded_to_buyer: from_minor(refunded, dec),
        mining_revenue: from_minor(revenue_total, dec),
        accrued_until: time(accrued_until),
        status: "completed".into(),
    };
    let ended = ContractRow {
        status: progress.status.clone(),
        released_to_seller: progress.released_to_seller,
        refunded_to_buyer: progress.refunded_to_buyer,
        mining_revenue: progress.mining_revenue,
        ..c.clone()
    };
    for email in batch_notices(batch).contract_ended(&ended) {
        batch.add_email(email);
    }
    batch.set_contract_progress(progress);
    Ok(())
}

fn batch_notices(batch: &Batch) -> Notices {
    batch.notices().clone()
}

/// Runs accrual on the business clock every `interval` until the store closes;
/// `until` says what "now" is at each run (the business clock).
pub fn spawn_schedule(
    store: Arc<dyn Store>,
    rates: Arc<BTreeMap<String, MarketRates>>,
    notices: Notices,
    now: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    config: AccrualConfig,
    interval: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        loop {
            tick.tick().await;
            let until = now();
            match accrue_until(&*store, &rates, &notices, until, config, &mut |_| {}).await {
                Ok(report) if report.periods > 0 => {
                    tracing::info!(?report, %until, "accrual run")
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "accrual run failed; retrying next run"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_and_scaled_rates() {
        assert_eq!(to_minor(Decimal::new(30000, 8), 8), Some(30000));
        assert_eq!(to_minor(Decimal::new(123, 2), 8), Some(123_000_000));
        assert_eq!(from_minor(30000, 8), Decimal::new(30000, 8));
        // 0.00000068 BTC per TH/s per day = 68 sat per 1e12 H/s per day.
        let scaled = scaled_rate(Decimal::new(68, 8), 8, 1_000_000_000_000).unwrap();
        assert_eq!(
            rules::earned(1_000_000_000_000, rules::DAY_SECS, scaled),
            68
        );
        assert_eq!(to_minor(Decimal::new(2, 2), 6), Some(20_000));
    }
}
