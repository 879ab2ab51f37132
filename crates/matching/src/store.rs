//! Storage for the book: a slab of orders, a slab of price levels, and one
//! sorted "ladder" of levels per side.
//!
//! * **Slabs** are `Vec`s addressed by `u32` slot numbers, with a stack of free
//!   slots. Removing an order pushes its slot on the stack; the next order
//!   reuses it. After warm-up nothing allocates.
//! * **Levels** hold an intrusive doubly-linked FIFO of order slots (`head`,
//!   `tail`, and `prev`/`next` in each order), so an order can be unlinked in
//!   O(1) from anywhere in its queue, and the oldest order is always `head`.
//! * **Ladders** keep `(key, level slot)` pairs sorted by key ascending, so the
//!   best level is always the *last* entry: popping or pushing the best level is
//!   O(1), and other levels are found by binary search. The key is the price for
//!   bids (highest is best) and `!price` for asks (lowest is best), which lets
//!   one piece of code serve both sides.

use crate::types::{OrderId, OwnerId, Side};

/// The "no slot" marker in linked lists.
pub(crate) const NIL: u32 = u32::MAX;

/// The most slots a slab can hand out (`NIL` is reserved).
pub(crate) const MAX_SLOTS: usize = NIL as usize;

/// A resting order, as stored in the order slab.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OrderNode {
    pub order_id: OrderId,
    pub owner_id: OwnerId,
    pub price_ticks: u64,
    pub qty_lots: u64,
    /// The slot of the level the order rests on.
    pub level_slot: u32,
    /// The previous (older) order on the same level, or `NIL`.
    pub prev_slot: u32,
    /// The next (newer) order on the same level, or `NIL`.
    pub next_slot: u32,
    pub side: Side,
    pub post_only: bool,
}

/// One price level: aggregate figures and the FIFO of its orders.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Level {
    pub price_ticks: u64,
    pub total_qty_lots: u64,
    pub order_count: u32,
    /// The oldest order (first to trade), or `NIL` for an empty level.
    pub head_slot: u32,
    /// The newest order (where new orders are appended), or `NIL`.
    pub tail_slot: u32,
}

/// A `Vec` with a free-slot stack: stable `u32` addresses, O(1) insert and remove.
#[derive(Debug, Clone, Default)]
pub(crate) struct Slab<T> {
    items: Vec<T>,
    free_slots: Vec<u32>,
}

impl<T: Copy> Slab<T> {
    /// An empty slab with room for `capacity` items before it reallocates.
    pub fn with_capacity(capacity: usize) -> Self {
        Slab {
            items: Vec::with_capacity(capacity),
            free_slots: Vec::with_capacity(capacity),
        }
    }

    /// Whether one more item fits (slot numbers must stay below `NIL`).
    pub fn has_room(&self) -> bool {
        !self.free_slots.is_empty() || self.items.len() < MAX_SLOTS
    }

    /// Store `item`, reusing a freed slot if there is one. Callers check
    /// [`Slab::has_room`] first.
    pub fn insert(&mut self, item: T) -> u32 {
        if let Some(slot) = self.free_slots.pop() {
            self.items[slot as usize] = item;
            slot
        } else {
            self.items.push(item);
            (self.items.len() - 1) as u32
        }
    }

    /// Give `slot` back. Its old contents stay until the slot is reused, but no
    /// live structure points at it any more.
    pub fn remove(&mut self, slot: u32) {
        self.free_slots.push(slot);
    }

    /// The item in `slot`.
    #[inline]
    pub fn get(&self, slot: u32) -> &T {
        &self.items[slot as usize]
    }

    /// The item in `slot`, for changing.
    #[inline]
    pub fn get_mut(&mut self, slot: u32) -> &mut T {
        &mut self.items[slot as usize]
    }

    /// Slots handed out and not returned.
    pub fn live_count(&self) -> usize {
        self.items.len() - self.free_slots.len()
    }
}

/// One ladder entry: the sort key (see the module doc) and the level's slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rung {
    pub key: u64,
    pub level_slot: u32,
}

/// The sort key of `price_ticks` on `side`: larger keys are better prices.
#[inline]
pub(crate) fn ladder_key(side: Side, price_ticks: u64) -> u64 {
    match side {
        Side::Buy => price_ticks,
        Side::Sell => !price_ticks,
    }
}

/// The levels of one side, sorted by key ascending: best level last.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ladder {
    pub rungs: Vec<Rung>,
}

impl Ladder {
    /// The best level's slot, if the side is not empty.
    #[inline]
    pub fn best(&self) -> Option<u32> {
        self.rungs.last().map(|rung| rung.level_slot)
    }

    /// Where `key` is (`Ok`) or would go (`Err`). Most activity is near the
    /// top of the book, so the last rung is checked before binary searching.
    #[inline]
    pub fn position(&self, key: u64) -> Result<usize, usize> {
        match self.rungs.last() {
            Some(last) if last.key == key => Ok(self.rungs.len() - 1),
            Some(last) if last.key < key => Err(self.rungs.len()),
            _ => self.rungs.binary_search_by_key(&key, |rung| rung.key),
        }
    }

    /// The slot of the level with `key`, if it exists.
    #[inline]
    pub fn find(&self, key: u64) -> Option<u32> {
        self.position(key)
            .ok()
            .map(|index| self.rungs[index].level_slot)
    }

    /// Add a level at the position [`Ladder::position`] returned as `Err`.
    pub fn insert_at(&mut self, index: usize, rung: Rung) {
        self.rungs.insert(index, rung);
    }

    /// Remove the level with `key` (no-op if absent).
    pub fn remove(&mut self, key: u64) {
        if let Ok(index) = self.position(key) {
            self.rungs.remove(index);
        }
    }
}
