//! What the HTTP layer asks of a market's sequencer, and what it answers.

use std::sync::Arc;

use rust_decimal::Decimal;
use tokio::sync::oneshot;
use uuid::Uuid;

use hashmarket_store::market::{ContractRow, OrderRow};

/// Buy (bid) or sell (ask).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// A buyer's bid.
    Buy,
    /// A seller's ask, from one rig.
    Sell,
}

impl Side {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
}

/// How long an order may rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel: fill what can be filled now, expire the rest.
    Ioc,
    /// Fill or kill: fill all now or nothing.
    Fok,
}

impl TimeInForce {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeInForce::Gtc => "gtc",
            TimeInForce::Ioc => "ioc",
            TimeInForce::Fok => "fok",
        }
    }
}

/// A validated order, ready for its market's sequencer.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// The id it will have.
    pub id: Uuid,
    /// Who places it.
    pub user_id: Uuid,
    /// Buy or sell.
    pub side: Side,
    /// Limit price (quote asset per display unit per day), on the tick.
    pub price: Decimal,
    /// Hash rate in H/s, on the market's step.
    pub hash_rate_hs: i64,
    /// Time in force.
    pub time_in_force: TimeInForce,
    /// Refuse to take liquidity.
    pub post_only: bool,
    /// The rig offered (sells only).
    pub rig_id: Option<Uuid>,
    /// The client's own reference.
    pub client_order_id: Option<String>,
}

/// Why an order (or cancel) was refused; nothing was written for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// The buyer's available balance does not cover the worst-case cost plus fee.
    #[error("available balance {available} does not cover {needed}")]
    InsufficientFunds {
        /// What the order must hold.
        needed: Decimal,
        /// What is available.
        available: Decimal,
    },
    /// The rig lacks free capacity for the ask.
    #[error("the rig has {free_hs} H/s free; the ask needs {needed_hs} H/s")]
    RigCapacityExceeded {
        /// Free capacity.
        free_hs: i64,
        /// Asked.
        needed_hs: i64,
    },
    /// The rig does not exist, is deleted, or belongs to someone else.
    #[error("no such rig")]
    RigNotFound,
    /// The rig's algorithm is not the market's.
    #[error("the rig mines {rig}, the market trades {market}")]
    RigAlgorithmMismatch {
        /// The rig's algorithm.
        rig: String,
        /// The market's.
        market: String,
    },
    /// The order does not exist or is someone else's.
    #[error("no such order")]
    OrderNotFound,
    /// The order is no longer open.
    #[error("the order is {status}")]
    NotOpen {
        /// Its status.
        status: String,
    },
    /// The engine refused it (post-only would cross, FOK cannot fill, ...).
    #[error("{0}")]
    Rejected(String),
    /// Another node runs this market's sequencer; this one does not take its orders.
    #[error("this node does not run the market's sequencer")]
    NotOwned,
    /// The batch could not be committed; nothing was written. Retry (same key).
    #[error("the order could not be committed: {0}")]
    Unavailable(String),
    /// This Idempotency-Key was used before with this payload: its stored answer.
    #[error("replay of an earlier answer")]
    Replay {
        /// Stored status.
        status: u16,
        /// Stored body.
        body: String,
    },
    /// This Idempotency-Key is being used by another request right now.
    #[error("a request with this Idempotency-Key is in flight")]
    IdempotencyInFlight,
    /// This Idempotency-Key was used with a different payload.
    #[error("this Idempotency-Key was used with a different payload")]
    IdempotencyMismatch,
}

/// The outcome of an accepted command: the order as it now stands and the
/// contracts its fills created.
#[derive(Debug, Clone)]
pub struct OrderOutcome {
    /// The order after the command.
    pub order: OrderRow,
    /// Contracts created by this command (fills as taker).
    pub contracts: Vec<ContractRow>,
}

/// The Idempotency-Key of a request, checked and recorded by the sequencer inside
/// the batch that makes the effect — no separate claim, no extra commit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyRequest {
    /// The principal's namespace.
    pub principal: String,
    /// The client's key.
    pub key: String,
    /// The payload fingerprint.
    pub fingerprint: String,
}

/// Renders the answer body of an accepted order, stored with it for replays.
pub type RenderFn = Box<dyn FnOnce(&OrderOutcome) -> String + Send + Sync>;

/// A command for a sequencer, addressed to one of its markets.
pub struct Command {
    /// The market (one the sequencer runs).
    pub market: Arc<str>,
    /// What to do there.
    pub action: Action,
}

/// What a command asks of a market.
pub enum Action {
    /// Place an order.
    Place {
        /// The order.
        order: NewOrder,
        /// Its Idempotency-Key, and how to render the answer stored with it.
        idempotency: Option<(IdempotencyRequest, RenderFn)>,
        /// Where the answer goes.
        reply: oneshot::Sender<Result<OrderOutcome, OrderError>>,
    },
    /// Cancel an open order of `user_id`.
    Cancel {
        /// The order.
        order_id: Uuid,
        /// Its owner (anyone else gets `OrderNotFound`).
        user_id: Uuid,
        /// Where the answer goes.
        reply: oneshot::Sender<Result<OrderOutcome, OrderError>>,
    },
    /// Report the book's aggregated depth.
    Depth {
        /// Levels per side.
        levels: usize,
        /// Where the answer goes.
        reply: oneshot::Sender<crate::book::Depth>,
    },
}
