//! What a command does to the book, the ledger and the rigs — the heart of the
//! order path. Runs inside a sequencer, one command at a time, against a [`Batch`].
//!
//! Money, step by step (DESIGN.md):
//! - a buy holds its worst-case cost plus buyer fee: `available → order_hold`;
//! - a fill moves the contract's cost `order_hold → contract_escrow`, its buyer fee
//!   `order_hold → operator fees`, and the price improvement (what the hold set
//!   aside for this hash rate at the limit price, less what the fill used) back
//!   `order_hold → available`;
//! - a cancel or an IOC/FOK remainder releases what is still held;
//! - a sell reserves rig capacity (`offered`); a fill moves it to `contracted`.
//!
//! Amounts round down to the asset's places, so the hold set aside for part of an
//! order never exceeds what is left of its hold: the last fill or the release takes
//! exactly the remainder, and no satoshi is lost or made up.

use std::sync::Arc;

use chrono::Duration;
use futures_util::stream::BoxStream;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use uuid::Uuid;

use hashmarket_contracts::ContractStatus;
use hashmarket_store::batches::{read_in_batches, BatchLimits};
use hashmarket_store::market::{AccountRef, ContractRow, OrderRow, OPERATOR_ID};
use hashmarket_store::{Store, StoreError};

use crate::batch::{account, Batch, Refs};
use crate::book::{Book, BookEvent, Depth, DoneReason};
use crate::command::{NewOrder, OrderError, OrderOutcome, Side};
use crate::money::{Purpose, TransferKind};
use crate::sequencer::Resting;
use crate::spec::MarketTerms;

/// A market's live state: its book and its resting orders.
pub struct Execution {
    terms: Arc<MarketTerms>,
    book: Book,
    resting: Resting,
    next_engine_id: u64,
    owners: FxHashMap<Uuid, u64>,
    events: Vec<BookEvent>,
}

/// Recovery reads open orders on a task of its own, in batches: decoding the rows
/// (one core) overlaps rebuilding the book (another).
const RECOVERY_BATCHES: BatchLimits = BatchLimits {
    rows: 4096,
    in_flight: 4,
};

/// Recovery reserves room for at most this many orders up front (beyond it the
/// maps grow as usual): a bound on what a wrong count could make us allocate.
const MAX_RESERVED_ORDERS: usize = 10_000_000;

/// A market's open orders, in engine order (what [`read_in_batches`] runs).
fn open_orders(source: &(Arc<dyn Store>, String)) -> BoxStream<'_, Result<OrderRow, StoreError>> {
    source.0.open_orders(&source.1)
}

impl Execution {
    /// Rebuilds the state from the open orders in the database, in engine order, so
    /// the book has the same priority it had and numbering continues where it was.
    pub async fn recover(
        terms: Arc<MarketTerms>,
        store: &Arc<dyn Store>,
    ) -> Result<Execution, StoreError> {
        let max_engine_id = store.max_engine_id(&terms.id).await?;
        // Maps sized once for what will be restored: growing them order by order
        // re-hashes (and moves) every row several times on the way to a million.
        let open_count = store.open_order_count(&terms.id).await?;
        let capacity = usize::try_from(open_count)
            .unwrap_or(usize::MAX)
            .min(MAX_RESERVED_ORDERS);
        let mut owners = FxHashMap::default();
        owners.reserve(capacity);
        let mut state = Execution {
            book: Book::with_capacity(capacity),
            resting: Resting::with_capacity(capacity),
            next_engine_id: u64::try_from(max_engine_id).unwrap_or(0) + 1,
            owners,
            events: Vec::new(),
            terms,
        };
        let source = (store.clone(), state.terms.id.clone());
        let mut batches = read_in_batches(source, open_orders, RECOVERY_BATCHES);
        while let Some(batch) = batches.recv().await {
            for row in batch? {
                state.restore(row);
            }
        }
        Ok(state)
    }

    fn restore(&mut self, row: OrderRow) {
        let engine_id = u64::try_from(row.engine_id).unwrap_or(0);
        let owner = self.owner(row.user_id);
        let side = if row.side == "buy" {
            Side::Buy
        } else {
            Side::Sell
        };
        let remaining_lots = self.terms.lots(row.hash_rate_hs - row.filled_hs);
        let price_ticks = self.terms.ticks(row.price);
        self.book
            .restore(engine_id, owner, side, price_ticks, remaining_lots);
        self.resting.insert(engine_id, row);
    }

    /// A dense owner id for self-trade prevention (stable within this process).
    fn owner(&mut self, user_id: Uuid) -> u64 {
        let next = self.owners.len() as u64 + 1;
        *self.owners.entry(user_id).or_insert(next)
    }

    /// Nothing to do after a commit: state is already current.
    pub fn committed(&mut self) {}

    /// The book's depth.
    pub fn depth(&self, levels: usize) -> Depth {
        self.book.depth(levels, self.next_engine_id - 1)
    }

    /// Places an order. `Ok(Err(_))` is a refusal (nothing written for it); `Err` is a
    /// database failure that aborts the batch.
    pub async fn place(
        &mut self,
        batch: &mut Batch,
        order: NewOrder,
    ) -> Result<Result<OrderOutcome, OrderError>, StoreError> {
        let admitted = match order.side {
            Side::Buy => self.admit_buy(batch, &order).await?,
            Side::Sell => self.admit_sell(batch, &order).await?,
        };
        if let Err(refusal) = admitted {
            return Ok(Err(refusal));
        }
        let engine_id = self.next_engine_id;
        let owner = self.owner(order.user_id);
        let (ticks, lots) = (
            self.terms.ticks(order.price),
            self.terms.lots(order.hash_rate_hs),
        );
        let mut events = std::mem::take(&mut self.events);
        events.clear();
        self.book.place(
            engine_id,
            owner,
            order.side,
            ticks,
            lots,
            order.time_in_force,
            order.post_only,
            &mut events,
        );
        if let Some(reason) = events.iter().find_map(BookEvent::rejection) {
            self.events = events;
            return Ok(Err(OrderError::Rejected(reason)));
        }
        self.next_engine_id += 1;
        let mut row = self.new_row(&order, engine_id, batch);
        self.reserve(batch, &mut row);
        let mut contracts = Vec::new();
        for event in &events {
            self.apply(batch, &mut row, event, &mut contracts).await?;
        }
        self.events = events;
        self.settle_status(&mut row, engine_id);
        batch.put_order(row.clone());
        Ok(Ok(OrderOutcome {
            order: row,
            contracts,
        }))
    }

    /// Cancels a resting order of `user_id`.
    pub async fn cancel(
        &mut self,
        batch: &mut Batch,
        order_id: Uuid,
        user_id: Uuid,
        store: &dyn Store,
    ) -> Result<Result<OrderOutcome, OrderError>, StoreError> {
        let Some(&engine_id) = self.resting.by_id.get(&order_id) else {
            return Ok(Err(self.not_open(order_id, user_id, store).await?));
        };
        let mut row = self.resting.rows[&engine_id].clone();
        if row.user_id != user_id {
            return Ok(Err(OrderError::OrderNotFound));
        }
        let mut events = std::mem::take(&mut self.events);
        events.clear();
        self.book.cancel(engine_id, &mut events);
        let mut contracts = Vec::new();
        for event in &events {
            self.apply(batch, &mut row, event, &mut contracts).await?;
        }
        self.events = events;
        self.settle_status(&mut row, engine_id);
        batch.put_order(row.clone());
        Ok(Ok(OrderOutcome {
            order: row,
            contracts,
        }))
    }

    async fn not_open(
        &self,
        order_id: Uuid,
        user_id: Uuid,
        store: &dyn Store,
    ) -> Result<OrderError, StoreError> {
        Ok(match store.order(order_id).await? {
            Some(row) if row.user_id == user_id && row.market == self.terms.id => {
                OrderError::NotOpen { status: row.status }
            }
            _ => OrderError::OrderNotFound,
        })
    }

    /// The accounts placing `order` will lock (a buyer's), for the sequencer to
    /// lock every order's in one round trip before the batch runs.
    pub fn accounts_to_prelock(&self, order: &NewOrder) -> Vec<AccountRef> {
        match order.side {
            Side::Buy => self.buyer_accounts(order.user_id).to_vec(),
            Side::Sell => Vec::new(),
        }
    }

    /// Checks the buyer can hold the worst case; writes nothing.
    async fn admit_buy(
        &self,
        batch: &mut Batch,
        order: &NewOrder,
    ) -> Result<Result<(), OrderError>, StoreError> {
        let needed = self.terms.hold_for(order.hash_rate_hs, order.price);
        let available = account(order.user_id, &self.terms.asset, Purpose::Available);
        batch.lock(&self.buyer_accounts(order.user_id)).await?;
        let balance = batch.balance(&available);
        if balance < needed {
            return Ok(Err(OrderError::InsufficientFunds {
                needed,
                available: balance,
            }));
        }
        Ok(Ok(()))
    }

    /// Checks the rig is the seller's, mines this market's algorithm and has room.
    async fn admit_sell(
        &self,
        batch: &mut Batch,
        order: &NewOrder,
    ) -> Result<Result<(), OrderError>, StoreError> {
        let Some(rig_id) = order.rig_id else {
            return Ok(Err(OrderError::RigNotFound));
        };
        let Some(rig) = batch.rig(rig_id).await? else {
            return Ok(Err(OrderError::RigNotFound));
        };
        if rig.owner_id != order.user_id {
            return Ok(Err(OrderError::RigNotFound));
        }
        if rig.algorithm != self.terms.algorithm {
            return Ok(Err(OrderError::RigAlgorithmMismatch {
                rig: rig.algorithm.clone(),
                market: self.terms.algorithm.clone(),
            }));
        }
        if rig.free_hs() < order.hash_rate_hs {
            return Ok(Err(OrderError::RigCapacityExceeded {
                free_hs: rig.free_hs(),
                needed_hs: order.hash_rate_hs,
            }));
        }
        Ok(Ok(()))
    }

    fn buyer_accounts(&self, user_id: Uuid) -> [AccountRef; 4] {
        let asset = &self.terms.asset;
        [
            account(user_id, asset, Purpose::Available),
            account(user_id, asset, Purpose::OrderHold),
            account(user_id, asset, Purpose::ContractEscrow),
            account(OPERATOR_ID, asset, Purpose::Fees),
        ]
    }

    fn new_row(&self, order: &NewOrder, engine_id: u64, batch: &Batch) -> OrderRow {
        OrderRow {
            id: order.id,
            engine_id: engine_id as i64,
            user_id: order.user_id,
            market: self.terms.id.clone(),
            side: order.side.as_str().to_string(),
            price: order.price,
            hash_rate_hs: order.hash_rate_hs,
            filled_hs: 0,
            status: "open".to_string(),
            time_in_force: order.time_in_force.as_str().to_string(),
            post_only: order.post_only,
            rig_id: order.rig_id,
            client_order_id: order.client_order_id.clone(),
            hold_remaining: Decimal::ZERO,
            created_at: batch.now(),
            updated_at: batch.now(),
        }
    }

    /// Sets aside what a new order needs: the buyer's hold, or the rig's capacity.
    /// Admission checked both, so neither can fail here.
    fn reserve(&self, batch: &mut Batch, row: &mut OrderRow) {
        if row.side == "buy" {
            let [available, hold, _, _] = self.buyer_accounts(row.user_id);
            let amount = self.terms.hold_for(row.hash_rate_hs, row.price);
            let refs = Refs {
                order_id: Some(row.id),
                contract_id: None,
                ..Refs::default()
            };
            batch.transfer(TransferKind::Hold, &available, &hold, amount, refs);
            row.hold_remaining = amount;
        } else if let Some(rig_id) = row.rig_id {
            batch.locked_rig(rig_id).offered_hs += row.hash_rate_hs;
        }
    }

    /// Applies one book event to the taker's row (`row`), or to a maker's.
    async fn apply(
        &mut self,
        batch: &mut Batch,
        row: &mut OrderRow,
        event: &BookEvent,
        contracts: &mut Vec<ContractRow>,
    ) -> Result<(), StoreError> {
        match *event {
            BookEvent::Fill {
                maker,
                price_ticks,
                qty_lots,
                ..
            } => {
                let mut maker_row = self.resting.rows.get(&maker).cloned().unwrap_or_else(|| {
                    panic!("book filled maker {maker} which has no resting row")
                });
                let contract = {
                    let (buy, sell) = if row.side == "buy" {
                        (&mut *row, &mut maker_row)
                    } else {
                        (&mut maker_row, &mut *row)
                    };
                    self.fill(batch, buy, sell, price_ticks, qty_lots).await?
                };
                contracts.push(contract);
                let maker_engine_id = maker;
                self.settle_status(&mut maker_row, maker_engine_id);
                batch.put_order(maker_row);
            }
            BookEvent::Done {
                order,
                reason,
                remaining_lots,
            } => {
                if let Some(mut resting) = self
                    .resting
                    .rows
                    .get(&order)
                    .cloned()
                    .filter(|r| r.id != row.id)
                {
                    self.release(batch, &mut resting, remaining_lots, reason)
                        .await?;
                    self.settle_status(&mut resting, order);
                    batch.put_order(resting);
                } else {
                    self.release(batch, row, remaining_lots, reason).await?;
                }
            }
            BookEvent::Rejected { .. } => {}
        }
        Ok(())
    }

    /// One fill: a contract, its money, and the rig's capacity moving to contracted.
    async fn fill(
        &mut self,
        batch: &mut Batch,
        buy: &mut OrderRow,
        sell: &mut OrderRow,
        price_ticks: u64,
        qty_lots: u64,
    ) -> Result<ContractRow, StoreError> {
        let hash_rate_hs = self.terms.hash_rate_hs(qty_lots);
        let price = self.terms.price(price_ticks);
        let cost = self.terms.cost(hash_rate_hs, price);
        let fee = self.terms.buyer_fee(cost);
        batch.lock(&self.buyer_accounts(buy.user_id)).await?;
        let [available, hold, escrow, fees] = self.buyer_accounts(buy.user_id);
        let used = cost + fee;
        let left_after_use = buy.hold_remaining - used;
        assert!(
            left_after_use >= Decimal::ZERO,
            "fill uses more than the order holds: {buy:?}"
        );
        buy.filled_hs += hash_rate_hs;
        let improvement = if buy.filled_hs == buy.hash_rate_hs {
            left_after_use
        } else {
            (self.terms.hold_for(hash_rate_hs, buy.price) - used).min(left_after_use)
        };
        assert!(
            improvement >= Decimal::ZERO,
            "negative price improvement: {buy:?}"
        );
        let contract_id = Uuid::now_v7();
        let refs = Refs {
            order_id: Some(buy.id),
            contract_id: Some(contract_id),
            ..Refs::default()
        };
        batch.transfer(TransferKind::Fill, &hold, &escrow, cost, refs);
        batch.transfer(TransferKind::BuyerFee, &hold, &fees, fee, refs);
        batch.transfer(
            TransferKind::PriceImprovement,
            &hold,
            &available,
            improvement,
            refs,
        );
        buy.hold_remaining = left_after_use - improvement;
        sell.filled_hs += hash_rate_hs;
        let rig_id = sell
            .rig_id
            .unwrap_or_else(|| panic!("sell order {} without a rig", sell.id));
        if batch.rig(rig_id).await?.is_none() {
            panic!("rig {rig_id} of a resting ask vanished");
        }
        let rig = batch.locked_rig(rig_id);
        rig.offered_hs -= hash_rate_hs;
        rig.contracted_hs += hash_rate_hs;
        let now = batch.now();
        let contract = ContractRow {
            id: contract_id,
            market: self.terms.id.clone(),
            buyer_id: buy.user_id,
            seller_id: sell.user_id,
            rig_id,
            buy_order_id: buy.id,
            sell_order_id: sell.id,
            hash_rate_hs,
            price,
            cost,
            buyer_fee: fee,
            asset: self.terms.asset.clone(),
            tenor_days: self.terms.tenor_days as i32,
            starts_at: now,
            ends_at: now + Duration::days(i64::from(self.terms.tenor_days)),
            // The contract starts at the fill: pending → active at once.
            status: ContractStatus::Pending
                .transition(ContractStatus::Active)
                .expect("pending → active is allowed")
                .as_str()
                .to_string(),
            released_to_seller: Decimal::ZERO,
            refunded_to_buyer: Decimal::ZERO,
            mining_revenue: Decimal::ZERO,
            created_at: now,
        };
        batch.add_contract(contract.clone());
        Ok(contract)
    }

    /// An order stops resting with `remaining_lots` unfilled: give back its hold or
    /// its rig capacity.
    async fn release(
        &mut self,
        batch: &mut Batch,
        row: &mut OrderRow,
        remaining_lots: u64,
        reason: DoneReason,
    ) -> Result<(), StoreError> {
        let refs = Refs {
            order_id: Some(row.id),
            contract_id: None,
            ..Refs::default()
        };
        if row.side == "buy" {
            batch.lock(&self.buyer_accounts(row.user_id)).await?;
            let [available, hold, _, _] = self.buyer_accounts(row.user_id);
            batch.transfer(
                TransferKind::ReleaseHold,
                &hold,
                &available,
                row.hold_remaining,
                refs,
            );
            row.hold_remaining = Decimal::ZERO;
        } else if let Some(rig_id) = row.rig_id {
            if batch.rig(rig_id).await?.is_none() {
                panic!("rig {rig_id} of a resting ask vanished");
            }
            batch.locked_rig(rig_id).offered_hs -= self.terms.hash_rate_hs(remaining_lots);
        }
        row.status = match reason {
            DoneReason::Expired => "expired",
            DoneReason::Cancelled | DoneReason::SelfTrade => "cancelled",
        }
        .to_string();
        Ok(())
    }

    /// Final status after a command, and the resting cache kept in step.
    fn settle_status(&mut self, row: &mut OrderRow, engine_id: u64) {
        let finished = matches!(row.status.as_str(), "cancelled" | "expired");
        if row.filled_hs == row.hash_rate_hs {
            row.status = "filled".to_string();
        } else if !finished {
            row.status = if row.filled_hs > 0 {
                "partially_filled"
            } else {
                "open"
            }
            .to_string();
        }
        let resting = matches!(row.status.as_str(), "open" | "partially_filled");
        if resting {
            self.resting.insert(engine_id, row.clone());
        } else {
            self.resting.remove(engine_id);
        }
    }
}
