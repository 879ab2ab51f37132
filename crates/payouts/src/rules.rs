//! The accrual rules, pure: what one accrual period of one contract moves.
//!
//! Integers of the asset's smallest unit (satoshis) throughout; hash rates in H/s.
//! A contract's cost is spread over its life with [`ProRata`] (cumulative floors,
//! so the periods' parts add up to the cost exactly). Each period's part splits by
//! the delivered ratio into *released* (to the seller now) and *refundable* (kept
//! in escrow and returned to the buyer at the end); the refund at the end is
//! exactly `cost − Σ released`, so releases + refunds = cost, always.

use hashmarket_contracts::schedule::{split_by_delivery, ProRata};

/// Seconds per day.
pub const DAY_SECS: i64 = 86_400;

/// A value reported for an interval: a rig's average hash rate (H/s), or a
/// scaled hashprice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Start, seconds since the epoch.
    pub from_secs: i64,
    /// End.
    pub to_secs: i64,
    /// The value over the interval.
    pub value: i128,
}

/// The time-weighted average of non-overlapping `segments` over
/// `[from_secs, to_secs)` (floored); `None` unless they cover all of it — a
/// period with a gap in its data waits for the data.
pub fn average_over(segments: &[Segment], from_secs: i64, to_secs: i64) -> Option<i128> {
    assert!(to_secs > from_secs, "a period has a positive length");
    let mut covered: i64 = 0;
    let mut weighted: i128 = 0;
    for seg in segments {
        let overlap = seg.to_secs.min(to_secs) - seg.from_secs.max(from_secs);
        if overlap > 0 {
            covered += overlap;
            weighted = weighted.saturating_add(seg.value.saturating_mul(i128::from(overlap)));
        }
    }
    (covered >= to_secs - from_secs).then(|| weighted / i128::from(to_secs - from_secs))
}

/// Shares a rig's delivered hash rate among the contracts it serves, pro rata to
/// their hash rates and capped at each (a rig over-delivering gives no one more
/// than they bought). Floors: the shares never add up to more than delivered.
pub fn share_delivery(delivered_hs: i64, contracted_hs: &[i64]) -> Vec<i64> {
    let total: i128 = contracted_hs.iter().map(|&h| i128::from(h.max(0))).sum();
    if total == 0 || delivered_hs <= 0 {
        return vec![0; contracted_hs.len()];
    }
    contracted_hs
        .iter()
        .map(|&h| {
            let h = h.max(0);
            let share = i128::from(delivered_hs) * i128::from(h) / total;
            i64::try_from(share.min(i128::from(h))).unwrap_or(h)
        })
        .collect()
}

/// A contract's terms as accrual needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContractTerms {
    /// Cost in minor units.
    pub cost_minor: i128,
    /// Contracted hash rate, H/s.
    pub hash_rate_hs: i64,
    /// Start, seconds since the epoch.
    pub start_secs: i64,
    /// End.
    pub end_secs: i64,
}

/// What one period of one contract moves, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeriodAccrual {
    /// Period start (clamped to the contract).
    pub from_secs: i64,
    /// Period end (clamped to the contract).
    pub to_secs: i64,
    /// The hash rate credited to this contract for the period, H/s.
    pub delivered_hs: i64,
    /// Escrow → seller.
    pub released: i128,
    /// Seller → operator fees (taken from `released`).
    pub seller_fee: i128,
    /// Operator mining_revenue → buyer.
    pub revenue: i128,
    /// Buyer → operator fees (taken from `revenue`).
    pub maintenance: i128,
    /// Escrow → buyer: only in the contract's last period, everything not released.
    pub refund: i128,
}

/// Rates that turn hash rate into money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    /// Revenue per H/s per day, in minor units, scaled by `RATE_SCALE` (so
    /// sub-satoshi hashprices stay exact enough).
    pub hashprice_scaled: i128,
    /// Seller fee in parts per million.
    pub seller_fee_ppm: i128,
    /// Maintenance per H/s per day, minor units scaled by `RATE_SCALE`.
    pub maintenance_scaled: i128,
}

/// The fixed-point scale of per-H/s-per-day rates (10^18).
pub const RATE_SCALE: i128 = 1_000_000_000_000_000_000;

/// Money earned by `hs` over `secs` at a scaled per-H/s-per-day rate, floored.
pub fn earned(hs: i64, secs: i64, rate_scaled: i128) -> i128 {
    let hs_days_scaled = i128::from(hs) * i128::from(secs);
    // hs ≤ 9.2e18, secs ≤ ~1e8 → product ≤ 1e27; × rate would overflow i128 for
    // big rates, so divide in two steps, each floored.
    let per_day = hs_days_scaled / i128::from(DAY_SECS);
    per_day.saturating_mul(rate_scaled) / RATE_SCALE
}

/// The accrual of one contract for the period `[from_secs, to_secs)` (one of
/// `ProRata::periods`), given the hash rate credited to it and everything it has
/// released before (for the final refund).
pub fn accrue_period(
    terms: &ContractTerms,
    from_secs: i64,
    to_secs: i64,
    delivered_hs: i64,
    released_before: i128,
    rates: &Rates,
) -> PeriodAccrual {
    let schedule = ProRata::new(terms.cost_minor, terms.start_secs, terms.end_secs)
        .expect("a stored contract has a positive length and cost");
    let due = schedule.due_until(to_secs) - schedule.due_until(from_secs);
    let delivered_hs = delivered_hs.clamp(0, terms.hash_rate_hs);
    let (released, _refundable) =
        split_by_delivery(due, delivered_hs as u128, terms.hash_rate_hs.max(1) as u128)
            .expect("a contracted hash rate is positive");
    let seller_fee = released * rates.seller_fee_ppm / 1_000_000;
    let secs = to_secs - from_secs;
    let revenue = earned(delivered_hs, secs, rates.hashprice_scaled);
    let maintenance = earned(delivered_hs, secs, rates.maintenance_scaled).min(revenue);
    let refund = if to_secs >= terms.end_secs {
        terms.cost_minor - released_before - released
    } else {
        0
    };
    let accrual = PeriodAccrual {
        from_secs,
        to_secs,
        delivered_hs,
        released,
        seller_fee,
        revenue,
        maintenance,
        refund,
    };
    accrual.assert_sound(terms, released_before);
    accrual
}

impl PeriodAccrual {
    /// The invariants of one period, asserted in every build: nothing negative,
    /// fees within what they are taken from, never more released than the cost.
    pub fn assert_sound(&self, terms: &ContractTerms, released_before: i128) {
        assert!(
            self.released >= 0 && self.seller_fee >= 0 && self.revenue >= 0,
            "{self:?}"
        );
        assert!(self.seller_fee <= self.released, "{self:?}");
        assert!(
            self.maintenance >= 0 && self.maintenance <= self.revenue,
            "{self:?}"
        );
        assert!(self.refund >= 0, "refund negative: {self:?}");
        assert!(
            released_before + self.released + self.refund <= terms.cost_minor,
            "more than the cost leaves escrow: {self:?} after {released_before}"
        );
    }
}

/// Revenue per H/s per day from network figures (sha256): `(reward + fees per
/// block) × 86400 / (difficulty × 2^32)` — a hash finds a block with probability
/// `1 / (difficulty × 2^32)`. Amounts in minor units; the answer is scaled by
/// [`RATE_SCALE`]. `None` for a zero difficulty or on overflow.
pub fn hashprice_from_network(
    block_reward_minor: i128,
    fees_per_block_minor: i128,
    difficulty: u128,
) -> Option<i128> {
    if difficulty == 0 {
        return None;
    }
    let per_block = block_reward_minor.checked_add(fees_per_block_minor)?;
    let hashes_per_block = difficulty.checked_mul(1u128 << 32)?;
    let numerator = per_block
        .checked_mul(i128::from(DAY_SECS))?
        .checked_mul(RATE_SCALE)?;
    Some(numerator / i128::try_from(hashes_per_block).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HOUR: i64 = 3600;

    fn rates(hashprice_scaled: i128) -> Rates {
        Rates {
            hashprice_scaled,
            seller_fee_ppm: 20_000,
            maintenance_scaled: 0,
        }
    }

    #[test]
    fn averages_are_time_weighted_and_need_full_coverage() {
        let seg = |from_secs, to_secs, value| Segment {
            from_secs,
            to_secs,
            value,
        };
        let reports = [seg(0, 1800, 100), seg(1800, 3600, 50)];
        assert_eq!(average_over(&reports, 0, 3600), Some(75));
        assert_eq!(average_over(&reports[..1], 0, 3600), None);
        assert_eq!(average_over(&reports, 900, 1800), Some(100));
    }

    #[test]
    fn shares_are_pro_rata_and_capped() {
        assert_eq!(share_delivery(150, &[100, 100]), vec![75, 75]);
        assert_eq!(share_delivery(300, &[100, 100]), vec![100, 100]);
        assert_eq!(share_delivery(100, &[100, 50, 50]), vec![50, 25, 25]);
        assert_eq!(share_delivery(0, &[100]), vec![0]);
        assert_eq!(share_delivery(7, &[1, 1, 1]), vec![1, 1, 1]);
        assert_eq!(share_delivery(2, &[1, 1, 1]), vec![0, 0, 0]);
    }

    /// The worked example of docs/payouts.md: block reward 3.125 BTC and 0.25 BTC
    /// of fees per block at difficulty 1e14. A hash finds a block with probability
    /// 1 / (1e14 × 2^32), so one H/s earns 337,500,000 sat × 86,400 / (1e14 × 2^32)
    /// = 6.789e-11 sat a day, i.e. 67.89 sat per TH/s per day.
    #[test]
    fn hashprice_from_network_worked_example() {
        let scaled = hashprice_from_network(312_500_000, 25_000_000, 100_000_000_000_000).unwrap();
        // ⌊337,500,000 × 86,400 × 1e18 / (1e14 × 4,294,967,296)⌋
        assert_eq!(scaled, 67_893_415);
        // 1 TH/s for a day: ⌊1e12 × 67,893,415 / 1e18⌋ = 67 sat; 1 PH/s: 67,893 sat.
        assert_eq!(earned(1_000_000_000_000, DAY_SECS, scaled), 67);
        assert_eq!(earned(1_000_000_000_000_000, DAY_SECS, scaled), 67_893);
        assert_eq!(hashprice_from_network(1, 1, 0), None);
    }

    #[test]
    fn full_partial_and_zero_delivery_over_a_contract() {
        // 30 000 sat over 3 hours at 100 H/s.
        let terms = ContractTerms {
            cost_minor: 30_000,
            hash_rate_hs: 100,
            start_secs: 0,
            end_secs: 3 * HOUR,
        };
        let mut released = 0;
        let mut out = Vec::new();
        for (i, delivered) in [100, 50, 0].into_iter().enumerate() {
            let from = i as i64 * HOUR;
            let a = accrue_period(&terms, from, from + HOUR, delivered, released, &rates(0));
            released += a.released;
            out.push(a);
        }
        assert_eq!(
            out.iter().map(|a| a.released).collect::<Vec<_>>(),
            vec![10_000, 5_000, 0]
        );
        assert_eq!(out[2].refund, 15_000);
        assert_eq!(out[0].seller_fee, 200);
        assert_eq!(released + out[2].refund, terms.cost_minor);
    }

    proptest! {
        /// Whatever the deliveries and periods: releases + the final refund = cost.
        #[test]
        fn releases_and_refund_add_up_to_the_cost(
            cost in 0i128..10_000_000_000,
            hs in 1i64..1_000_000_000_000,
            len_hours in 1i64..2000,
            start_offset in 0i64..3600,
            period in prop::sample::select(vec![600i64, 3600, 86_400]),
            deliveries in prop::collection::vec(0i64..2_000_000_000_000, 1..50),
        ) {
            let terms = ContractTerms { cost_minor: cost, hash_rate_hs: hs, start_secs: start_offset, end_secs: start_offset + len_hours * HOUR };
            let schedule = ProRata::new(cost, terms.start_secs, terms.end_secs).unwrap();
            let mut released = 0;
            let mut refund = 0;
            for (i, p) in schedule.periods(period).enumerate() {
                let delivered = deliveries[i % deliveries.len()];
                let a = accrue_period(&terms, p.from_secs, p.to_secs, delivered, released, &rates(67_880_871_426));
                released += a.released;
                refund += a.refund;
            }
            prop_assert_eq!(released + refund, cost);
        }

        #[test]
        fn shares_never_exceed_delivery_or_caps(delivered in 0i64..1_000_000_000, hs in prop::collection::vec(0i64..1_000_000_000, 1..20)) {
            let shares = share_delivery(delivered, &hs);
            prop_assert!(shares.iter().sum::<i64>() <= delivered);
            for (s, h) in shares.iter().zip(&hs) {
                prop_assert!(*s >= 0 && s <= h);
            }
        }
    }
}
