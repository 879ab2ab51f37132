//! Workloads for benchmarking `hashmarket-matching` beside other order books.
//!
//! A workload is a warm-up (passive orders that build a book of about
//! [`WorkloadSpec::target_orders`] orders) and a stream of [`BenchOp`]s, both
//! generated up front and deterministically from a seed, so every engine sees
//! the identical sequence and generation costs nothing in the timed region.
//!
//! The generator keeps its own [`OrderBook`] to know which orders are live and
//! where the touch is, so that cancels and amends name live orders, passive
//! orders never cross, and the share of trading commands is what the mix asks
//! for. The default mix follows exchange-core's benchmark: 82 % amend (move
//! price), 9 % GTC place, 3 % IOC, 6 % cancel, ~1,000 resting orders over
//! ~750 price levels, ~6 % of commands trading.

#![deny(missing_docs)]

use hashmarket_matching::{
    BookConfig, Command, EventKind, OrderBook, OrderId, OwnerId, PlaceOrder, Side, TimeInForce,
};

/// One benchmark operation, with everything any engine needs to execute it
/// (engines without amend need the side and owner to re-place the order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchOp {
    /// A new order (GTC or IOC).
    Place(PlaceOrder),
    /// Cancel a (usually) live order.
    Cancel {
        /// The order.
        order_id: OrderId,
    },
    /// Move a live order to a new price (and quantity).
    Amend {
        /// The order.
        order_id: OrderId,
        /// Its owner (for cancel+place emulation).
        owner_id: OwnerId,
        /// Its side (for cancel+place emulation).
        side: Side,
        /// The new price.
        new_price_ticks: u64,
        /// The new remaining quantity.
        new_qty_lots: u64,
    },
}

impl BenchOp {
    /// The native command for `hashmarket-matching`.
    pub fn to_command(&self) -> Command {
        match *self {
            BenchOp::Place(order) => Command::Place(order),
            BenchOp::Cancel { order_id } => Command::Cancel { order_id },
            BenchOp::Amend {
                order_id,
                new_price_ticks,
                new_qty_lots,
                ..
            } => Command::Amend {
                order_id,
                new_price_ticks,
                new_qty_lots,
            },
        }
    }

    /// Whether this op is a place (GTC or IOC), for place-latency figures.
    pub fn is_place(&self) -> bool {
        matches!(self, BenchOp::Place(_))
    }
}

/// Percentages of each kind of op; they add up to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mix {
    /// Move a live order's price.
    pub amend_pct: u32,
    /// Place a GTC order (a third of them at the touch, so they trade).
    pub gtc_pct: u32,
    /// Place an IOC order at the touch (it trades).
    pub ioc_pct: u32,
    /// Cancel a live order.
    pub cancel_pct: u32,
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkloadSpec {
    /// A short name for tables.
    pub name: &'static str,
    /// The op mix.
    pub mix: Mix,
    /// The book size the generator steers towards.
    pub target_orders: usize,
    /// Passive orders are placed this many ticks or fewer from the mid.
    pub band_ticks: u64,
    /// Ops in the timed stream.
    pub op_count: usize,
    /// PRNG seed.
    pub seed: u64,
}

impl WorkloadSpec {
    /// exchange-core's mix: 82 % amend, 9 % GTC, 3 % IOC, 6 % cancel.
    pub fn exchange_core(op_count: usize) -> WorkloadSpec {
        WorkloadSpec {
            name: "exchange-core mix",
            mix: Mix {
                amend_pct: 82,
                gtc_pct: 9,
                ioc_pct: 3,
                cancel_pct: 6,
            },
            target_orders: 1_000,
            band_ticks: 1_000,
            op_count,
            seed: 0x5eed_0001,
        }
    }

    /// Place-heavy: 50 % GTC, 20 % IOC, 20 % cancel, 10 % amend.
    pub fn place_heavy(op_count: usize) -> WorkloadSpec {
        WorkloadSpec {
            name: "place-heavy",
            mix: Mix {
                amend_pct: 10,
                gtc_pct: 50,
                ioc_pct: 20,
                cancel_pct: 20,
            },
            seed: 0x5eed_0002,
            ..WorkloadSpec::exchange_core(op_count)
        }
    }

    /// Cancel-heavy: 45 % cancel, 40 % GTC, 5 % IOC, 10 % amend.
    pub fn cancel_heavy(op_count: usize) -> WorkloadSpec {
        WorkloadSpec {
            name: "cancel-heavy",
            mix: Mix {
                amend_pct: 10,
                gtc_pct: 40,
                ioc_pct: 5,
                cancel_pct: 45,
            },
            seed: 0x5eed_0003,
            ..WorkloadSpec::exchange_core(op_count)
        }
    }
}

/// A generated workload.
#[derive(Debug, Clone)]
pub struct Workload {
    /// What it was generated from.
    pub spec: WorkloadSpec,
    /// Passive places that build the starting book (not timed).
    pub warmup: Vec<BenchOp>,
    /// The timed stream.
    pub ops: Vec<BenchOp>,
    /// What the stream turned out to contain.
    pub stats: WorkloadStats,
}

/// Measured properties of a generated stream (from the generator's own book).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkloadStats {
    /// Amends in the stream.
    pub amends: usize,
    /// GTC places.
    pub gtc_places: usize,
    /// IOC places.
    pub ioc_places: usize,
    /// Cancels.
    pub cancels: usize,
    /// Ops that produced at least one fill.
    pub trading_ops: usize,
    /// Resting orders at the end, averaged over the stream (sampled).
    pub mean_orders: usize,
    /// Distinct price levels, averaged over the stream (sampled).
    pub mean_levels: usize,
}

/// SplitMix64: a tiny, good-enough, deterministic PRNG.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// Seeded generator.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `low..=high` (slightly biased; fine for workloads).
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low + 1)
    }
}

/// The mid price all passive orders are placed around.
const MID_TICKS: u64 = 1_000_000;

/// Generate `spec`'s workload.
pub fn generate(spec: WorkloadSpec) -> Workload {
    let mut generator = Generator::new(spec);
    let warmup = (0..spec.target_orders)
        .map(|_| generator.passive_place())
        .collect();
    let mut stats = WorkloadStats::default();
    let (mut order_samples, mut level_samples, mut samples) = (0usize, 0usize, 0usize);
    let mut ops = Vec::with_capacity(spec.op_count);
    for index in 0..spec.op_count {
        let op = generator.next_op(&mut stats);
        ops.push(op);
        if index % 64 == 0 {
            order_samples += generator.book.order_count();
            level_samples += generator.level_count();
            samples += 1;
        }
    }
    stats.trading_ops = generator.trading_ops;
    stats.mean_orders = order_samples / samples.max(1);
    stats.mean_levels = level_samples / samples.max(1);
    Workload {
        spec,
        warmup,
        ops,
        stats,
    }
}

/// The generator's state: its own book, the live ids, and the PRNG.
struct Generator {
    spec: WorkloadSpec,
    rng: SplitMix64,
    book: OrderBook,
    live: Vec<OrderId>,
    /// Position of each live id in `live` (ids are dense, so a Vec works).
    live_pos: Vec<usize>,
    next_id: OrderId,
    trading_ops: usize,
    events: Vec<hashmarket_matching::Event>,
}

const NOT_LIVE: usize = usize::MAX;

impl Generator {
    fn new(spec: WorkloadSpec) -> Generator {
        Generator {
            spec,
            rng: SplitMix64::new(spec.seed),
            book: OrderBook::new(BookConfig::default()),
            live: Vec::new(),
            live_pos: Vec::new(),
            next_id: 1,
            trading_ops: 0,
            events: Vec::new(),
        }
    }

    fn next_op(&mut self, stats: &mut WorkloadStats) -> BenchOp {
        let mix = self.spec.mix;
        let roll = self.rng.range(0, 99) as u32;
        // Steer the book size into [target, 1.2 × target): trading and cancels
        // drain it, so it sits near the lower bound.
        let low = self.live.len() < self.spec.target_orders;
        let high = self.live.len() > self.spec.target_orders * 6 / 5;
        if roll < mix.amend_pct && !self.live.is_empty() {
            stats.amends += 1;
            self.amend()
        } else if roll < mix.amend_pct + mix.gtc_pct && !high {
            stats.gtc_places += 1;
            self.gtc_place()
        } else if roll < mix.amend_pct + mix.gtc_pct + mix.ioc_pct {
            stats.ioc_places += 1;
            self.ioc_place()
        } else if !low && !self.live.is_empty() {
            stats.cancels += 1;
            self.cancel()
        } else {
            stats.gtc_places += 1;
            self.passive_place()
        }
    }

    /// A GTC place: one in three at the opposite touch (it trades).
    fn gtc_place(&mut self) -> BenchOp {
        if self.rng.range(0, 2) > 0 {
            return self.passive_place();
        }
        let side = self.random_side();
        let price_ticks = self
            .touch(side.opposite())
            .unwrap_or_else(|| self.passive_price(side));
        self.place(side, price_ticks, TimeInForce::Gtc)
    }

    /// An IOC two ticks through the opposite touch.
    fn ioc_place(&mut self) -> BenchOp {
        let side = self.random_side();
        let price_ticks = match (side, self.touch(side.opposite())) {
            (Side::Buy, Some(ask)) => ask + 2,
            (Side::Sell, Some(bid)) => bid.saturating_sub(2).max(1),
            (_, None) => self.passive_price(side),
        };
        self.place(side, price_ticks, TimeInForce::Ioc)
    }

    /// A GTC order that does not cross.
    fn passive_place(&mut self) -> BenchOp {
        let side = self.random_side();
        let price_ticks = self.passive_price(side);
        self.place(side, price_ticks, TimeInForce::Gtc)
    }

    fn place(&mut self, side: Side, price_ticks: u64, time_in_force: TimeInForce) -> BenchOp {
        let order_id = self.next_id;
        self.next_id += 1;
        let op = BenchOp::Place(PlaceOrder {
            order_id,
            // One owner per order: no engine's self-trade rules come into play.
            owner_id: order_id,
            side,
            price_ticks,
            qty_lots: self.rng.range(1, 100),
            time_in_force,
            post_only: false,
        });
        self.execute(op, order_id);
        op
    }

    /// Move a random live order by 1–16 ticks, never through the opposite touch.
    fn amend(&mut self) -> BenchOp {
        let order_id = self.live[self.rng.range(0, self.live.len() as u64 - 1) as usize];
        let order = self
            .book
            .order(order_id)
            .expect("live ids rest in the book");
        let delta = self.rng.range(1, 16);
        let moved = if self.rng.next_u64() & 1 == 0 {
            order.price_ticks + delta
        } else {
            order.price_ticks.saturating_sub(delta).max(1)
        };
        let mut new_price_ticks = self.clamp_passive(order.side, moved);
        if new_price_ticks == order.price_ticks {
            new_price_ticks =
                self.clamp_passive(order.side, order.price_ticks.saturating_sub(1).max(1));
        }
        let op = BenchOp::Amend {
            order_id,
            owner_id: order.owner_id,
            side: order.side,
            new_price_ticks,
            new_qty_lots: order.qty_lots,
        };
        self.execute(op, order_id);
        op
    }

    fn cancel(&mut self) -> BenchOp {
        let order_id = self.live[self.rng.range(0, self.live.len() as u64 - 1) as usize];
        let op = BenchOp::Cancel { order_id };
        self.execute(op, order_id);
        op
    }

    /// Apply `op` to the generator's book and bring the live set up to date.
    fn execute(&mut self, op: BenchOp, order_id: OrderId) {
        self.events.clear();
        self.book.apply(&op.to_command(), &mut self.events);
        let mut traded = false;
        for index in 0..self.events.len() {
            if let EventKind::Fill { maker_order_id, .. } = self.events[index].kind {
                traded = true;
                self.sync_live(maker_order_id);
            }
        }
        self.trading_ops += usize::from(traded);
        self.sync_live(order_id);
    }

    fn sync_live(&mut self, order_id: OrderId) {
        let index = order_id as usize;
        if self.live_pos.len() <= index {
            self.live_pos.resize(index + 1, NOT_LIVE);
        }
        let resting = self.book.order(order_id).is_some();
        let listed = self.live_pos[index] != NOT_LIVE;
        if resting && !listed {
            self.live_pos[index] = self.live.len();
            self.live.push(order_id);
        } else if !resting && listed {
            let position = self.live_pos[index];
            self.live.swap_remove(position);
            if let Some(&moved) = self.live.get(position) {
                self.live_pos[moved as usize] = position;
            }
            self.live_pos[index] = NOT_LIVE;
        }
    }

    fn random_side(&mut self) -> Side {
        if self.rng.next_u64() & 1 == 0 {
            Side::Buy
        } else {
            Side::Sell
        }
    }

    /// A uniformly random price within the band on `side`, not crossing.
    fn passive_price(&mut self, side: Side) -> u64 {
        let distance = self.rng.range(1, self.spec.band_ticks);
        let price_ticks = match side {
            Side::Buy => MID_TICKS - distance,
            Side::Sell => MID_TICKS + distance,
        };
        self.clamp_passive(side, price_ticks)
    }

    /// Keep `price_ticks` inside the band and off the opposite touch.
    fn clamp_passive(&self, side: Side, price_ticks: u64) -> u64 {
        let band = self.spec.band_ticks;
        match side {
            Side::Buy => {
                let ceiling = self.touch(Side::Sell).map_or(MID_TICKS - 1, |ask| ask - 1);
                price_ticks.clamp(MID_TICKS - band, ceiling.max(MID_TICKS - band))
            }
            Side::Sell => {
                let floor = self.touch(Side::Buy).map_or(MID_TICKS + 1, |bid| bid + 1);
                price_ticks.clamp(floor.min(MID_TICKS + band), MID_TICKS + band)
            }
        }
    }

    fn touch(&self, side: Side) -> Option<u64> {
        match side {
            Side::Buy => self.book.best_bid(),
            Side::Sell => self.book.best_ask(),
        }
        .map(|level| level.price_ticks)
    }

    fn level_count(&self) -> usize {
        let mut depth = Vec::new();
        self.book.depth(Side::Buy, usize::MAX, &mut depth);
        let bids = depth.len();
        self.book.depth(Side::Sell, usize::MAX, &mut depth);
        bids + depth.len()
    }
}
