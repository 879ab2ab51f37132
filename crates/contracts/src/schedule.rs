//! Pro-rata schedules: a contract's cost split across accrual periods and by
//! delivery, so that the parts always add up to the whole exactly.
//!
//! Amounts are integers of the asset's smallest unit (satoshis for BTC). The share
//! due by time `t` is the *cumulative* floor `⌊cost × elapsed(t) / length⌋`; each
//! period's part is the difference of two cumulative values. Rounding is therefore
//! carried forward — a period that rounds down leaves its remainder to the next —
//! and the last period ends at exactly `cost`: nothing is lost, nothing invented.
//! A period's due part then splits into released (delivered) and refundable
//! (undelivered) by the delivered ratio, the refundable part taking the remainder.

/// A cost spread evenly over `[start_secs, end_secs)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProRata {
    cost_minor: i128,
    start_secs: i64,
    end_secs: i64,
}

/// One accrual period's share of a contract's cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodDue {
    /// Period start (clamped to the contract's start).
    pub from_secs: i64,
    /// Period end (clamped to the contract's end).
    pub to_secs: i64,
    /// The cost due for it, in minor units.
    pub due_minor: i128,
}

impl ProRata {
    /// A schedule for `cost_minor` over `[start_secs, end_secs)`; `None` if the
    /// interval is empty or the cost negative.
    pub fn new(cost_minor: i128, start_secs: i64, end_secs: i64) -> Option<ProRata> {
        (end_secs > start_secs && cost_minor >= 0).then_some(ProRata {
            cost_minor,
            start_secs,
            end_secs,
        })
    }

    /// Cost due from the start up to `t_secs` (cumulative, floored).
    pub fn due_until(&self, t_secs: i64) -> i128 {
        let elapsed = (t_secs.clamp(self.start_secs, self.end_secs) - self.start_secs) as i128;
        let length = (self.end_secs - self.start_secs) as i128;
        // cost ≤ 10^28-ish minor units and elapsed ≤ 2^63: the product fits i128 for
        // every real cost (a BTC cost ≤ 21e14 sat × 1e10 s ≈ 2e25).
        self.cost_minor * elapsed / length
    }

    /// The periods of `period_secs` (aligned to the Unix epoch) that overlap the
    /// contract, each with its part of the cost; partial first and last periods are
    /// clamped. The parts sum to the cost exactly.
    pub fn periods(&self, period_secs: i64) -> impl Iterator<Item = PeriodDue> + '_ {
        assert!(period_secs > 0, "a period has a positive length");
        let first = self.start_secs.div_euclid(period_secs) * period_secs;
        let mut from = self.start_secs;
        let mut boundary = first;
        std::iter::from_fn(move || {
            if from >= self.end_secs {
                return None;
            }
            boundary += period_secs;
            let to = boundary.min(self.end_secs);
            let due = self.due_until(to) - self.due_until(from);
            let part = PeriodDue {
                from_secs: from,
                to_secs: to,
                due_minor: due,
            };
            from = to;
            Some(part)
        })
    }
}

/// Splits a period's due part by a delivered ratio `delivered / contracted` (both
/// hash rates, delivered capped at contracted): `(released, refundable)`, summing to
/// `due_minor` exactly. `None` if `contracted` is zero.
pub fn split_by_delivery(
    due_minor: i128,
    delivered: u128,
    contracted: u128,
) -> Option<(i128, i128)> {
    if contracted == 0 || due_minor < 0 {
        return None;
    }
    let delivered = delivered.min(contracted);
    let released = (due_minor as u128).checked_mul(delivered)? / contracted;
    let released = released as i128;
    Some((released, due_minor - released))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_even_split_with_carry() {
        // 10 satoshis over 3 hours, hourly: 3, 3, 4 — cumulative floors 3, 6, 10.
        let s = ProRata::new(10, 0, 3 * 3600).unwrap();
        let parts: Vec<i128> = s.periods(3600).map(|p| p.due_minor).collect();
        assert_eq!(parts, vec![3, 3, 4]);
    }

    #[test]
    fn partial_first_and_last_periods_are_clamped() {
        let s = ProRata::new(1_000, 1800, 1800 + 2 * 3600).unwrap();
        let parts: Vec<PeriodDue> = s.periods(3600).collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            (parts[0].from_secs, parts[0].to_secs, parts[0].due_minor),
            (1800, 3600, 250)
        );
        assert_eq!(
            (parts[2].from_secs, parts[2].to_secs, parts[2].due_minor),
            (7200, 9000, 250)
        );
    }

    #[test]
    fn delivery_splits_exactly() {
        assert_eq!(split_by_delivery(100, 1, 3), Some((33, 67)));
        assert_eq!(
            split_by_delivery(100, 5, 3),
            Some((100, 0)),
            "capped at contracted"
        );
        assert_eq!(split_by_delivery(100, 0, 3), Some((0, 100)));
        assert_eq!(split_by_delivery(100, 1, 0), None);
    }

    proptest! {
        #[test]
        fn parts_always_sum_to_the_whole(
            cost in 0i128..2_100_000_000_000_000,
            start in -1_000_000i64..1_000_000_000,
            length in 1i64..40_000_000,
            period in 1i64..2_000_000,
            delivered in 0u128..1_000_000_000_000_000,
            contracted in 1u128..1_000_000_000_000_000,
        ) {
            let s = ProRata::new(cost, start, start + length).unwrap();
            let mut due_total = 0;
            let mut released_total = 0;
            let mut refund_total = 0;
            for (i, part) in s.periods(period).enumerate() {
                prop_assert!(part.due_minor >= 0);
                let (released, refund) = split_by_delivery(part.due_minor, delivered, contracted).unwrap();
                prop_assert!(released >= 0 && refund >= 0);
                prop_assert_eq!(released + refund, part.due_minor);
                due_total += part.due_minor;
                released_total += released;
                refund_total += refund;
                prop_assert!(i < 10_000_000);
            }
            prop_assert_eq!(due_total, cost);
            prop_assert_eq!(released_total + refund_total, cost);
        }
    }
}
