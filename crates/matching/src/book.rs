//! The order book: command handling and matching.
//!
//! Reading guide: [`OrderBook::apply`] numbers the command and dispatches to
//! `place`, `cancel` or `amend`. Those validate first (a rejection changes
//! nothing), then hand an incoming order to `match_taker`, which walks the
//! opposite side best level first, oldest order first, until the taker is
//! filled, stops crossing, or self-trade prevention stops it. What is left
//! rests (GTC) or expires (IOC).

use rustc_hash::FxHashMap;

use crate::store::{ladder_key, Ladder, Level, OrderNode, Rung, Slab, NIL};
use crate::types::{
    CancelReason, Command, Event, EventKind, EventSink, LevelView, OrderId, OwnerId, PlaceOrder,
    RejectReason, SelfTradePrevention, Side, TimeInForce,
};

/// How a book is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BookConfig {
    /// The sequence number the first command gets (a restored book continues
    /// from its snapshot's `next_seq` instead).
    pub first_seq: u64,
    /// What to do when an order would trade with its own owner.
    pub self_trade_prevention: SelfTradePrevention,
    /// Resting orders to reserve room for up front, so that the hot path does
    /// not reallocate while the book grows to this size.
    pub capacity_orders: usize,
}

/// An incoming order while it matches: a place, or an amend that moved price.
#[derive(Debug, Clone, Copy)]
struct Taker {
    order_id: OrderId,
    owner_id: OwnerId,
    side: Side,
    limit_ticks: u64,
    remaining_lots: u64,
}

/// How matching an incoming order ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MatchEnd {
    /// Nothing (more) crosses, or the taker is filled: look at `remaining_lots`.
    Stopped,
    /// Self-trade prevention cancelled the taker's remainder (event emitted).
    TakerCancelled,
}

/// One market's order book. See the crate documentation for the design.
#[derive(Debug, Clone)]
pub struct OrderBook {
    pub(crate) next_seq: u64,
    pub(crate) stp: SelfTradePrevention,
    pub(crate) orders: Slab<OrderNode>,
    pub(crate) levels: Slab<Level>,
    pub(crate) bids: Ladder,
    pub(crate) asks: Ladder,
    /// Order id → slot in `orders`. Only ever looked up, never iterated, so
    /// its (deterministic anyway) order cannot leak into events.
    pub(crate) index: FxHashMap<OrderId, u32>,
}

impl OrderBook {
    /// An empty book.
    pub fn new(config: BookConfig) -> OrderBook {
        let mut index = FxHashMap::default();
        index.reserve(config.capacity_orders);
        OrderBook {
            next_seq: config.first_seq,
            stp: config.self_trade_prevention,
            orders: Slab::with_capacity(config.capacity_orders),
            levels: Slab::with_capacity(config.capacity_orders),
            bids: Ladder::default(),
            asks: Ladder::default(),
            index,
        }
    }

    /// Apply one command: it gets the next sequence number (returned), and
    /// everything it caused is pushed to `sink` in order. Never panics on any
    /// command; invalid ones produce a [`EventKind::Rejected`].
    pub fn apply<S: EventSink>(&mut self, command: &Command, sink: &mut S) -> u64 {
        let seq = self.next_seq;
        self.next_seq = seq.wrapping_add(1);
        match *command {
            Command::Place(ref order) => self.place(order, seq, sink),
            Command::Cancel { order_id } => self.cancel(order_id, seq, sink),
            Command::Amend {
                order_id,
                new_price_ticks,
                new_qty_lots,
            } => self.amend(order_id, new_price_ticks, new_qty_lots, seq, sink),
        }
        self.assert_not_crossed();
        self.debug_check_invariants();
        seq
    }

    /// The sequence number the next command will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The book's self-trade prevention mode.
    pub fn self_trade_prevention(&self) -> SelfTradePrevention {
        self.stp
    }

    /// How many orders rest in the book.
    pub fn order_count(&self) -> usize {
        self.index.len()
    }

    /// Whether no order rests in the book.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The highest bid level, if any.
    pub fn best_bid(&self) -> Option<LevelView> {
        self.bids.best().map(|slot| self.level_view(slot))
    }

    /// The lowest ask level, if any.
    pub fn best_ask(&self) -> Option<LevelView> {
        self.asks.best().map(|slot| self.level_view(slot))
    }

    /// Aggregated depth of `side`, best level first, at most `max_levels`
    /// levels. `out` is cleared first and reused, so polling does not allocate.
    pub fn depth(&self, side: Side, max_levels: usize, out: &mut Vec<LevelView>) {
        out.clear();
        let rungs = &self.ladder(side).rungs;
        for rung in rungs.iter().rev().take(max_levels) {
            out.push(self.level_view(rung.level_slot));
        }
    }

    /// A resting order's current state, if it rests here.
    pub fn order(&self, order_id: OrderId) -> Option<crate::RestingOrder> {
        let slot = *self.index.get(&order_id)?;
        Some(crate::RestingOrder::from_node(self.orders.get(slot)))
    }

    // ---- commands ------------------------------------------------------

    fn place<S: EventSink>(&mut self, order: &PlaceOrder, seq: u64, sink: &mut S) {
        if let Err(reason) = self.validate_place(order) {
            return reject(sink, seq, order.order_id, reason);
        }
        sink.push(Event {
            seq,
            kind: EventKind::Accepted {
                order_id: order.order_id,
                owner_id: order.owner_id,
                side: order.side,
                price_ticks: order.price_ticks,
                qty_lots: order.qty_lots,
            },
        });
        let mut taker = Taker {
            order_id: order.order_id,
            owner_id: order.owner_id,
            side: order.side,
            limit_ticks: order.price_ticks,
            remaining_lots: order.qty_lots,
        };
        let end = self.match_taker(&mut taker, seq, sink);
        if end == MatchEnd::TakerCancelled || taker.remaining_lots == 0 {
            return;
        }
        match order.time_in_force {
            TimeInForce::Gtc => self.rest(&taker, order.post_only),
            // A FOK that passed `fok_fillable` is always filled; reaching
            // here would be a bug, and expiring is the safe answer.
            TimeInForce::Ioc | TimeInForce::Fok => sink.push(Event {
                seq,
                kind: EventKind::Expired {
                    order_id: taker.order_id,
                    remaining_lots: taker.remaining_lots,
                },
            }),
        }
    }

    /// Every check a place must pass, cheapest first. `Err` changes nothing.
    fn validate_place(&self, order: &PlaceOrder) -> Result<(), RejectReason> {
        if order.qty_lots == 0 {
            return Err(RejectReason::ZeroQty);
        }
        if order.price_ticks == 0 {
            return Err(RejectReason::ZeroPrice);
        }
        if order.post_only && order.time_in_force != TimeInForce::Gtc {
            return Err(RejectReason::PostOnlyNeedsGtc);
        }
        if self.index.contains_key(&order.order_id) {
            return Err(RejectReason::DuplicateOrderId);
        }
        if order.time_in_force == TimeInForce::Gtc {
            // Matching only lowers what would rest, so checking the full
            // quantity against the resting level up front is enough.
            self.check_room(order.side, order.price_ticks, 0, order.qty_lots)?;
        }
        if order.post_only && self.crosses_opposite(order.side, order.price_ticks) {
            return Err(RejectReason::PostOnlyWouldCross);
        }
        if order.time_in_force == TimeInForce::Fok && !self.fok_fillable(order) {
            return Err(RejectReason::FokCannotFill);
        }
        Ok(())
    }

    fn cancel<S: EventSink>(&mut self, order_id: OrderId, seq: u64, sink: &mut S) {
        let Some(&slot) = self.index.get(&order_id) else {
            return reject(sink, seq, order_id, RejectReason::UnknownOrder);
        };
        self.cancel_resting(slot, CancelReason::UserRequest, seq, sink);
    }

    fn amend<S: EventSink>(
        &mut self,
        order_id: OrderId,
        new_price_ticks: u64,
        new_qty_lots: u64,
        seq: u64,
        sink: &mut S,
    ) {
        let Some(&slot) = self.index.get(&order_id) else {
            return reject(sink, seq, order_id, RejectReason::UnknownOrder);
        };
        let node = *self.orders.get(slot);
        if let Err(reason) = self.validate_amend(&node, new_price_ticks, new_qty_lots) {
            return reject(sink, seq, order_id, reason);
        }
        let priority_kept = new_price_ticks == node.price_ticks && new_qty_lots <= node.qty_lots;
        sink.push(Event {
            seq,
            kind: EventKind::Amended {
                order_id,
                price_ticks: new_price_ticks,
                qty_lots: new_qty_lots,
                old_qty_lots: node.qty_lots,
                priority_kept,
            },
        });
        if priority_kept {
            return self.shrink_in_place(slot, node.qty_lots - new_qty_lots);
        }
        // Losing priority: take the order out and treat it as a new GTC order
        // with the same id, owner and post-only flag.
        self.remove_resting(slot);
        let mut taker = Taker {
            order_id,
            owner_id: node.owner_id,
            side: node.side,
            limit_ticks: new_price_ticks,
            remaining_lots: new_qty_lots,
        };
        let end = self.match_taker(&mut taker, seq, sink);
        if end == MatchEnd::Stopped && taker.remaining_lots > 0 {
            self.rest(&taker, node.post_only);
        }
    }

    fn validate_amend(
        &self,
        node: &OrderNode,
        price_ticks: u64,
        qty_lots: u64,
    ) -> Result<(), RejectReason> {
        if qty_lots == 0 {
            return Err(RejectReason::ZeroQty);
        }
        if price_ticks == 0 {
            return Err(RejectReason::ZeroPrice);
        }
        // The order's own quantity leaves its level before it is re-added.
        let own_lots = if price_ticks == node.price_ticks {
            node.qty_lots
        } else {
            0
        };
        self.check_room(node.side, price_ticks, own_lots, qty_lots)?;
        if node.post_only && self.crosses_opposite(node.side, price_ticks) {
            return Err(RejectReason::PostOnlyWouldCross);
        }
        Ok(())
    }

    // ---- matching ------------------------------------------------------

    /// Trade `taker` against the opposite side, best price first, oldest first.
    fn match_taker<S: EventSink>(&mut self, taker: &mut Taker, seq: u64, sink: &mut S) -> MatchEnd {
        let maker_side = taker.side.opposite();
        while taker.remaining_lots > 0 {
            let Some(level_slot) = self.ladder(maker_side).best() else {
                break;
            };
            let level = *self.levels.get(level_slot);
            if !taker.side.crosses(taker.limit_ticks, level.price_ticks) {
                break;
            }
            let maker_slot = level.head_slot;
            let maker = *self.orders.get(maker_slot);
            if maker.owner_id == taker.owner_id {
                if self.prevent_self_trade(maker_slot, taker, seq, sink) == MatchEnd::TakerCancelled
                {
                    return MatchEnd::TakerCancelled;
                }
                continue;
            }
            self.fill(maker_slot, &maker, taker, seq, sink);
        }
        MatchEnd::Stopped
    }

    /// One trade between the head of the best level and the taker.
    #[inline]
    fn fill<S: EventSink>(
        &mut self,
        maker_slot: u32,
        maker: &OrderNode,
        taker: &mut Taker,
        seq: u64,
        sink: &mut S,
    ) {
        let qty_lots = taker.remaining_lots.min(maker.qty_lots);
        let maker_remaining_lots = maker.qty_lots - qty_lots;
        taker.remaining_lots -= qty_lots;
        sink.push(Event {
            seq,
            kind: EventKind::Fill {
                maker_order_id: maker.order_id,
                taker_order_id: taker.order_id,
                maker_owner: maker.owner_id,
                taker_owner: taker.owner_id,
                price_ticks: maker.price_ticks,
                qty_lots,
                maker_remaining_lots,
                taker_remaining_lots: taker.remaining_lots,
            },
        });
        if maker_remaining_lots == 0 {
            self.remove_resting(maker_slot);
        } else {
            self.orders.get_mut(maker_slot).qty_lots = maker_remaining_lots;
            self.levels.get_mut(maker.level_slot).total_qty_lots -= qty_lots;
        }
    }

    /// The taker met its own owner's resting order at `maker_slot`.
    fn prevent_self_trade<S: EventSink>(
        &mut self,
        maker_slot: u32,
        taker: &mut Taker,
        seq: u64,
        sink: &mut S,
    ) -> MatchEnd {
        let cancel_maker = matches!(
            self.stp,
            SelfTradePrevention::CancelOldest | SelfTradePrevention::CancelBoth
        );
        let cancel_taker = matches!(
            self.stp,
            SelfTradePrevention::CancelNewest | SelfTradePrevention::CancelBoth
        );
        if cancel_maker {
            self.cancel_resting(maker_slot, CancelReason::SelfTradePrevention, seq, sink);
        }
        if !cancel_taker {
            return MatchEnd::Stopped;
        }
        sink.push(Event {
            seq,
            kind: EventKind::Cancelled {
                order_id: taker.order_id,
                remaining_lots: taker.remaining_lots,
                reason: CancelReason::SelfTradePrevention,
            },
        });
        taker.remaining_lots = 0;
        MatchEnd::TakerCancelled
    }

    /// Whether a FOK order can be filled completely now, walking the orders
    /// it would meet the way `match_taker` would.
    fn fok_fillable(&self, order: &PlaceOrder) -> bool {
        let mut needed_lots = order.qty_lots;
        for rung in self.ladder(order.side.opposite()).rungs.iter().rev() {
            let level = self.levels.get(rung.level_slot);
            if !order.side.crosses(order.price_ticks, level.price_ticks) {
                return false;
            }
            let mut slot = level.head_slot;
            while slot != NIL {
                let maker = self.orders.get(slot);
                if maker.owner_id == order.owner_id {
                    // Cancel-oldest removes the maker and goes on; the other
                    // modes cancel the taker, which then cannot fill.
                    if self.stp != SelfTradePrevention::CancelOldest {
                        return false;
                    }
                } else if maker.qty_lots >= needed_lots {
                    return true;
                } else {
                    needed_lots -= maker.qty_lots;
                }
                slot = maker.next_slot;
            }
        }
        false
    }

    // ---- book structure ------------------------------------------------

    /// Emit `Cancelled` for the resting order in `slot` and remove it.
    fn cancel_resting<S: EventSink>(
        &mut self,
        slot: u32,
        reason: CancelReason,
        seq: u64,
        sink: &mut S,
    ) {
        let node = self.orders.get(slot);
        sink.push(Event {
            seq,
            kind: EventKind::Cancelled {
                order_id: node.order_id,
                remaining_lots: node.qty_lots,
                reason,
            },
        });
        self.remove_resting(slot);
    }

    /// Lower a resting order's quantity without touching its queue position.
    fn shrink_in_place(&mut self, slot: u32, by_lots: u64) {
        let node = self.orders.get_mut(slot);
        node.qty_lots -= by_lots;
        let level_slot = node.level_slot;
        self.levels.get_mut(level_slot).total_qty_lots -= by_lots;
    }

    /// Put what is left of `taker` at the back of its price level.
    fn rest(&mut self, taker: &Taker, post_only: bool) {
        let level_slot = self.level_for(taker.side, taker.limit_ticks);
        let level = *self.levels.get(level_slot);
        let slot = self.orders.insert(OrderNode {
            order_id: taker.order_id,
            owner_id: taker.owner_id,
            price_ticks: taker.limit_ticks,
            qty_lots: taker.remaining_lots,
            level_slot,
            prev_slot: level.tail_slot,
            next_slot: NIL,
            side: taker.side,
            post_only,
        });
        if level.tail_slot == NIL {
            self.levels.get_mut(level_slot).head_slot = slot;
        } else {
            self.orders.get_mut(level.tail_slot).next_slot = slot;
        }
        let level = self.levels.get_mut(level_slot);
        level.tail_slot = slot;
        level.order_count += 1;
        level.total_qty_lots += taker.remaining_lots;
        self.index.insert(taker.order_id, slot);
    }

    /// Unlink the order in `slot` from its level (dropping the level if it
    /// empties), forget its id and free the slot.
    fn remove_resting(&mut self, slot: u32) {
        let node = *self.orders.get(slot);
        if node.prev_slot == NIL {
            self.levels.get_mut(node.level_slot).head_slot = node.next_slot;
        } else {
            self.orders.get_mut(node.prev_slot).next_slot = node.next_slot;
        }
        if node.next_slot == NIL {
            self.levels.get_mut(node.level_slot).tail_slot = node.prev_slot;
        } else {
            self.orders.get_mut(node.next_slot).prev_slot = node.prev_slot;
        }
        let level = self.levels.get_mut(node.level_slot);
        level.total_qty_lots -= node.qty_lots;
        level.order_count -= 1;
        if level.order_count == 0 {
            self.ladder_mut(node.side)
                .remove(ladder_key(node.side, node.price_ticks));
            self.levels.remove(node.level_slot);
        }
        self.index.remove(&node.order_id);
        self.orders.remove(slot);
    }

    /// The slot of the level at `price_ticks` on `side`, creating it if needed.
    fn level_for(&mut self, side: Side, price_ticks: u64) -> u32 {
        let key = ladder_key(side, price_ticks);
        match self.ladder(side).position(key) {
            Ok(index) => self.ladder(side).rungs[index].level_slot,
            Err(index) => {
                let level_slot = self.levels.insert(Level {
                    price_ticks,
                    total_qty_lots: 0,
                    order_count: 0,
                    head_slot: NIL,
                    tail_slot: NIL,
                });
                self.ladder_mut(side)
                    .insert_at(index, Rung { key, level_slot });
                level_slot
            }
        }
    }

    /// Whether `qty_lots` more can rest at `price_ticks` on `side` (after
    /// `leaving_lots` of the order itself leave that level): the level total
    /// must fit in `u64`, and the slab must have a free slot.
    fn check_room(
        &self,
        side: Side,
        price_ticks: u64,
        leaving_lots: u64,
        qty_lots: u64,
    ) -> Result<(), RejectReason> {
        if !self.orders.has_room() || !self.levels.has_room() {
            return Err(RejectReason::BookFull);
        }
        let current_lots = self
            .ladder(side)
            .find(ladder_key(side, price_ticks))
            .map_or(0, |slot| self.levels.get(slot).total_qty_lots);
        match (current_lots - leaving_lots).checked_add(qty_lots) {
            Some(_) => Ok(()),
            None => Err(RejectReason::QtyOverflow),
        }
    }

    /// Whether an order on `side` at `price_ticks` would trade on arrival.
    fn crosses_opposite(&self, side: Side, price_ticks: u64) -> bool {
        self.ladder(side.opposite())
            .best()
            .is_some_and(|slot| side.crosses(price_ticks, self.levels.get(slot).price_ticks))
    }

    #[inline]
    pub(crate) fn ladder(&self, side: Side) -> &Ladder {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    #[inline]
    fn ladder_mut(&mut self, side: Side) -> &mut Ladder {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    pub(crate) fn level_view(&self, level_slot: u32) -> LevelView {
        let level = self.levels.get(level_slot);
        LevelView {
            price_ticks: level.price_ticks,
            qty_lots: level.total_qty_lots,
            order_count: level.order_count,
        }
    }

    /// Rest an order without matching (restore). The caller has validated it.
    pub(crate) fn rest_restored(&mut self, order: &crate::RestingOrder) {
        let taker = Taker {
            order_id: order.order_id,
            owner_id: order.owner_id,
            side: order.side,
            limit_ticks: order.price_ticks,
            remaining_lots: order.qty_lots,
        };
        self.rest(&taker, order.post_only);
    }

    /// Cheap, always-on check after every command: the best bid is below the
    /// best ask. Matching guarantees it; a failure is a bug, not bad input.
    fn assert_not_crossed(&self) {
        if let (Some(bid), Some(ask)) = (self.bids.best(), self.asks.best()) {
            assert!(
                self.levels.get(bid).price_ticks < self.levels.get(ask).price_ticks,
                "matching: book crossed after a command"
            );
        }
    }

    /// The full structural check after every command, in debug builds only.
    #[inline]
    fn debug_check_invariants(&self) {
        #[cfg(debug_assertions)]
        if let Err(violation) = self.check_invariants() {
            panic!("matching: invariant broken: {violation}");
        }
    }
}

/// Push a rejection.
fn reject<S: EventSink>(sink: &mut S, seq: u64, order_id: OrderId, reason: RejectReason) {
    sink.push(Event {
        seq,
        kind: EventKind::Rejected { order_id, reason },
    });
}
