//! A market's sequencer: the single task that owns the market's order book.
//!
//! It takes commands in batches (whatever is queued, up to [`MAX_BATCH`]), runs each
//! through the book in arrival order, and writes the whole batch in one
//! transaction before answering anyone (group commit). One writer per market means
//! no races on the book; many markets run in parallel. If a batch cannot be
//! committed, nothing of it happened: the book is rebuilt from the database and
//! every command of the batch is answered `Unavailable` (clients retry with the same
//! idempotency key).

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;

use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use hashmarket_store::market::{IdempotencyClaim, IdempotencyRecord, OrderRow};
use hashmarket_store::{MarketLease, Store, StoreError};

use crate::batch::Batch;
use crate::book::Depth;
use crate::clock::BusinessClock;
use crate::command::{Command, IdempotencyRequest, NewOrder, OrderError, OrderOutcome, RenderFn};
use crate::execution::Execution;
use crate::notices::Notices;
use crate::spec::MarketTerms;

/// Most commands written in one transaction.
pub const MAX_BATCH: usize = 256;
/// Most commands queued for a market before callers wait (back-pressure).
pub const QUEUE_DEPTH: usize = 4096;

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

/// How the HTTP layer talks to a market's sequencer.
#[derive(Clone)]
pub struct SequencerHandle {
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
            Command::Place {
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
            Command::Cancel {
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
            .send(Command::Depth { levels, reply })
            .await
            .map_err(|_| OrderError::Unavailable("the market is stopping".into()))?;
        answer
            .await
            .map_err(|_| OrderError::Unavailable("the market is stopping".into()))
    }

    async fn send(
        &self,
        command: Command,
        answer: oneshot::Receiver<Result<OrderOutcome, OrderError>>,
    ) -> Result<OrderOutcome, OrderError> {
        self.tx
            .send(command)
            .await
            .map_err(|_| OrderError::Unavailable("the market is stopping".into()))?;
        answer
            .await
            .unwrap_or_else(|_| Err(OrderError::Unavailable("the market stopped".into())))
    }
}

/// The sequencer's state: the book and the resting orders' rows.
pub struct Sequencer {
    terms: Arc<MarketTerms>,
    store: Arc<dyn Store>,
    clock: BusinessClock,
    notices: Notices,
    state: Execution,
    /// Held for as long as the sequencer runs: this process owns the market.
    _lease: MarketLease,
}

impl Sequencer {
    /// Rebuilds the market's book from the open orders in the database.
    pub async fn recover(
        terms: Arc<MarketTerms>,
        store: Arc<dyn Store>,
        clock: BusinessClock,
        notices: Notices,
        lease: MarketLease,
    ) -> Result<Sequencer, StoreError> {
        let state = Execution::recover(terms.clone(), &*store).await?;
        Ok(Sequencer {
            terms,
            store,
            clock,
            notices,
            state,
            _lease: lease,
        })
    }

    /// Starts the sequencer task; it ends when every handle is dropped.
    pub fn spawn(self) -> SequencerHandle {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(self.run(rx));
        SequencerHandle { tx }
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
                tracing::error!(market = %self.terms.id, "a batch panicked; rebuilding the book from the database");
                self.rebuild().await;
            }
        }
        tracing::info!(market = %self.terms.id, "sequencer stopped");
    }

    /// Runs one batch and answers its commands.
    async fn process(&mut self, commands: Vec<Command>) {
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
        while let Some(command) = pending.next() {
            let (result, idempotency, reply) = match command {
                Command::Depth { levels, reply } => {
                    let _ = reply.send(self.state.depth(levels));
                    continue;
                }
                Command::Place {
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
                        self.state.place(&mut batch, order).await,
                        idempotency,
                        reply,
                    )
                }
                Command::Cancel {
                    order_id,
                    user_id,
                    reply,
                } => (
                    self.state
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
            .filter_map(|c| match c {
                Command::Place {
                    idempotency: Some((r, _)),
                    ..
                } => Some((r.principal.clone(), r.key.clone(), r.fingerprint.clone())),
                _ => None,
            })
            .collect();
        let known = batch.find_idempotency(&wanted).await?;
        let orders = commands.iter().filter_map(|c| match c {
            Command::Place { order, .. } => Some(order),
            _ => None,
        });
        self.state.prelock(batch, orders).await?;
        Ok(known
            .into_iter()
            .map(|(p, k, claim)| ((p, k), claim))
            .collect())
    }

    /// The batch failed to commit: nothing of it happened. Rebuild the book from the
    /// database and answer everyone `Unavailable`.
    async fn fail(&mut self, rest: Vec<Command>, replies: Vec<Reply>, err: StoreError) {
        tracing::error!(market = %self.terms.id, error = %err, "batch not committed; rebuilding the book");
        let detail = format!("the batch was not committed: {err}");
        for (reply, _) in replies {
            let _ = reply.send(Err(OrderError::Unavailable(detail.clone())));
        }
        for command in rest {
            match command {
                Command::Place { reply, .. } | Command::Cancel { reply, .. } => {
                    let _ = reply.send(Err(OrderError::Unavailable(detail.clone())));
                }
                Command::Depth { levels, reply } => {
                    let _ = reply.send(self.state.depth(levels));
                }
            }
        }
        self.rebuild().await;
    }

    /// Replaces the in-memory book with the one the database holds.
    async fn rebuild(&mut self) {
        match Execution::recover(self.terms.clone(), &*self.store).await {
            Ok(state) => self.state = state,
            Err(err) => {
                tracing::error!(market = %self.terms.id, error = %err, "book rebuild failed")
            }
        }
    }
}

/// The resting orders of a market, by engine id, and the way back from order ids.
#[derive(Default)]
pub struct Resting {
    /// Engine id → the order's row as last committed or changed.
    pub rows: HashMap<u64, OrderRow>,
    /// Order id → engine id.
    pub by_id: HashMap<Uuid, u64>,
}

impl Resting {
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
