//! The vocabulary of the engine: commands in, events out, and the small enums
//! they are made of. Everything is a plain integer or a fieldless enum, so a
//! command or event is `Copy` and never allocates.

use serde::{Deserialize, Serialize};

/// The book-local identifier of an order, chosen by the caller (the sequencer
/// uses its engine id). Unique among the orders resting in one book.
pub type OrderId = u64;

/// The identifier of the account that owns an order; orders with the same
/// owner never trade with each other (see [`SelfTradePrevention`]).
pub type OwnerId = u64;

/// Which side of the book an order is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Side {
    /// A bid: wants to buy hash power at or below its price.
    Buy,
    /// An ask: offers hash power at or above its price.
    Sell,
}

impl Side {
    /// The side this order trades against.
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// Whether an order on this side with limit `limit_ticks` may trade with a
    /// resting order at `resting_ticks`: a buyer pays at most its limit, a
    /// seller accepts at least its limit.
    pub fn crosses(self, limit_ticks: u64, resting_ticks: u64) -> bool {
        match self {
            Side::Buy => resting_ticks <= limit_ticks,
            Side::Sell => resting_ticks >= limit_ticks,
        }
    }
}

/// How long an order may live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimeInForce {
    /// Good till cancelled: whatever does not trade at once rests in the book.
    Gtc,
    /// Immediate or cancel: trade what can trade now, expire the rest.
    Ioc,
    /// Fill or kill: trade the whole quantity now, or reject and change nothing.
    Fok,
}

/// What the book does when an incoming order would trade with a resting order
/// of the same owner. Chosen per book in [`crate::BookConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum SelfTradePrevention {
    /// Cancel the incoming order's remainder and stop matching; the resting
    /// order keeps its place. The default ("cancel newest").
    #[default]
    CancelNewest,
    /// Cancel the resting order and keep matching the incoming order against
    /// the next one ("cancel oldest").
    CancelOldest,
    /// Cancel both the resting order and the incoming remainder.
    CancelBoth,
}

/// A new order for the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlaceOrder {
    /// Caller-chosen id; must not collide with a resting order.
    pub order_id: OrderId,
    /// The owning account.
    pub owner_id: OwnerId,
    /// Buy or sell.
    pub side: Side,
    /// Limit price in ticks; must be positive.
    pub price_ticks: u64,
    /// Quantity in lots of the market's hash-rate step; must be positive.
    pub qty_lots: u64,
    /// GTC, IOC or FOK.
    pub time_in_force: TimeInForce,
    /// Maker-only: rejected instead of trading if it would cross (GTC only).
    pub post_only: bool,
}

/// One instruction to a book. Every command gets the book's next sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Command {
    /// Add an order (it may trade at once).
    Place(PlaceOrder),
    /// Remove a resting order.
    Cancel {
        /// The order to remove.
        order_id: OrderId,
    },
    /// Change a resting order's price and/or remaining quantity. Decreasing
    /// the quantity at the same price keeps time priority; any price change or
    /// quantity increase sends the order to the back of its (new) level. A new
    /// price that crosses trades like a new GTC order.
    Amend {
        /// The order to change.
        order_id: OrderId,
        /// The new limit price in ticks.
        new_price_ticks: u64,
        /// The new *remaining* quantity in lots (not the original size).
        new_qty_lots: u64,
    },
}

/// Why an order left the book (or never entered it) by cancellation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CancelReason {
    /// Its owner asked (a [`Command::Cancel`]).
    UserRequest,
    /// It would have traded with an order of the same owner.
    SelfTradePrevention,
}

/// Why a command was refused. A rejected command changes nothing in the book
/// (it still consumes a sequence number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RejectReason {
    /// A post-only order (or an amend of one) would have traded.
    PostOnlyWouldCross,
    /// Post-only was combined with IOC or FOK, which never rest.
    PostOnlyNeedsGtc,
    /// A FOK order could not be filled completely at once.
    FokCannotFill,
    /// Cancel or amend of an order that is not resting in this book.
    UnknownOrder,
    /// Place with the id of an order that is resting in this book.
    DuplicateOrderId,
    /// Quantity of zero lots.
    ZeroQty,
    /// Price of zero ticks.
    ZeroPrice,
    /// The order would push a price level's total past `u64::MAX` lots.
    QtyOverflow,
    /// The book holds as many resting orders as its slab can address.
    BookFull,
}

/// What happened, in order. Every event carries the sequence number of the
/// command that caused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Event {
    /// The sequence number of the command this event belongs to.
    pub seq: u64,
    /// What happened.
    pub kind: EventKind,
}

/// The kinds of [`Event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// A place command passed validation; fills, a cancel or an expiry may follow.
    Accepted {
        /// The new order.
        order_id: OrderId,
        /// Its owner.
        owner_id: OwnerId,
        /// Its side.
        side: Side,
        /// Its limit price.
        price_ticks: u64,
        /// Its full quantity.
        qty_lots: u64,
    },
    /// A trade between a resting maker and an incoming taker, at the maker's price.
    Fill {
        /// The resting order.
        maker_order_id: OrderId,
        /// The incoming order (or the amended order that crossed).
        taker_order_id: OrderId,
        /// The maker's owner.
        maker_owner: OwnerId,
        /// The taker's owner.
        taker_owner: OwnerId,
        /// The trade price: the resting order's price.
        price_ticks: u64,
        /// The traded quantity.
        qty_lots: u64,
        /// What the maker still has open after this fill (0: it is done).
        maker_remaining_lots: u64,
        /// What the taker still has open after this fill.
        taker_remaining_lots: u64,
    },
    /// An order was removed with `remaining_lots` unfilled.
    Cancelled {
        /// The order.
        order_id: OrderId,
        /// Unfilled quantity given up.
        remaining_lots: u64,
        /// Why.
        reason: CancelReason,
    },
    /// The unfilled remainder of an IOC order lapsed.
    Expired {
        /// The order.
        order_id: OrderId,
        /// Unfilled quantity given up.
        remaining_lots: u64,
    },
    /// A command was refused and changed nothing.
    Rejected {
        /// The order the command named.
        order_id: OrderId,
        /// Why.
        reason: RejectReason,
    },
    /// An amend was applied; fills may follow if the new price crosses.
    Amended {
        /// The order.
        order_id: OrderId,
        /// The new price.
        price_ticks: u64,
        /// The new remaining quantity.
        qty_lots: u64,
        /// The remaining quantity before the amend (so audits can account for
        /// the change in size).
        old_qty_lots: u64,
        /// Whether the order kept its place in the queue.
        priority_kept: bool,
    },
}

/// One aggregated price level, as [`crate::OrderBook::depth`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LevelView {
    /// The level's price.
    pub price_ticks: u64,
    /// The sum of the remaining quantity of its orders.
    pub qty_lots: u64,
    /// How many orders rest there.
    pub order_count: u32,
}

/// Where events go. Implemented for `Vec<Event>`; a benchmark or a sequencer
/// can implement it to count or forward events without storing them.
pub trait EventSink {
    /// Receive one event.
    fn push(&mut self, event: Event);
}

impl EventSink for Vec<Event> {
    fn push(&mut self, event: Event) {
        Vec::push(self, event);
    }
}
