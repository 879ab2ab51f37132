//! A slow, obviously-correct model of the same book, for tests and fuzzing.
//!
//! It keeps resting orders in one unsorted `Vec` with an arrival stamp, and
//! finds the next maker by scanning for the best price and then the oldest
//! stamp. No linked lists, no ladders, no index: if the real engine and this
//! model disagree on any event, the engine is wrong (or the model is, and it is
//! short enough to see which). Property tests and the fuzz target feed both the
//! same commands and demand identical events.

use crate::snapshot::{BookSnapshot, RestingOrder};
use crate::types::{
    CancelReason, Command, Event, EventKind, LevelView, OrderId, OwnerId, PlaceOrder, RejectReason,
    SelfTradePrevention, Side, TimeInForce,
};

/// A resting order in the model, with its arrival stamp (lower trades first).
#[derive(Debug, Clone, Copy)]
struct ModelOrder {
    order: RestingOrder,
    stamp: u64,
}

/// The reference model of an [`crate::OrderBook`].
#[derive(Debug, Clone)]
pub struct ReferenceBook {
    next_seq: u64,
    next_stamp: u64,
    stp: SelfTradePrevention,
    orders: Vec<ModelOrder>,
}

impl ReferenceBook {
    /// An empty model whose first command gets `first_seq`.
    pub fn new(first_seq: u64, stp: SelfTradePrevention) -> ReferenceBook {
        ReferenceBook {
            next_seq: first_seq,
            next_stamp: 0,
            stp,
            orders: Vec::new(),
        }
    }

    /// Apply a command, appending its events to `out`; returns its sequence number.
    pub fn apply(&mut self, command: &Command, out: &mut Vec<Event>) -> u64 {
        let seq = self.next_seq;
        self.next_seq = seq.wrapping_add(1);
        let mut kinds = Vec::new();
        match *command {
            Command::Place(order) => self.place(&order, &mut kinds),
            Command::Cancel { order_id } => self.cancel(order_id, &mut kinds),
            Command::Amend {
                order_id,
                new_price_ticks,
                new_qty_lots,
            } => self.amend(order_id, new_price_ticks, new_qty_lots, &mut kinds),
        }
        out.extend(kinds.into_iter().map(|kind| Event { seq, kind }));
        seq
    }

    /// Resting orders in priority order, in the same shape as [`crate::OrderBook::snapshot`].
    pub fn snapshot(&self) -> BookSnapshot {
        let mut sorted = self.orders.clone();
        sorted.sort_by_key(|m| {
            let side_rank = if m.order.side == Side::Buy { 0 } else { 1 };
            let price_rank = match m.order.side {
                Side::Buy => u64::MAX - m.order.price_ticks,
                Side::Sell => m.order.price_ticks,
            };
            (side_rank, price_rank, m.stamp)
        });
        BookSnapshot {
            next_seq: self.next_seq,
            self_trade_prevention: self.stp,
            orders: sorted.into_iter().map(|m| m.order).collect(),
        }
    }

    /// Aggregated depth of `side`, best first, at most `max_levels` levels.
    pub fn depth(&self, side: Side, max_levels: usize) -> Vec<LevelView> {
        let mut levels: Vec<LevelView> = Vec::new();
        for order in self.snapshot().orders.iter().filter(|o| o.side == side) {
            match levels.last_mut() {
                Some(level) if level.price_ticks == order.price_ticks => {
                    level.qty_lots += order.qty_lots;
                    level.order_count += 1;
                }
                _ => levels.push(LevelView {
                    price_ticks: order.price_ticks,
                    qty_lots: order.qty_lots,
                    order_count: 1,
                }),
            }
        }
        levels.truncate(max_levels);
        levels
    }

    fn place(&mut self, order: &PlaceOrder, out: &mut Vec<EventKind>) {
        if let Some(reason) = self.place_rejection(order) {
            out.push(EventKind::Rejected {
                order_id: order.order_id,
                reason,
            });
            return;
        }
        out.push(EventKind::Accepted {
            order_id: order.order_id,
            owner_id: order.owner_id,
            side: order.side,
            price_ticks: order.price_ticks,
            qty_lots: order.qty_lots,
        });
        let incoming = RestingOrder {
            order_id: order.order_id,
            owner_id: order.owner_id,
            side: order.side,
            price_ticks: order.price_ticks,
            qty_lots: order.qty_lots,
            post_only: order.post_only,
        };
        let Some(left) = self.trade(incoming, out) else {
            return;
        };
        match order.time_in_force {
            TimeInForce::Gtc => self.rest(left),
            TimeInForce::Ioc | TimeInForce::Fok => out.push(EventKind::Expired {
                order_id: left.order_id,
                remaining_lots: left.qty_lots,
            }),
        }
    }

    fn place_rejection(&self, order: &PlaceOrder) -> Option<RejectReason> {
        if order.qty_lots == 0 {
            return Some(RejectReason::ZeroQty);
        }
        if order.price_ticks == 0 {
            return Some(RejectReason::ZeroPrice);
        }
        if order.post_only && order.time_in_force != TimeInForce::Gtc {
            return Some(RejectReason::PostOnlyNeedsGtc);
        }
        if self.find(order.order_id).is_some() {
            return Some(RejectReason::DuplicateOrderId);
        }
        if order.time_in_force == TimeInForce::Gtc
            && self.level_overflows(order.side, order.price_ticks, None, order.qty_lots)
        {
            return Some(RejectReason::QtyOverflow);
        }
        if order.post_only && self.crosses(order.side, order.price_ticks) {
            return Some(RejectReason::PostOnlyWouldCross);
        }
        if order.time_in_force == TimeInForce::Fok && !self.fok_would_fill(order) {
            return Some(RejectReason::FokCannotFill);
        }
        None
    }

    /// Try the FOK on a copy: it passes if the copy fills it completely.
    fn fok_would_fill(&self, order: &PlaceOrder) -> bool {
        let mut copy = self.clone();
        let incoming = RestingOrder {
            order_id: order.order_id,
            owner_id: order.owner_id,
            side: order.side,
            price_ticks: order.price_ticks,
            qty_lots: order.qty_lots,
            post_only: false,
        };
        let mut scratch = Vec::new();
        let left = copy.trade(incoming, &mut scratch);
        let cancelled = scratch.iter().any(|kind| {
            matches!(kind, EventKind::Cancelled { order_id, .. } if *order_id == order.order_id)
        });
        left.is_none() && !cancelled
    }

    fn cancel(&mut self, order_id: OrderId, out: &mut Vec<EventKind>) {
        match self.find(order_id) {
            None => out.push(EventKind::Rejected {
                order_id,
                reason: RejectReason::UnknownOrder,
            }),
            Some(index) => {
                let gone = self.orders.remove(index);
                out.push(EventKind::Cancelled {
                    order_id,
                    remaining_lots: gone.order.qty_lots,
                    reason: CancelReason::UserRequest,
                });
            }
        }
    }

    fn amend(
        &mut self,
        order_id: OrderId,
        price_ticks: u64,
        qty_lots: u64,
        out: &mut Vec<EventKind>,
    ) {
        let Some(index) = self.find(order_id) else {
            out.push(EventKind::Rejected {
                order_id,
                reason: RejectReason::UnknownOrder,
            });
            return;
        };
        let old = self.orders[index].order;
        if let Some(reason) = self.amend_rejection(&old, price_ticks, qty_lots) {
            out.push(EventKind::Rejected { order_id, reason });
            return;
        }
        let priority_kept = price_ticks == old.price_ticks && qty_lots <= old.qty_lots;
        out.push(EventKind::Amended {
            order_id,
            price_ticks,
            qty_lots,
            old_qty_lots: old.qty_lots,
            priority_kept,
        });
        if priority_kept {
            self.orders[index].order.qty_lots = qty_lots;
            return;
        }
        self.orders.remove(index);
        let moved = RestingOrder {
            price_ticks,
            qty_lots,
            ..old
        };
        if let Some(left) = self.trade(moved, out) {
            self.rest(left);
        }
    }

    fn amend_rejection(
        &self,
        old: &RestingOrder,
        price_ticks: u64,
        qty_lots: u64,
    ) -> Option<RejectReason> {
        if qty_lots == 0 {
            return Some(RejectReason::ZeroQty);
        }
        if price_ticks == 0 {
            return Some(RejectReason::ZeroPrice);
        }
        if self.level_overflows(old.side, price_ticks, Some(old.order_id), qty_lots) {
            return Some(RejectReason::QtyOverflow);
        }
        if old.post_only && self.crosses(old.side, price_ticks) {
            return Some(RejectReason::PostOnlyWouldCross);
        }
        None
    }

    /// Match `incoming` against the book; `Some(remainder)` if something is
    /// left and it was not cancelled by self-trade prevention.
    fn trade(
        &mut self,
        mut incoming: RestingOrder,
        out: &mut Vec<EventKind>,
    ) -> Option<RestingOrder> {
        while incoming.qty_lots > 0 {
            let Some(index) = self.best_maker(incoming.side, incoming.price_ticks) else {
                break;
            };
            let maker = self.orders[index].order;
            if maker.owner_id == incoming.owner_id {
                if self.stp != SelfTradePrevention::CancelNewest {
                    self.orders.remove(index);
                    out.push(EventKind::Cancelled {
                        order_id: maker.order_id,
                        remaining_lots: maker.qty_lots,
                        reason: CancelReason::SelfTradePrevention,
                    });
                }
                if self.stp != SelfTradePrevention::CancelOldest {
                    out.push(EventKind::Cancelled {
                        order_id: incoming.order_id,
                        remaining_lots: incoming.qty_lots,
                        reason: CancelReason::SelfTradePrevention,
                    });
                    return None;
                }
                continue;
            }
            let qty_lots = incoming.qty_lots.min(maker.qty_lots);
            incoming.qty_lots -= qty_lots;
            self.orders[index].order.qty_lots -= qty_lots;
            out.push(fill_event(&maker, &incoming, qty_lots));
            if self.orders[index].order.qty_lots == 0 {
                self.orders.remove(index);
            }
        }
        (incoming.qty_lots > 0).then_some(incoming)
    }

    /// The index of the resting order an incoming order meets first: best
    /// price, then oldest.
    fn best_maker(&self, side: Side, limit_ticks: u64) -> Option<usize> {
        let candidates = self.orders.iter().enumerate().filter(|(_, m)| {
            m.order.side == side.opposite() && side.crosses(limit_ticks, m.order.price_ticks)
        });
        candidates
            .min_by_key(|(_, m)| {
                let price_rank = match side {
                    Side::Buy => m.order.price_ticks,
                    Side::Sell => u64::MAX - m.order.price_ticks,
                };
                (price_rank, m.stamp)
            })
            .map(|(index, _)| index)
    }

    fn crosses(&self, side: Side, price_ticks: u64) -> bool {
        self.best_maker(side, price_ticks).is_some()
    }

    /// Whether adding `qty_lots` at `price_ticks` would overflow that level's
    /// total, not counting the order `except` (an amended order leaving it).
    fn level_overflows(
        &self,
        side: Side,
        price_ticks: u64,
        except: Option<OrderId>,
        qty_lots: u64,
    ) -> bool {
        let mut total: u128 = u128::from(qty_lots);
        for m in &self.orders {
            if m.order.side == side
                && m.order.price_ticks == price_ticks
                && Some(m.order.order_id) != except
            {
                total += u128::from(m.order.qty_lots);
            }
        }
        total > u128::from(u64::MAX)
    }

    fn rest(&mut self, order: RestingOrder) {
        self.orders.push(ModelOrder {
            order,
            stamp: self.next_stamp,
        });
        self.next_stamp += 1;
    }

    fn find(&self, order_id: OrderId) -> Option<usize> {
        self.orders
            .iter()
            .position(|m| m.order.order_id == order_id)
    }
}

fn fill_event(maker: &RestingOrder, taker: &RestingOrder, qty_lots: u64) -> EventKind {
    let maker_owner: OwnerId = maker.owner_id;
    EventKind::Fill {
        maker_order_id: maker.order_id,
        taker_order_id: taker.order_id,
        maker_owner,
        taker_owner: taker.owner_id,
        price_ticks: maker.price_ticks,
        qty_lots,
        maker_remaining_lots: maker.qty_lots - qty_lots,
        taker_remaining_lots: taker.qty_lots,
    }
}
