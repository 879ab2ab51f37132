//! A sequencer: the single task that owns the order books of a group of markets —
//! the markets this node runs that settle in the same asset.
//!
//! It takes commands in batches (whatever is queued, up to [`MAX_BATCH`], for any of
//! its markets), runs each through its market's book in arrival order, and writes
//! the whole batch in one transaction before answering anyone (group commit). One
//! writer per book means no races on a book. Why group by asset: a buyer's accounts
//! are per asset, and every buy locks them until its transaction commits; separate
//! tasks for markets of one asset would queue behind each other's commits on those
//! row locks (one fsync each), while one task commits them together (one fsync for
//! all). Groups of different assets run in parallel. If a batch cannot be committed,
//! nothing of it happened: every command of the batch is answered `Unavailable`
//! (clients retry with the same idempotency key) and the group's books are rebuilt
//! from the database — read again and again, backing off, until the database can
//! be read, because the books in memory still hold the failed batch.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use rustc_hash::FxHashMap;

use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use hashmarket_store::market::{IdempotencyClaim, IdempotencyRecord, OrderRow};
use hashmarket_store::{MarketLease, Store, StoreError};

use crate::batch::Batch;
use crate::book::Depth;
use crate::clock::BusinessClock;
use crate::command::{
    Action, Command, IdempotencyRequest, NewOrder, OrderError, OrderOutcome, RenderFn,
};
use crate::execution::Execution;
use crate::notices::Notices;
use crate::spec::MarketTerms;

/// Most commands written in one transaction.
pub const MAX_BATCH: usize = 256;
/// Most commands queued for a sequencer before callers wait (back-pressure).
pub const QUEUE_DEPTH: usize = 4096;

/// First wait before reading a book again after its rebuild failed; it doubles.
const REBUILD_RETRY_FIRST_MS: u64 = 50;
/// Longest wait between attempts to read a book whose rebuild failed.
const REBUILD_RETRY_MAX_MS: u64 = 5_000;

/// Metric: commands per committed batch (a summary).
pub const BATCH_COMMANDS: &str = "hashmarket_sequencer_batch_commands";
/// Metric: seconds from a batch's start to its commit (a summary).
pub const BATCH_SECONDS: &str = "hashmarket_sequencer_batch_seconds";

/// What an earlier record of an Idempotency-Key means for a new request.
fn replay_error(claim: IdempotencyClaim) -> OrderError {
    match claim {
        IdempotencyClaim::Replay { status, body } => OrderError::Replay { status, body },
        IdempotencyClaim::Mismatch => OrderError::IdempotencyMismatch,
        IdempotencyClaim::InFlight | IdempotencyClaim::Fresh => OrderError::IdempotencyInFlight,
    }
}

/// A command's answer, waiting for its batch to commit.
type Reply = (
    oneshot::Sender<Result<OrderOutcome, OrderError>>,
    Result<OrderOutcome, OrderError>,
);

/// How the HTTP layer talks to one market of a sequencer.
#[derive(Clone)]
pub struct SequencerHandle {
    market: Arc<str>,
    tx: mpsc::Sender<Command>,
}

impl SequencerHandle {
    /// Places an order; with an Idempotency-Key, the key is checked and recorded in
    /// the same batch as the order, with the answer `render` makes.
    pub async fn place(
        &self,
        order: NewOrder,
        idempotency: Option<(IdempotencyRequest, RenderFn)>,
    ) -> Result<OrderOutcome, OrderError> {
        let (reply, answer) = oneshot::channel();
        self.send(
            Action::Place {
                order,
                idempotency,
                reply,
            },
            answer,
        )
        .await
    }

    /// Cancels an open order of `user_id`.
    pub async fn cancel(&self, order_id: Uuid, user_id: Uuid) -> Result<OrderOutcome, OrderError> {
        let (reply, answer) = oneshot::channel();
        self.send(
            Action::Cancel {
                order_id,
                user_id,
                reply,
            },
            answer,
        )
        .await
    }

    /// The book's aggregated depth, `levels` per side.
    pub async fn depth(&self, levels: usize) -> Result<Depth, OrderError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(self.command(Action::Depth { levels, reply }))
            .await
            .map_err(|_| OrderError::Unavailable("the market is stopping".into()))?;
        answer
            .await
            .map_err(|_| OrderError::Unavailable("the market is stopping".into()))
    }

    fn command(&self, action: Action) -> Command {
        Command {
            market: self.market.clone(),
            action,
        }
    }

    async fn send(
        &self,
        action: Action,
        answer: oneshot::Receiver<Result<OrderOutcome, OrderError>>,
    ) -> Result<OrderOutcome, OrderError> {
        self.tx
            .send(self.command(action))
            .await
            .map_err(|_| OrderError::Unavailable("the market is stopping".into()))?;
        answer
            .await
            .unwrap_or_else(|_| Err(OrderError::Unavailable("the market stopped".into())))
    }
}

/// One market of a sequencer: its terms, its book and resting orders' rows, and
/// the lease that makes this process its only writer.
struct MarketBook {
    terms: Arc<MarketTerms>,
    state: Execution,
    /// Held for as long as the sequencer runs: this process owns the market.
    _lease: MarketLease,
}

/// The sequencer's state: the books of its markets.
pub struct Sequencer {
    store: Arc<dyn Store>,
    clock: BusinessClock,
    notices: Notices,
    books: BTreeMap<Arc<str>, MarketBook>,
}

impl Sequencer {
    /// Rebuilds each market's book from the open orders in the database; the
    /// markets are ones this process holds the leases of.
    pub async fn recover(
        markets: Vec<(Arc<MarketTerms>, MarketLease)>,
        store: Arc<dyn Store>,
        clock: BusinessClock,
        notices: Notices,
    ) -> Result<Sequencer, StoreError> {
        let mut books = BTreeMap::new();
        for (terms, lease) in markets {
            let state = Execution::recover(terms.clone(), &store).await?;
            let book = MarketBook {
                terms: terms.clone(),
                state,
                _lease: lease,
            };
            books.insert(Arc::from(terms.id.as_str()), book);
        }
        Ok(Sequencer {
            store,
            clock,
            notices,
            books,
        })
    }

    /// Starts the sequencer task and returns a handle per market; the task ends
    /// when every handle is dropped.
    pub fn spawn(self) -> Vec<(String, SequencerHandle)> {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let handles = self
            .books
            .keys()
            .map(|market| {
                let handle = SequencerHandle {
                    market: market.clone(),
                    tx: tx.clone(),
                };
                (market.to_string(), handle)
            })
            .collect();
        tokio::spawn(self.run(rx));
        handles
    }

    /// The markets, for logs.
    fn names(&self) -> String {
        self.books
            .keys()
            .map(|m| &**m)
            .collect::<Vec<_>>()
            .join(",")
    }

    async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        let mut commands = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut commands, MAX_BATCH).await > 0 {
            let batch = std::mem::take(&mut commands);
            // An invariant assertion failing is a bug, not bad input; it must not take
            // the market down. The batch's transaction rolls back as it unwinds, its
            // callers see the reply channels close (503, retry-safe), and the book is
            // rebuilt from what is committed.
            let outcome = AssertUnwindSafe(self.process(batch)).catch_unwind().await;
            if outcome.is_err() {
                tracing::error!(markets = %self.names(), "a batch panicked; rebuilding the books from the database");
                self.rebuild().await;
            }
        }
        tracing::info!(markets = %self.names(), "sequencer stopped");
    }

    /// Runs one batch and answers its commands.
    async fn process(&mut self, commands: Vec<Command>) {
        let started = std::time::Instant::now();
        let size = commands.len();
        let mut replies: Vec<Reply> = Vec::with_capacity(commands.len());
        let work = match self.store.begin().await {
            Ok(work) => work,
            Err(err) => return self.fail(commands, replies, err).await,
        };
        let mut batch = Batch::new(work, self.clock.now(), self.notices.clone());
        let known = match self.prepare(&mut batch, &commands).await {
            Ok(known) => known,
            Err(err) => return self.fail(commands, replies, err).await,
        };
        let mut keys_in_batch = HashSet::new();
        let mut pending = commands.into_iter();
        while let Some(Command { market, action }) = pending.next() {
            let Some(book) = self.books.get_mut(&market) else {
                // Handles exist only for this task's markets; answered, never dropped.
                refuse(action, OrderError::NotOwned);
                continue;
            };
            let (result, idempotency, reply) = match action {
                Action::Depth { levels, reply } => {
                    let _ = reply.send(book.state.depth(levels));
                    continue;
                }
                Action::Place {
                    order,
                    idempotency,
                    reply,
                } => {
                    if let Some((request, _)) = &idempotency {
                        let id = (request.principal.clone(), request.key.clone());
                        let earlier = known.get(&id).cloned().map(replay_error);
                        let duplicate = !keys_in_batch.insert(id);
                        if let Some(answer) =
                            earlier.or(duplicate.then_some(OrderError::IdempotencyInFlight))
                        {
                            replies.push((reply, Err(answer)));
                            continue;
                        }
                    }
                    (
                        book.state.place(&mut batch, order).await,
                        idempotency,
                        reply,
                    )
                }
                Action::Cancel {
                    order_id,
                    user_id,
                    reply,
                } => (
                    book.state
                        .cancel(&mut batch, order_id, user_id, &*self.store)
                        .await,
                    None,
                    reply,
                ),
            };
            let result = match result {
                Ok(outcome) => outcome,
                Err(err) => {
                    drop(batch);
                    replies.push((reply, Err(OrderError::Unavailable(err.to_string()))));
                    return self.fail(pending.collect(), replies, err).await;
                }
            };
            if let (Ok(outcome), Some((request, render))) = (&result, idempotency) {
                batch.record(IdempotencyRecord {
                    principal: request.principal,
                    key: request.key,
                    fingerprint: request.fingerprint,
                    status: 201,
                    body: render(outcome),
                    created_at: batch.now(),
                });
            }
            replies.push((reply, result));
        }
        match batch.commit().await {
            Ok(()) => {
                metrics::histogram!(BATCH_COMMANDS).record(size as f64);
                metrics::histogram!(BATCH_SECONDS).record(started.elapsed().as_secs_f64());
                for (reply, result) in replies {
                    let _ = reply.send(result);
                }
            }
            Err(err) => self.fail(Vec::new(), replies, err).await,
        }
    }

    /// Before a batch runs: what earlier records say about its idempotency keys (one
    /// query), and the buyers' accounts locked (one round trip).
    async fn prepare(
        &self,
        batch: &mut Batch,
        commands: &[Command],
    ) -> Result<HashMap<(String, String), IdempotencyClaim>, StoreError> {
        let wanted: Vec<(String, String, String)> = commands
            .iter()
            .filter_map(|c| match &c.action {
                Action::Place {
                    idempotency: Some((r, _)),
                    ..
                } => Some((r.principal.clone(), r.key.clone(), r.fingerprint.clone())),
                _ => None,
            })
            .collect();
        let known = batch.find_idempotency(&wanted).await?;
        let accounts: Vec<_> = commands
            .iter()
            .filter_map(|c| match (&c.action, self.books.get(&c.market)) {
                (Action::Place { order, .. }, Some(book)) => {
                    Some(book.state.accounts_to_prelock(order))
                }
                _ => None,
            })
            .flatten()
            .collect();
        batch.lock(&accounts).await?;
        Ok(known
            .into_iter()
            .map(|(p, k, claim)| ((p, k), claim))
            .collect())
    }

    /// The batch failed to commit: nothing of it happened. Rebuild the books from
    /// the database and answer everyone `Unavailable`.
    async fn fail(&mut self, rest: Vec<Command>, replies: Vec<Reply>, err: StoreError) {
        tracing::error!(markets = %self.names(), error = %err, "batch not committed; rebuilding the books");
        let detail = format!("the batch was not committed: {err}");
        for (reply, _) in replies {
            let _ = reply.send(Err(OrderError::Unavailable(detail.clone())));
        }
        for Command { market, action } in rest {
            match (action, self.books.get(&market)) {
                (Action::Depth { levels, reply }, Some(book)) => {
                    let _ = reply.send(book.state.depth(levels));
                }
                (action, _) => refuse(action, OrderError::Unavailable(detail.clone())),
            }
        }
        self.rebuild().await;
    }

    /// Replaces the in-memory books with the ones the database holds. A book that
    /// cannot be read is retried until it can: the one in memory may hold a failed
    /// batch's fills and resting orders, and serving from it would trade against
    /// orders that do not exist. Meanwhile the sequencer takes no command; callers
    /// wait, and queue up to [`QUEUE_DEPTH`].
    async fn rebuild(&mut self) {
        for (market, book) in self.books.iter_mut() {
            book.state = recover_until_read(market, &book.terms, &self.store).await;
        }
    }
}

/// The book of `market` as the database holds it, read again and again — backing
/// off from [`REBUILD_RETRY_FIRST_MS`] to [`REBUILD_RETRY_MAX_MS`] — until a read
/// succeeds.
async fn recover_until_read(
    market: &str,
    terms: &Arc<MarketTerms>,
    store: &Arc<dyn Store>,
) -> Execution {
    let mut delay_ms = REBUILD_RETRY_FIRST_MS;
    loop {
        match Execution::recover(terms.clone(), store).await {
            Ok(state) => return state,
            Err(err) => {
                tracing::error!(%market, error = %err, retry_in_ms = delay_ms, "book rebuild failed; the market waits for it");
                tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
                delay_ms = (delay_ms * 2).min(REBUILD_RETRY_MAX_MS);
            }
        }
    }
}

/// Answers a command that will not run: a place or cancel gets `error`; a depth
/// request's reply is dropped (its caller sees the market unavailable).
fn refuse(action: Action, error: OrderError) {
    match action {
        Action::Place { reply, .. } | Action::Cancel { reply, .. } => {
            let _ = reply.send(Err(error));
        }
        Action::Depth { .. } => {}
    }
}

/// The resting orders of a market, by engine id, and the way back from order ids.
/// Fx-hashed: the keys are ids this server assigned, not attacker-chosen, and a
/// restart inserts a million of each (SipHash was a tenth of recovery's CPU).
#[derive(Default)]
pub struct Resting {
    /// Engine id → the order's row as last committed or changed.
    pub rows: FxHashMap<u64, OrderRow>,
    /// Order id → engine id.
    pub by_id: FxHashMap<Uuid, u64>,
}

impl Resting {
    /// Room for `orders` resting orders.
    pub fn with_capacity(orders: usize) -> Resting {
        let mut resting = Resting::default();
        resting.rows.reserve(orders);
        resting.by_id.reserve(orders);
        resting
    }

    /// Keeps a resting order.
    pub fn insert(&mut self, engine_id: u64, row: OrderRow) {
        self.by_id.insert(row.id, engine_id);
        self.rows.insert(engine_id, row);
    }

    /// Forgets an order that stopped resting.
    pub fn remove(&mut self, engine_id: u64) -> Option<OrderRow> {
        let row = self.rows.remove(&engine_id)?;
        self.by_id.remove(&row.id);
        Some(row)
    }
}
