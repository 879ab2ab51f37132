//! Snapshot and restore: a book as a plain, serializable list of its resting
//! orders in priority order, plus the next sequence number. Restoring replays
//! the list into an empty book without matching, which rebuilds the same
//! queues, so the restored book answers every later command exactly as the
//! original would have.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::book::{BookConfig, OrderBook};
use crate::store::{OrderNode, NIL};
use crate::types::{OrderId, OwnerId, SelfTradePrevention, Side};

/// A resting order, as snapshots and [`OrderBook::order`] show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RestingOrder {
    /// Its id.
    pub order_id: OrderId,
    /// Its owner.
    pub owner_id: OwnerId,
    /// Its side.
    pub side: Side,
    /// Its limit price.
    pub price_ticks: u64,
    /// Its remaining (unfilled) quantity.
    pub qty_lots: u64,
    /// Whether it was placed post-only (an amend that would cross is rejected).
    pub post_only: bool,
}

impl RestingOrder {
    pub(crate) fn from_node(node: &OrderNode) -> RestingOrder {
        RestingOrder {
            order_id: node.order_id,
            owner_id: node.owner_id,
            side: node.side,
            price_ticks: node.price_ticks,
            qty_lots: node.qty_lots,
            post_only: node.post_only,
        }
    }
}

/// Everything needed to rebuild a book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookSnapshot {
    /// The sequence number the next command gets.
    pub next_seq: u64,
    /// The book's self-trade prevention mode.
    pub self_trade_prevention: SelfTradePrevention,
    /// Resting orders: bids best level first, then asks best level first;
    /// within a level, oldest (first to trade) first.
    pub orders: Vec<RestingOrder>,
}

/// Why a snapshot could not be restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreError {
    /// An order has zero quantity or zero price.
    InvalidOrder(OrderId),
    /// Two orders share an id.
    DuplicateOrderId(OrderId),
    /// A level's total would overflow `u64`.
    QtyOverflow(OrderId),
    /// Too many orders for the slab.
    BookFull,
    /// Some bid is at or above some ask.
    Crossed,
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestoreError::InvalidOrder(id) => write!(f, "order {id} has zero quantity or price"),
            RestoreError::DuplicateOrderId(id) => write!(f, "order id {id} appears twice"),
            RestoreError::QtyOverflow(id) => write!(f, "order {id} overflows its level total"),
            RestoreError::BookFull => write!(f, "too many orders"),
            RestoreError::Crossed => write!(f, "the snapshot's book is crossed"),
        }
    }
}

impl std::error::Error for RestoreError {}

impl OrderBook {
    /// The book's state as a plain value (allocates; not for the hot path).
    pub fn snapshot(&self) -> BookSnapshot {
        let mut orders = Vec::with_capacity(self.order_count());
        for side in [Side::Buy, Side::Sell] {
            for rung in self.ladder(side).rungs.iter().rev() {
                let mut slot = self.levels.get(rung.level_slot).head_slot;
                while slot != NIL {
                    let node = self.orders.get(slot);
                    orders.push(RestingOrder::from_node(node));
                    slot = node.next_slot;
                }
            }
        }
        BookSnapshot {
            next_seq: self.next_seq,
            self_trade_prevention: self.stp,
            orders,
        }
    }

    /// Rebuild a book from a snapshot, validating it (a snapshot may come
    /// from storage, so it is input like any other).
    pub fn restore(snapshot: &BookSnapshot) -> Result<OrderBook, RestoreError> {
        let mut book = OrderBook::new(BookConfig {
            first_seq: snapshot.next_seq,
            self_trade_prevention: snapshot.self_trade_prevention,
            capacity_orders: snapshot.orders.len(),
        });
        for order in &snapshot.orders {
            book.check_restorable(order)?;
            book.rest_restored(order);
        }
        if let (Some(bid), Some(ask)) = (book.best_bid(), book.best_ask()) {
            if bid.price_ticks >= ask.price_ticks {
                return Err(RestoreError::Crossed);
            }
        }
        Ok(book)
    }

    fn check_restorable(&self, order: &RestingOrder) -> Result<(), RestoreError> {
        if order.qty_lots == 0 || order.price_ticks == 0 {
            return Err(RestoreError::InvalidOrder(order.order_id));
        }
        if self.index.contains_key(&order.order_id) {
            return Err(RestoreError::DuplicateOrderId(order.order_id));
        }
        if self.order_count() >= crate::store::MAX_SLOTS - 1 {
            return Err(RestoreError::BookFull);
        }
        let level_lots = self
            .level_lots_at(order.side, order.price_ticks)
            .unwrap_or(0);
        if level_lots.checked_add(order.qty_lots).is_none() {
            return Err(RestoreError::QtyOverflow(order.order_id));
        }
        Ok(())
    }

    /// The total resting at `price_ticks` on `side`, if that level exists.
    fn level_lots_at(&self, side: Side, price_ticks: u64) -> Option<u64> {
        let slot = self
            .ladder(side)
            .find(crate::store::ladder_key(side, price_ticks))?;
        Some(self.level_view(slot).qty_lots)
    }
}
