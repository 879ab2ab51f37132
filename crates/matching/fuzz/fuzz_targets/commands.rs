//! Fuzz the book with arbitrary command streams: every command's events must
//! equal the reference model's, the structural invariants must hold, and
//! nothing may panic. Run with:
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run commands` from crates/matching.

#![no_main]

use hashmarket_matching::reference::ReferenceBook;
use hashmarket_matching::{BookConfig, Command, OrderBook, PlaceOrder, SelfTradePrevention, Side, TimeInForce};
use libfuzzer_sys::fuzz_target;

/// Bytes per encoded command.
const COMMAND_BYTES: usize = 8;

/// Longest stream per input: the reference model is O(n) per command.
const MAX_COMMANDS: usize = 512;

fuzz_target!(|data: &[u8]| {
    let Some((&mode_byte, rest)) = data.split_first() else {
        return;
    };
    let mode = match mode_byte % 3 {
        0 => SelfTradePrevention::CancelNewest,
        1 => SelfTradePrevention::CancelOldest,
        _ => SelfTradePrevention::CancelBoth,
    };
    let mut book = OrderBook::new(BookConfig { first_seq: u64::MAX - 100, self_trade_prevention: mode, capacity_orders: 0 });
    let mut model = ReferenceBook::new(u64::MAX - 100, mode);
    let (mut got, mut want) = (Vec::new(), Vec::new());
    for chunk in rest.chunks_exact(COMMAND_BYTES).take(MAX_COMMANDS) {
        let command = decode(chunk);
        got.clear();
        want.clear();
        book.apply(&command, &mut got);
        model.apply(&command, &mut want);
        assert_eq!(got, want, "events differ for {command:?}");
        assert_eq!(book.check_invariants(), Ok(()));
    }
    assert_eq!(book.snapshot(), model.snapshot());
    let restored = OrderBook::restore(&book.snapshot()).expect("own snapshot restores");
    assert_eq!(restored.snapshot(), book.snapshot());
});

/// Eight bytes → one command. Small id, owner and price spaces make orders
/// collide, cross and self-trade often; a few byte values map to the edges
/// (zero, huge) that validation must reject.
fn decode(b: &[u8]) -> Command {
    let order_id = u64::from(b[1] % 64);
    let price_ticks = match b[2] {
        0 => 0,
        255 => u64::MAX,
        x => 1000 + u64::from(x % 24),
    };
    let qty_lots = match b[3] {
        0 => 0,
        255 => u64::MAX,
        254 => u64::MAX / 2 + 1,
        x => u64::from(x % 32) + 1,
    };
    match b[0] % 8 {
        0..=3 => Command::Place(PlaceOrder {
            order_id,
            owner_id: u64::from(b[4] % 5),
            side: if b[5] & 1 == 0 { Side::Buy } else { Side::Sell },
            price_ticks,
            qty_lots,
            time_in_force: match b[6] % 4 {
                0 => TimeInForce::Ioc,
                1 => TimeInForce::Fok,
                _ => TimeInForce::Gtc,
            },
            post_only: b[7] % 8 == 0,
        }),
        4 => Command::Cancel { order_id },
        _ => Command::Amend { order_id, new_price_ticks: price_ticks, new_qty_lots: qty_lots },
    }
}
