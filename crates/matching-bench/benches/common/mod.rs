//! Adapters that run a [`BenchOp`] on each engine. Every adapter consumes the
//! engine's output (counting fills into a checksum) so nothing is optimised away.
//!
//! Peers lack some features, emulated the same way for every engine that
//! needs it: amend = cancel + place (same id); lobster has no IOC, so IOC =
//! limit + cancel of whatever rested.

#![allow(dead_code)]

use hashmarket_matching::{
    BookConfig, Command, Event, EventKind, EventSink, OrderBook, PlaceOrder, Side, TimeInForce,
};
use hashmarket_matching_bench::BenchOp;

/// An order book under test.
pub trait Engine {
    /// The label in tables.
    const NAME: &'static str;
    /// An empty book.
    fn new_book() -> Self;
    /// Execute one op; returns a number derived from the output (fills seen).
    fn run(&mut self, op: &BenchOp) -> u64;
}

/// An event sink that only counts fills: what a sequencer that forwards
/// events costs, without the cost of storing them.
#[derive(Default)]
pub struct FillCounter(pub u64);

impl EventSink for FillCounter {
    #[inline]
    fn push(&mut self, event: Event) {
        if let EventKind::Fill { qty_lots, .. } = event.kind {
            self.0 = self.0.wrapping_add(qty_lots);
        }
    }
}

/// hashmarket-matching with its native amend.
pub struct Native(OrderBook);

impl Engine for Native {
    const NAME: &'static str = "hashmarket-matching (native amend)";
    fn new_book() -> Self {
        Native(OrderBook::new(BookConfig {
            capacity_orders: 4096,
            ..BookConfig::default()
        }))
    }
    #[inline]
    fn run(&mut self, op: &BenchOp) -> u64 {
        let mut sink = FillCounter::default();
        self.0.apply(&op.to_command(), &mut sink);
        sink.0
    }
}

/// hashmarket-matching with amend emulated as cancel + place, like the peers.
pub struct Emulated(OrderBook);

impl Engine for Emulated {
    const NAME: &'static str = "hashmarket-matching (amend = cancel+place)";
    fn new_book() -> Self {
        Emulated(OrderBook::new(BookConfig {
            capacity_orders: 4096,
            ..BookConfig::default()
        }))
    }
    #[inline]
    fn run(&mut self, op: &BenchOp) -> u64 {
        let mut sink = FillCounter::default();
        match *op {
            BenchOp::Amend {
                order_id,
                owner_id,
                side,
                new_price_ticks,
                new_qty_lots,
            } => {
                self.0.apply(&Command::Cancel { order_id }, &mut sink);
                let place = PlaceOrder {
                    order_id,
                    owner_id,
                    side,
                    price_ticks: new_price_ticks,
                    qty_lots: new_qty_lots,
                    time_in_force: TimeInForce::Gtc,
                    post_only: false,
                };
                self.0.apply(&Command::Place(place), &mut sink);
            }
            _ => {
                self.0.apply(&op.to_command(), &mut sink);
            }
        }
        sink.0
    }
}

/// lobster 0.7.
pub struct Lobster(lobster::OrderBook);

fn lobster_side(side: Side) -> lobster::Side {
    match side {
        Side::Buy => lobster::Side::Bid,
        Side::Sell => lobster::Side::Ask,
    }
}

fn lobster_fills(event: &lobster::OrderEvent) -> (u64, bool) {
    match event {
        lobster::OrderEvent::Filled { filled_qty, .. } => (*filled_qty, false),
        lobster::OrderEvent::PartiallyFilled { filled_qty, .. } => (*filled_qty, true),
        lobster::OrderEvent::Placed { .. } => (0, true),
        _ => (0, false),
    }
}

impl Lobster {
    fn limit(&mut self, order_id: u64, side: Side, price_ticks: u64, qty_lots: u64) -> (u64, bool) {
        let event = self.0.execute(lobster::OrderType::Limit {
            id: u128::from(order_id),
            side: lobster_side(side),
            qty: qty_lots,
            price: price_ticks,
        });
        lobster_fills(&event)
    }

    fn cancel(&mut self, order_id: u64) {
        self.0.execute(lobster::OrderType::Cancel {
            id: u128::from(order_id),
        });
    }
}

impl Engine for Lobster {
    const NAME: &'static str = "lobster 0.7";
    fn new_book() -> Self {
        Lobster(lobster::OrderBook::new(4096, 16, false))
    }
    #[inline]
    fn run(&mut self, op: &BenchOp) -> u64 {
        match *op {
            BenchOp::Place(order) => {
                let (filled, rested) = self.limit(
                    order.order_id,
                    order.side,
                    order.price_ticks,
                    order.qty_lots,
                );
                if rested && order.time_in_force != TimeInForce::Gtc {
                    self.cancel(order.order_id);
                }
                filled
            }
            BenchOp::Cancel { order_id } => {
                self.cancel(order_id);
                0
            }
            BenchOp::Amend {
                order_id,
                side,
                new_price_ticks,
                new_qty_lots,
                ..
            } => {
                self.cancel(order_id);
                self.limit(order_id, side, new_price_ticks, new_qty_lots).0
            }
        }
    }
}

/// orderbook-rs (latest), with `Id::Sequential` ids.
pub struct OrderbookRs(orderbook_rs::OrderBook<()>);

fn obrs_side(side: Side) -> orderbook_rs::Side {
    match side {
        Side::Buy => orderbook_rs::Side::Buy,
        Side::Sell => orderbook_rs::Side::Sell,
    }
}

fn obrs_tif(time_in_force: TimeInForce) -> orderbook_rs::TimeInForce {
    match time_in_force {
        TimeInForce::Gtc => orderbook_rs::TimeInForce::Gtc,
        TimeInForce::Ioc => orderbook_rs::TimeInForce::Ioc,
        TimeInForce::Fok => orderbook_rs::TimeInForce::Fok,
    }
}

impl OrderbookRs {
    fn place(
        &mut self,
        order_id: u64,
        side: Side,
        price_ticks: u64,
        qty_lots: u64,
        time_in_force: TimeInForce,
    ) -> u64 {
        let result = self.0.add_limit_order(
            orderbook_rs::Id::Sequential(order_id),
            u128::from(price_ticks),
            qty_lots,
            obrs_side(side),
            obrs_tif(time_in_force),
            None,
        );
        u64::from(result.is_ok())
    }

    fn cancel(&mut self, order_id: u64) -> u64 {
        u64::from(
            self.0
                .cancel_order(orderbook_rs::Id::Sequential(order_id))
                .is_ok(),
        )
    }
}

impl Engine for OrderbookRs {
    const NAME: &'static str = "orderbook-rs";
    fn new_book() -> Self {
        OrderbookRs(orderbook_rs::OrderBook::new("HASH-30D"))
    }
    #[inline]
    fn run(&mut self, op: &BenchOp) -> u64 {
        match *op {
            BenchOp::Place(order) => self.place(
                order.order_id,
                order.side,
                order.price_ticks,
                order.qty_lots,
                order.time_in_force,
            ),
            BenchOp::Cancel { order_id } => self.cancel(order_id),
            BenchOp::Amend {
                order_id,
                side,
                new_price_ticks,
                new_qty_lots,
                ..
            } => {
                self.cancel(order_id)
                    + self.place(
                        order_id,
                        side,
                        new_price_ticks,
                        new_qty_lots,
                        TimeInForce::Gtc,
                    )
            }
        }
    }
}

/// A fresh book with the workload's warm-up applied.
pub fn warmed<E: Engine>(warmup: &[BenchOp]) -> E {
    let mut engine = E::new_book();
    for op in warmup {
        engine.run(op);
    }
    engine
}
