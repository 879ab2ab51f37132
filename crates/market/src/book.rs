//! The order book as the sequencer uses it: price-time priority, partial fills,
//! IOC/FOK, post-only, and self-trade prevention (cancel the incoming remainder).
//! Integers only: prices in ticks, quantities in lots. Deterministic: the same
//! commands give the same events.

use std::collections::{BTreeMap, HashMap, VecDeque};

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

#[derive(Debug, Clone)]
struct Resting {
    owner: u64,
    side: Side,
    price_ticks: u64,
    qty_lots: u64,
}

/// A price-time order book.
#[derive(Debug, Default)]
pub struct Book {
    bids: BTreeMap<u64, VecDeque<u64>>,
    asks: BTreeMap<u64, VecDeque<u64>>,
    orders: HashMap<u64, Resting>,
}

impl Book {
    /// An empty book.
    pub fn new() -> Book {
        Book::default()
    }

    /// Puts an order back as it rested (recovery): no matching.
    pub fn restore(&mut self, id: u64, owner: u64, side: Side, price_ticks: u64, qty_lots: u64) {
        if qty_lots == 0 {
            return;
        }
        self.rest(
            id,
            Resting {
                owner,
                side,
                price_ticks,
                qty_lots,
            },
        );
    }

    fn rest(&mut self, id: u64, order: Resting) {
        let levels = match order.side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        levels.entry(order.price_ticks).or_default().push_back(id);
        self.orders.insert(id, order);
    }

    /// The best opposite price an incoming order of `side` at `limit` could trade at.
    fn best_crossing(&self, side: Side, limit: u64) -> Option<u64> {
        match side {
            Side::Buy => self.asks.keys().next().copied().filter(|p| *p <= limit),
            Side::Sell => self
                .bids
                .keys()
                .next_back()
                .copied()
                .filter(|p| *p >= limit),
        }
    }

    /// Quantity an incoming order could fill now, up to `wanted` (for FOK).
    fn fillable(&self, side: Side, limit: u64, owner: u64, wanted: u64) -> u64 {
        let levels: Box<dyn Iterator<Item = (&u64, &VecDeque<u64>)>> = match side {
            Side::Buy => Box::new(self.asks.range(..=limit)),
            Side::Sell => Box::new(self.bids.range(limit..).rev()),
        };
        let mut total = 0;
        for (_, queue) in levels {
            for id in queue {
                let resting = &self.orders[id];
                if resting.owner == owner {
                    return total;
                }
                total += resting.qty_lots;
                if total >= wanted {
                    return total;
                }
            }
        }
        total
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
        let reject = |reason: &str| BookEvent::Rejected {
            order: id,
            reason: reason.to_string(),
        };
        if qty_lots == 0 || price_ticks == 0 {
            return events.push(reject("zero quantity or price"));
        }
        if self.orders.contains_key(&id) {
            return events.push(reject("duplicate order id"));
        }
        let crosses = self.best_crossing(side, price_ticks).is_some();
        if post_only && crosses {
            return events.push(reject("post-only order would take liquidity"));
        }
        if tif == TimeInForce::Fok && self.fillable(side, price_ticks, owner, qty_lots) < qty_lots {
            return events.push(reject("fill-or-kill order cannot fill in full"));
        }
        let remaining = self.take(id, owner, side, price_ticks, qty_lots, events);
        if remaining == 0 {
            return;
        }
        if events
            .iter()
            .any(|e| matches!(e, BookEvent::Done { order, .. } if *order == id))
        {
            return;
        }
        match tif {
            TimeInForce::Gtc => self.rest(
                id,
                Resting {
                    owner,
                    side,
                    price_ticks,
                    qty_lots: remaining,
                },
            ),
            TimeInForce::Ioc | TimeInForce::Fok => events.push(BookEvent::Done {
                order: id,
                reason: DoneReason::Expired,
                remaining_lots: remaining,
            }),
        }
        self.assert_uncrossed();
    }

    /// Matches an incoming order against the opposite side; returns what is left.
    fn take(
        &mut self,
        taker: u64,
        owner: u64,
        side: Side,
        limit: u64,
        mut qty: u64,
        events: &mut Vec<BookEvent>,
    ) -> u64 {
        while qty > 0 {
            let Some(price) = self.best_crossing(side, limit) else {
                break;
            };
            let levels = match side {
                Side::Buy => &mut self.asks,
                Side::Sell => &mut self.bids,
            };
            let queue = levels.get_mut(&price).expect("best level exists");
            let maker = *queue.front().expect("levels are never empty");
            let resting = self.orders.get_mut(&maker).expect("queued orders exist");
            if resting.owner == owner {
                events.push(BookEvent::Done {
                    order: taker,
                    reason: DoneReason::SelfTrade,
                    remaining_lots: qty,
                });
                return qty;
            }
            let traded = qty.min(resting.qty_lots);
            resting.qty_lots -= traded;
            qty -= traded;
            events.push(BookEvent::Fill {
                maker,
                taker,
                price_ticks: price,
                qty_lots: traded,
            });
            if resting.qty_lots == 0 {
                queue.pop_front();
                if queue.is_empty() {
                    levels.remove(&price);
                }
                self.orders.remove(&maker);
            }
        }
        qty
    }

    /// Cancels a resting order.
    pub fn cancel(&mut self, id: u64, events: &mut Vec<BookEvent>) {
        let Some(order) = self.orders.remove(&id) else {
            return events.push(BookEvent::Rejected {
                order: id,
                reason: "unknown order".into(),
            });
        };
        let levels = match order.side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        if let Some(queue) = levels.get_mut(&order.price_ticks) {
            queue.retain(|o| *o != id);
            if queue.is_empty() {
                levels.remove(&order.price_ticks);
            }
        }
        events.push(BookEvent::Done {
            order: id,
            reason: DoneReason::Cancelled,
            remaining_lots: order.qty_lots,
        });
    }

    /// Aggregated depth, `levels` per side, best first.
    pub fn depth(&self, levels: usize, sequence: u64) -> Depth {
        let level = |(price, queue): (&u64, &VecDeque<u64>)| Level {
            price_ticks: *price,
            qty_lots: queue.iter().map(|id| self.orders[id].qty_lots).sum(),
            orders: queue.len() as u32,
        };
        Depth {
            sequence,
            bids: self.bids.iter().rev().take(levels).map(level).collect(),
            asks: self.asks.iter().take(levels).map(level).collect(),
        }
    }

    /// The book is never crossed after matching.
    fn assert_uncrossed(&self) {
        if let (Some(bid), Some(ask)) = (self.bids.keys().next_back(), self.asks.keys().next()) {
            assert!(bid < ask, "book crossed: bid {bid} >= ask {ask}");
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
