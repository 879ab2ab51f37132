//! The matching engine (HM-3): one price-time priority order book per market
//! (algorithm × tenor), with integers inside and the same events out for the
//! same commands in, always.
//!
//! # Using it
//!
//! ```
//! use hashmarket_matching::{BookConfig, Command, EventKind, OrderBook, PlaceOrder, Side, TimeInForce};
//!
//! let mut book = OrderBook::new(BookConfig::default());
//! let mut events = Vec::new();
//! let ask = PlaceOrder {
//!     order_id: 1, owner_id: 10, side: Side::Sell, price_ticks: 550,
//!     qty_lots: 40, time_in_force: TimeInForce::Gtc, post_only: false,
//! };
//! book.apply(&Command::Place(ask), &mut events);
//! let bid = PlaceOrder { order_id: 2, owner_id: 20, side: Side::Buy, price_ticks: 560, qty_lots: 15, ..ask };
//! book.apply(&Command::Place(bid), &mut events);
//! // The fill is at the resting order's price, 550.
//! assert!(matches!(events[2].kind, EventKind::Fill { price_ticks: 550, qty_lots: 15, .. }));
//! assert_eq!(book.best_ask().unwrap().qty_lots, 25);
//! ```
//!
//! # What it promises
//!
//! * **Pure and deterministic.** No I/O, no clock, no randomness, no floats.
//!   Every command gets the book's next sequence number (starting from
//!   [`BookConfig::first_seq`], so a restored book carries on), and its events
//!   are pushed to a caller-provided [`EventSink`] in the order they happen.
//!   The only hash map (order id → slot) is looked up, never iterated.
//! * **Price-time priority.** An incoming order trades with the best-priced
//!   resting order first and, within a price, the oldest first; each fill is at
//!   the resting (maker) order's price. Partial fills on both sides.
//! * **Never panics on input.** Bad commands produce [`EventKind::Rejected`] and
//!   change nothing (they still use up a sequence number). Quantities that
//!   could overflow a level total are rejected, not wrapped.
//! * **Checked.** Cheap `assert!`s run always (the book is not crossed after a
//!   command); the full structural check ([`OrderBook::check_invariants`]) runs
//!   after every command in debug builds. Property tests compare every event
//!   with [`reference::ReferenceBook`], a slow model that is obviously right.
//!
//! # How it is built (and why it is fast)
//!
//! * Orders live in a **slab** (a `Vec` plus a stack of free slots), addressed
//!   by `u32`. An order id maps to its slot through an `FxHashMap`, so cancel
//!   and amend find an order in O(1).
//! * Each **price level** keeps its orders in an *intrusive* doubly-linked FIFO
//!   (the `prev`/`next` links are fields of the order itself): appending,
//!   taking the oldest, and unlinking from the middle are all O(1) and never
//!   allocate.
//! * Each side's levels sit in a **ladder**: a `Vec` sorted so that the best
//!   level is the *last* element. The top of the book — where nearly all the
//!   activity is — is reached without searching, and adding or removing the best
//!   level is a push or pop. Deeper levels are found by binary search; inserting
//!   one moves only the rungs above it, which are few when the level is near
//!   the top.
//!
//! After warm-up (or with [`BookConfig::capacity_orders`] set) the hot path does
//! not allocate: slots, levels and index entries are all reused.
//!
//! # Self-trade prevention
//!
//! When an incoming order meets a resting order of the same owner, the book's
//! [`SelfTradePrevention`] mode decides: cancel the incoming remainder (the
//! default, "cancel newest"), cancel the resting order and keep matching
//! ("cancel oldest"), or cancel both. Cancellations it causes are reported as
//! [`EventKind::Cancelled`] with [`CancelReason::SelfTradePrevention`]. A FOK
//! order that would meet its own owner before being filled is rejected unless
//! the mode is cancel-oldest (then it counts only the other owners' quantity).
//!
//! # Amend
//!
//! [`Command::Amend`] sets a resting order's price and *remaining* quantity.
//! Shrinking at the same price keeps the order's place in the queue; a price
//! change or a size increase sends it to the back of its (new) level. An amend
//! whose new price crosses trades like a new GTC order with the same id
//! (a post-only order's crossing amend is rejected instead).
//!
//! # Order ids
//!
//! Ids must be unique among *resting* orders of a book; the book does not
//! remember the ids of orders that are gone (the sequencer gives every order a
//! fresh engine id, so reuse never happens in practice).

#![deny(missing_docs)]

mod book;
mod invariants;
pub mod reference;
mod snapshot;
mod store;
mod types;

pub use book::{BookConfig, OrderBook};
pub use snapshot::{BookSnapshot, RestingOrder, RestoreError};
pub use types::{
    CancelReason, Command, Event, EventKind, EventSink, LevelView, OrderId, OwnerId, PlaceOrder,
    RejectReason, SelfTradePrevention, Side, TimeInForce,
};
