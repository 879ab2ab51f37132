//! The order book as the sequencer uses it: price-time priority, partial fills,
//! IOC/FOK, post-only, and self-trade prevention (cancel the incoming remainder) —
//! the HM-3 engine (`hashmarket-matching`) behind the sequencer's vocabulary.
//! Integers only: prices in ticks, quantities in lots. Deterministic: the same
//! commands give the same events.

use hashmarket_matching::{
    BookConfig, CancelReason, Command, Event, EventKind, OrderBook, PlaceOrder, RejectReason,
    Side as EngineSide, TimeInForce as EngineTif,
};

use crate::command::{Side, TimeInForce};

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookEvent {
    /// The taker traded with a resting maker at the maker's price.
    Fill {
        /// The resting order.
        maker: u64,
        /// The incoming order.
        taker: u64,
        /// The maker's price.
        price_ticks: u64,
        /// How much.
        qty_lots: u64,
    },
    /// An order stopped resting (or never rested) with `remaining_lots` unfilled.
    Done {
        /// The order.
        order: u64,
        /// Why.
        reason: DoneReason,
        /// Unfilled quantity given up.
        remaining_lots: u64,
    },
    /// The command was refused and changed nothing.
    Rejected {
        /// The order.
        order: u64,
        /// Why, for people.
        reason: String,
    },
}

impl BookEvent {
    /// The reason, if this is a rejection.
    pub fn rejection(&self) -> Option<String> {
        match self {
            BookEvent::Rejected { reason, .. } => Some(reason.clone()),
            _ => None,
        }
    }
}

/// Why an order stopped resting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoneReason {
    /// Its owner cancelled it.
    Cancelled,
    /// IOC/FOK remainder.
    Expired,
    /// It would have traded with its own owner's order.
    SelfTrade,
}

/// One aggregated price level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    /// Price in ticks.
    pub price_ticks: u64,
    /// Total quantity resting.
    pub qty_lots: u64,
    /// Orders resting.
    pub orders: u32,
}

/// The book's aggregated depth, best first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Depth {
    /// The book's sequence (the last engine id assigned).
    pub sequence: u64,
    /// Bids, highest first.
    pub bids: Vec<Level>,
    /// Asks, lowest first.
    pub asks: Vec<Level>,
}

/// A price-time order book: the HM-3 matching engine
/// ([`hashmarket_matching::OrderBook`]) behind the sequencer's vocabulary. The
/// engine's default self-trade prevention (cancel the incoming remainder) is the
/// marketplace's rule.
#[derive(Debug)]
pub struct Book {
    engine: OrderBook,
    /// Reused for every command, so matching allocates nothing per order.
    scratch: Vec<Event>,
}

impl Default for Book {
    fn default() -> Self {
        Book::new()
    }
}

fn engine_side(side: Side) -> EngineSide {
    match side {
        Side::Buy => EngineSide::Buy,
        Side::Sell => EngineSide::Sell,
    }
}

fn engine_tif(tif: TimeInForce) -> EngineTif {
    match tif {
        TimeInForce::Gtc => EngineTif::Gtc,
        TimeInForce::Ioc => EngineTif::Ioc,
        TimeInForce::Fok => EngineTif::Fok,
    }
}

fn reason_text(reason: RejectReason) -> &'static str {
    match reason {
        RejectReason::PostOnlyWouldCross => "post-only order would take liquidity",
        RejectReason::PostOnlyNeedsGtc => "post-only orders must be good-till-cancelled",
        RejectReason::FokCannotFill => "fill-or-kill order cannot fill in full",
        RejectReason::UnknownOrder => "unknown order",
        RejectReason::DuplicateOrderId => "duplicate order id",
        RejectReason::ZeroQty | RejectReason::ZeroPrice => "zero quantity or price",
        RejectReason::QtyOverflow => "quantity too large",
        RejectReason::BookFull => "the book is full",
    }
}

impl Book {
    /// An empty book.
    pub fn new() -> Book {
        Book::with_capacity(BookConfig::default().capacity_orders)
    }

    /// An empty book with room for `orders` resting orders (recovery knows how
    /// many it will restore).
    pub fn with_capacity(orders: usize) -> Book {
        Book {
            engine: OrderBook::new(BookConfig {
                capacity_orders: orders,
                ..BookConfig::default()
            }),
            scratch: Vec::with_capacity(64),
        }
    }

    /// Puts an order back as it rested (recovery, in the original time order).
    /// A resting book never crosses, so this only rests it.
    pub fn restore(&mut self, id: u64, owner: u64, side: Side, price_ticks: u64, qty_lots: u64) {
        if qty_lots == 0 {
            return;
        }
        let mut events = Vec::new();
        self.place(
            id,
            owner,
            side,
            price_ticks,
            qty_lots,
            TimeInForce::Gtc,
            false,
            &mut events,
        );
        assert!(
            events.is_empty(),
            "a recovered order traded or was refused: {events:?}"
        );
    }

    /// Places an order and matches it; events are appended to `events`.
    #[allow(clippy::too_many_arguments)]
    pub fn place(
        &mut self,
        id: u64,
        owner: u64,
        side: Side,
        price_ticks: u64,
        qty_lots: u64,
        tif: TimeInForce,
        post_only: bool,
        events: &mut Vec<BookEvent>,
    ) {
        let command = Command::Place(PlaceOrder {
            order_id: id,
            owner_id: owner,
            side: engine_side(side),
            price_ticks,
            qty_lots,
            time_in_force: engine_tif(tif),
            post_only,
        });
        self.run(&command, events);
    }

    /// Cancels a resting order.
    pub fn cancel(&mut self, id: u64, events: &mut Vec<BookEvent>) {
        self.run(&Command::Cancel { order_id: id }, events);
    }

    /// Runs one engine command and translates its events.
    fn run(&mut self, command: &Command, events: &mut Vec<BookEvent>) {
        self.scratch.clear();
        self.engine.apply(command, &mut self.scratch);
        for event in &self.scratch {
            let translated = match event.kind {
                EventKind::Fill {
                    maker_order_id,
                    taker_order_id,
                    price_ticks,
                    qty_lots,
                    ..
                } => BookEvent::Fill {
                    maker: maker_order_id,
                    taker: taker_order_id,
                    price_ticks,
                    qty_lots,
                },
                EventKind::Cancelled {
                    order_id,
                    remaining_lots,
                    reason,
                } => BookEvent::Done {
                    order: order_id,
                    reason: match reason {
                        CancelReason::UserRequest => DoneReason::Cancelled,
                        CancelReason::SelfTradePrevention => DoneReason::SelfTrade,
                    },
                    remaining_lots,
                },
                EventKind::Expired {
                    order_id,
                    remaining_lots,
                } => BookEvent::Done {
                    order: order_id,
                    reason: DoneReason::Expired,
                    remaining_lots,
                },
                EventKind::Rejected { order_id, reason } => BookEvent::Rejected {
                    order: order_id,
                    reason: reason_text(reason).to_string(),
                },
                EventKind::Accepted { .. } | EventKind::Amended { .. } => continue,
            };
            events.push(translated);
        }
    }

    /// Aggregated depth, `levels` per side, best first.
    pub fn depth(&self, levels: usize, sequence: u64) -> Depth {
        let side = |side: EngineSide| {
            let mut out = Vec::with_capacity(levels.min(1000));
            self.engine.depth(side, levels, &mut out);
            out.into_iter()
                .map(|l| Level {
                    price_ticks: l.price_ticks,
                    qty_lots: l.qty_lots,
                    orders: l.order_count,
                })
                .collect()
        };
        Depth {
            sequence,
            bids: side(EngineSide::Buy),
            asks: side(EngineSide::Sell),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(
        book: &mut Book,
        id: u64,
        owner: u64,
        side: Side,
        price: u64,
        qty: u64,
        tif: TimeInForce,
    ) -> Vec<BookEvent> {
        let mut events = Vec::new();
        book.place(id, owner, side, price, qty, tif, false, &mut events);
        events
    }

    #[test]
    fn fills_at_the_resting_price_in_time_order() {
        let mut book = Book::new();
        place(&mut book, 1, 1, Side::Sell, 50, 2, TimeInForce::Gtc);
        place(&mut book, 2, 2, Side::Sell, 50, 2, TimeInForce::Gtc);
        place(&mut book, 3, 3, Side::Sell, 49, 1, TimeInForce::Gtc);
        let events = place(&mut book, 4, 9, Side::Buy, 55, 4, TimeInForce::Gtc);
        assert_eq!(
            events,
            vec![
                BookEvent::Fill {
                    maker: 3,
                    taker: 4,
                    price_ticks: 49,
                    qty_lots: 1
                },
                BookEvent::Fill {
                    maker: 1,
                    taker: 4,
                    price_ticks: 50,
                    qty_lots: 2
                },
                BookEvent::Fill {
                    maker: 2,
                    taker: 4,
                    price_ticks: 50,
                    qty_lots: 1
                },
            ]
        );
        assert_eq!(
            book.depth(5, 4).asks,
            vec![Level {
                price_ticks: 50,
                qty_lots: 1,
                orders: 1
            }]
        );
        assert!(book.depth(5, 4).bids.is_empty());
    }

    #[test]
    fn ioc_expires_and_fok_rejects_what_cannot_fill() {
        let mut book = Book::new();
        place(&mut book, 1, 1, Side::Sell, 50, 2, TimeInForce::Gtc);
        let fok = place(&mut book, 2, 2, Side::Buy, 50, 3, TimeInForce::Fok);
        assert!(matches!(fok[0], BookEvent::Rejected { .. }));
        let ioc = place(&mut book, 3, 2, Side::Buy, 50, 3, TimeInForce::Ioc);
        assert_eq!(
            ioc[1],
            BookEvent::Done {
                order: 3,
                reason: DoneReason::Expired,
                remaining_lots: 1
            }
        );
        assert!(book.depth(5, 3).bids.is_empty());
    }

    #[test]
    fn post_only_and_self_trade() {
        let mut book = Book::new();
        place(&mut book, 1, 1, Side::Sell, 50, 2, TimeInForce::Gtc);
        let mut events = Vec::new();
        book.place(2, 2, Side::Buy, 50, 1, TimeInForce::Gtc, true, &mut events);
        assert!(matches!(events[0], BookEvent::Rejected { .. }));
        let own = place(&mut book, 3, 1, Side::Buy, 50, 1, TimeInForce::Gtc);
        assert_eq!(
            own,
            vec![BookEvent::Done {
                order: 3,
                reason: DoneReason::SelfTrade,
                remaining_lots: 1
            }]
        );
        assert_eq!(
            book.depth(5, 3).asks[0].qty_lots,
            2,
            "the resting order is untouched"
        );
    }

    #[test]
    fn cancel_removes_and_reports_the_remainder() {
        let mut book = Book::new();
        place(&mut book, 1, 1, Side::Buy, 40, 5, TimeInForce::Gtc);
        place(&mut book, 2, 2, Side::Sell, 40, 2, TimeInForce::Gtc);
        let mut events = Vec::new();
        book.cancel(1, &mut events);
        assert_eq!(
            events,
            vec![BookEvent::Done {
                order: 1,
                reason: DoneReason::Cancelled,
                remaining_lots: 3
            }]
        );
        let mut events = Vec::new();
        book.cancel(1, &mut events);
        assert!(matches!(events[0], BookEvent::Rejected { .. }));
    }
}
