//! The registry of markets on this node: each market's terms and, for the markets
//! this node owns, the handle of its sequencer.
//!
//! A node runs a market's sequencer only while it holds the market's lease
//! (PostgreSQL advisory lock; see `hashmarket_store::lease`). Markets it does not own
//! still serve reads (orders, contracts, balances come from the database), but
//! order writes for them answer 503 `market-closed` until this node takes the market
//! over: a background task retries the leases of unowned markets every
//! [`TAKEOVER_INTERVAL`], and rebuilds the book from the database when it wins one.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hashmarket_store::{Store, StoreError};

use crate::clock::BusinessClock;
use crate::command::OrderError;
use crate::notices::Notices;
use crate::sequencer::{Sequencer, SequencerHandle};
use crate::spec::MarketTerms;

/// How often a node tries to take over markets it does not own.
pub const TAKEOVER_INTERVAL: Duration = Duration::from_secs(2);

/// Every market's terms, and the sequencers of the markets this node runs.
#[derive(Clone)]
pub struct Markets {
    terms: Arc<BTreeMap<String, Arc<MarketTerms>>>,
    sequencers: Arc<RwLock<BTreeMap<String, SequencerHandle>>>,
    notices: Notices,
}

impl Markets {
    /// Takes every market it can, rebuilds those books from the database, starts
    /// their sequencers, and keeps trying to take the others.
    pub async fn start(
        terms: Vec<MarketTerms>,
        store: Arc<dyn Store>,
        clock: BusinessClock,
        notices: Notices,
    ) -> Result<Markets, StoreError> {
        let terms: BTreeMap<String, Arc<MarketTerms>> = terms
            .into_iter()
            .map(|t| (t.id.clone(), Arc::new(t)))
            .collect();
        let markets = Markets {
            terms: Arc::new(terms),
            sequencers: Arc::default(),
            notices,
        };
        let unowned = markets.take_free_markets(&store, &clock).await?;
        if unowned > 0 {
            tracing::warn!(
                unowned,
                "another node runs some markets; this node serves their reads"
            );
            let (markets, store, clock) = (markets.clone(), store.clone(), clock.clone());
            tokio::spawn(async move { markets.keep_taking_over(store, clock).await });
        }
        Ok(markets)
    }

    /// Takes every market whose lease is free and starts one sequencer per asset for
    /// them (see [`crate::sequencer`] for why by asset); returns how many markets
    /// remain owned by someone else.
    async fn take_free_markets(
        &self,
        store: &Arc<dyn Store>,
        clock: &BusinessClock,
    ) -> Result<usize, StoreError> {
        let mut unowned = 0;
        let mut taken: BTreeMap<&str, Vec<_>> = BTreeMap::new();
        for (id, terms) in self.terms.iter() {
            if self.owns(id) {
                continue;
            }
            match store.try_lease_market(id).await? {
                Some(lease) => taken
                    .entry(terms.asset.as_str())
                    .or_default()
                    .push((terms.clone(), lease)),
                None => unowned += 1,
            }
        }
        for (asset, markets) in taken {
            let started = std::time::Instant::now();
            let sequencer =
                Sequencer::recover(markets, store.clone(), clock.clone(), self.notices.clone())
                    .await?;
            let handles = sequencer.spawn();
            tracing::info!(%asset, markets = handles.len(), elapsed_ms = started.elapsed().as_millis() as u64, "books rebuilt; sequencer started");
            self.sequencers
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .extend(handles);
        }
        Ok(unowned)
    }

    async fn keep_taking_over(self, store: Arc<dyn Store>, clock: BusinessClock) {
        loop {
            tokio::time::sleep(TAKEOVER_INTERVAL).await;
            match self.take_free_markets(&store, &clock).await {
                Ok(0) => return,
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "market takeover attempt failed"),
            }
        }
    }

    fn owns(&self, market: &str) -> bool {
        self.sequencers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(market)
    }

    /// A market's terms.
    pub fn terms(&self, market: &str) -> Option<&Arc<MarketTerms>> {
        self.terms.get(market)
    }

    /// Every market's terms, by id.
    pub fn all(&self) -> impl Iterator<Item = &Arc<MarketTerms>> {
        self.terms.values()
    }

    /// The sequencer of a market this node runs (`NotOwned` otherwise).
    pub fn sequencer(&self, market: &str) -> Result<SequencerHandle, OrderError> {
        self.sequencers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(market)
            .cloned()
            .ok_or(OrderError::NotOwned)
    }
}
