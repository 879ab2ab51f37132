//! Property tests: random command streams through the engine and through the
//! reference model must give identical events; invariants and quantity
//! conservation hold after every command; snapshot/restore is invisible.

mod common;

use common::{commands, stp, Audit};
use hashmarket_matching::reference::ReferenceBook;
use hashmarket_matching::{BookConfig, BookSnapshot, OrderBook, Side};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// The engine and the reference model emit the same events, hold the same
    /// orders and show the same depth after every command.
    #[test]
    fn engine_matches_reference_model(stream in commands(200), mode in stp(), first_seq in 0..u64::MAX / 2) {
        let mut book = OrderBook::new(BookConfig { first_seq, self_trade_prevention: mode, capacity_orders: 0 });
        let mut model = ReferenceBook::new(first_seq, mode);
        let (mut got, mut want) = (Vec::new(), Vec::new());
        let mut depth = Vec::new();
        for command in &stream {
            got.clear();
            want.clear();
            let seq = book.apply(command, &mut got);
            prop_assert_eq!(seq, model.apply(command, &mut want));
            prop_assert_eq!(&got, &want, "command {:?}", command);
            prop_assert_eq!(book.snapshot(), model.snapshot());
            for side in [Side::Buy, Side::Sell] {
                book.depth(side, 3, &mut depth);
                prop_assert_eq!(&depth, &model.depth(side, 3));
            }
        }
    }

    /// Structure, uncrossed book, and ordered = filled + resting + cancelled +
    /// expired per order and in total, after every command.
    #[test]
    fn invariants_and_conservation_hold(stream in commands(300), mode in stp()) {
        let mut book = OrderBook::new(BookConfig { self_trade_prevention: mode, ..BookConfig::default() });
        let mut audit = Audit::default();
        let mut events = Vec::new();
        for command in &stream {
            events.clear();
            book.apply(command, &mut events);
            prop_assert!(events.iter().all(|e| e.seq == book.next_seq() - 1));
            audit.record(&events);
            prop_assert_eq!(book.check_invariants(), Ok(()));
            if let (Some(bid), Some(ask)) = (book.best_bid(), book.best_ask()) {
                prop_assert!(bid.price_ticks < ask.price_ticks);
            }
            audit.check_conservation(&book);
        }
    }

    /// Run a prefix, snapshot (through JSON, as storage would), restore, then
    /// run the suffix on both books: the events are identical.
    #[test]
    fn restored_book_behaves_like_the_original(stream in commands(200), split in 0..200usize, mode in stp()) {
        let split = split.min(stream.len());
        let mut original = OrderBook::new(BookConfig { first_seq: 7, self_trade_prevention: mode, capacity_orders: 0 });
        let mut sink = Vec::new();
        for command in &stream[..split] {
            original.apply(command, &mut sink);
        }
        let json = serde_json::to_string(&original.snapshot()).expect("snapshot serializes");
        let snapshot: BookSnapshot = serde_json::from_str(&json).expect("snapshot deserializes");
        let mut restored = OrderBook::restore(&snapshot).expect("a real snapshot restores");
        prop_assert_eq!(restored.snapshot(), original.snapshot());
        prop_assert_eq!(restored.check_invariants(), Ok(()));
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for command in &stream[split..] {
            a.clear();
            b.clear();
            original.apply(command, &mut a);
            restored.apply(command, &mut b);
            prop_assert_eq!(&a, &b);
        }
        prop_assert_eq!(restored.snapshot(), original.snapshot());
    }

    /// Same commands in, same events out: two fresh books agree.
    #[test]
    fn deterministic(stream in commands(200), mode in stp()) {
        let run = || {
            let mut book = OrderBook::new(BookConfig { self_trade_prevention: mode, ..BookConfig::default() });
            let mut events = Vec::new();
            for command in &stream {
                book.apply(command, &mut events);
            }
            events
        };
        prop_assert_eq!(run(), run());
    }
}
