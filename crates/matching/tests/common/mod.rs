//! Shared test support: command-stream strategies and an event audit that
//! checks quantity conservation.

#![allow(dead_code)]

use std::collections::BTreeMap;

use hashmarket_matching::{
    Command, Event, EventKind, OrderBook, OrderId, PlaceOrder, SelfTradePrevention, Side,
    TimeInForce,
};
use proptest::prelude::*;

/// Quantities: mostly small, sometimes zero or big enough to overflow a level.
pub fn qty_lots() -> impl Strategy<Value = u64> {
    prop_oneof![
        30 => 1..20u64,
        1 => Just(0u64),
        1 => Just(u64::MAX / 2 + 1),
    ]
}

/// Prices: a narrow band so that orders cross often, and sometimes zero.
pub fn price_ticks() -> impl Strategy<Value = u64> {
    prop_oneof![30 => 95..106u64, 1 => Just(0u64), 1 => Just(u64::MAX)]
}

pub fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Buy), Just(Side::Sell)]
}

pub fn time_in_force() -> impl Strategy<Value = TimeInForce> {
    prop_oneof![6 => Just(TimeInForce::Gtc), 2 => Just(TimeInForce::Ioc), 2 => Just(TimeInForce::Fok)]
}

pub fn stp() -> impl Strategy<Value = SelfTradePrevention> {
    prop_oneof![
        Just(SelfTradePrevention::CancelNewest),
        Just(SelfTradePrevention::CancelOldest),
        Just(SelfTradePrevention::CancelBoth),
    ]
}

/// Ids from a small space so that cancels, amends and duplicates hit.
pub fn order_id() -> impl Strategy<Value = OrderId> {
    0..40u64
}

pub fn place() -> impl Strategy<Value = Command> {
    (
        order_id(),
        0..4u64,
        side(),
        price_ticks(),
        qty_lots(),
        time_in_force(),
        prop::bool::weighted(0.15),
    )
        .prop_map(
            |(order_id, owner_id, side, price_ticks, qty_lots, time_in_force, post_only)| {
                Command::Place(PlaceOrder {
                    order_id,
                    owner_id,
                    side,
                    price_ticks,
                    qty_lots,
                    time_in_force,
                    post_only,
                })
            },
        )
}

pub fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        5 => place(),
        2 => order_id().prop_map(|order_id| Command::Cancel { order_id }),
        3 => (order_id(), price_ticks(), qty_lots()).prop_map(|(order_id, new_price_ticks, new_qty_lots)| {
            Command::Amend { order_id, new_price_ticks, new_qty_lots }
        }),
    ]
}

pub fn commands(max_len: usize) -> impl Strategy<Value = Vec<Command>> {
    prop::collection::vec(command(), 0..max_len)
}

/// Per-order quantity accounts, built from events alone.
#[derive(Debug, Default, Clone, Copy)]
pub struct OrderAccount {
    /// Accepted quantity plus amend increases minus amend decreases.
    pub ordered: i128,
    pub filled: i128,
    pub cancelled: i128,
    pub expired: i128,
}

/// Replays events into accounts and checks that no order fills past its size.
#[derive(Debug, Default)]
pub struct Audit {
    pub accounts: BTreeMap<OrderId, OrderAccount>,
}

impl Audit {
    pub fn record(&mut self, events: &[Event]) {
        for event in events {
            self.record_one(&event.kind);
        }
    }

    fn record_one(&mut self, kind: &EventKind) {
        match *kind {
            EventKind::Accepted {
                order_id, qty_lots, ..
            } => self.account(order_id).ordered += i128::from(qty_lots),
            EventKind::Amended {
                order_id,
                qty_lots,
                old_qty_lots,
                ..
            } => self.account(order_id).ordered += i128::from(qty_lots) - i128::from(old_qty_lots),
            EventKind::Fill {
                maker_order_id,
                taker_order_id,
                qty_lots,
                ..
            } => {
                assert!(qty_lots > 0, "empty fill");
                self.account(maker_order_id).filled += i128::from(qty_lots);
                self.account(taker_order_id).filled += i128::from(qty_lots);
                for id in [maker_order_id, taker_order_id] {
                    let account = self.accounts[&id];
                    assert!(
                        account.filled + account.cancelled + account.expired <= account.ordered,
                        "order {id} filled beyond its size"
                    );
                }
            }
            EventKind::Cancelled {
                order_id,
                remaining_lots,
                ..
            } => self.account(order_id).cancelled += i128::from(remaining_lots),
            EventKind::Expired {
                order_id,
                remaining_lots,
            } => self.account(order_id).expired += i128::from(remaining_lots),
            EventKind::Rejected { .. } => {}
        }
    }

    fn account(&mut self, order_id: OrderId) -> &mut OrderAccount {
        self.accounts.entry(order_id).or_default()
    }

    /// ordered = filled + resting + cancelled + expired, per order and in total.
    pub fn check_conservation(&self, book: &OrderBook) {
        let (mut total_ordered, mut total_accounted) = (0i128, 0i128);
        for (&id, account) in &self.accounts {
            let resting = book.order(id).map_or(0, |o| i128::from(o.qty_lots));
            let accounted = account.filled + resting + account.cancelled + account.expired;
            assert_eq!(
                account.ordered, accounted,
                "order {id} does not conserve quantity: {account:?}, resting {resting}"
            );
            total_ordered += account.ordered;
            total_accounted += accounted;
        }
        assert_eq!(total_ordered, total_accounted);
    }
}
