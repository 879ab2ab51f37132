//! The full structural check of a book. It walks everything, so it costs
//! O(orders); [`crate::OrderBook::apply`] runs it after every command in debug
//! builds, and tests call it directly.

use crate::book::OrderBook;
use crate::store::{ladder_key, NIL};
use crate::types::Side;

impl OrderBook {
    /// Check every structural invariant; `Err` names the first one broken.
    ///
    /// * each ladder is strictly sorted by key, best last, and every rung's key
    ///   matches its level's price;
    /// * every level is non-empty, its FIFO links are consistent both ways, and
    ///   its total and count equal the sums over its orders;
    /// * every order has a positive quantity, the level's side and price, and
    ///   is found under its id in the index; no other ids are indexed;
    /// * the book is not crossed: best bid < best ask.
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        let bid_orders = self.check_side(Side::Buy)?;
        let ask_orders = self.check_side(Side::Sell)?;
        if bid_orders + ask_orders != self.index.len() {
            return Err("index holds ids of orders that are not in any level");
        }
        if self.orders.live_count() != self.index.len() {
            return Err("order slab has leaked or double-freed slots");
        }
        let level_count = self.bids.rungs.len() + self.asks.rungs.len();
        if self.levels.live_count() != level_count {
            return Err("level slab has leaked or double-freed slots");
        }
        if let (Some(bid), Some(ask)) = (self.best_bid(), self.best_ask()) {
            if bid.price_ticks >= ask.price_ticks {
                return Err("book is crossed");
            }
        }
        Ok(())
    }

    /// Check one side; returns how many orders rest on it.
    fn check_side(&self, side: Side) -> Result<usize, &'static str> {
        let rungs = &self.ladder(side).rungs;
        if rungs.windows(2).any(|pair| pair[0].key >= pair[1].key) {
            return Err("ladder not strictly sorted");
        }
        let mut orders_seen = 0;
        for rung in rungs {
            let level = self.levels.get(rung.level_slot);
            if ladder_key(side, level.price_ticks) != rung.key {
                return Err("rung key does not match level price");
            }
            orders_seen += self.check_level(side, rung.level_slot)?;
        }
        Ok(orders_seen)
    }

    /// Check one level's queue; returns its order count.
    fn check_level(&self, side: Side, level_slot: u32) -> Result<usize, &'static str> {
        let level = self.levels.get(level_slot);
        let (mut count, mut total_lots) = (0usize, 0u64);
        let (mut prev, mut slot) = (NIL, level.head_slot);
        while slot != NIL {
            let node = self.orders.get(slot);
            if node.prev_slot != prev {
                return Err("broken prev link");
            }
            if node.level_slot != level_slot
                || node.side != side
                || node.price_ticks != level.price_ticks
            {
                return Err("order on the wrong level");
            }
            if node.qty_lots == 0 {
                return Err("resting order with zero quantity");
            }
            if self.index.get(&node.order_id) != Some(&slot) {
                return Err("index does not point at the resting order");
            }
            count += 1;
            total_lots = total_lots
                .checked_add(node.qty_lots)
                .ok_or("level total overflows")?;
            if count > self.index.len() {
                return Err("cycle in a level queue");
            }
            (prev, slot) = (slot, node.next_slot);
        }
        if level.tail_slot != prev {
            return Err("level tail is not the last order");
        }
        if count == 0 {
            return Err("empty level left in the ladder");
        }
        if count != level.order_count as usize || total_lots != level.total_qty_lots {
            return Err("level aggregates do not match its orders");
        }
        Ok(count)
    }
}
