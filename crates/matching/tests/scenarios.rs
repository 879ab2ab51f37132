//! Hand-written scenarios: each pins one rule of the book with exact events.

use hashmarket_matching::{
    BookConfig, BookSnapshot, CancelReason, Command, Event, EventKind, LevelView, OrderBook,
    PlaceOrder, RejectReason, RestingOrder, RestoreError, SelfTradePrevention, Side, TimeInForce,
};

fn gtc(order_id: u64, owner_id: u64, side: Side, price_ticks: u64, qty_lots: u64) -> Command {
    Command::Place(PlaceOrder {
        order_id,
        owner_id,
        side,
        price_ticks,
        qty_lots,
        time_in_force: TimeInForce::Gtc,
        post_only: false,
    })
}

fn with_tif(command: Command, time_in_force: TimeInForce) -> Command {
    match command {
        Command::Place(order) => Command::Place(PlaceOrder {
            time_in_force,
            ..order
        }),
        other => other,
    }
}

fn post_only(command: Command) -> Command {
    match command {
        Command::Place(order) => Command::Place(PlaceOrder {
            post_only: true,
            ..order
        }),
        other => other,
    }
}

fn book(mode: SelfTradePrevention) -> OrderBook {
    OrderBook::new(BookConfig {
        first_seq: 100,
        self_trade_prevention: mode,
        capacity_orders: 16,
    })
}

/// Apply and return just the event kinds.
fn run(book: &mut OrderBook, command: Command) -> Vec<EventKind> {
    let mut events: Vec<Event> = Vec::new();
    let seq = book.apply(&command, &mut events);
    assert!(events.iter().all(|e| e.seq == seq));
    events.into_iter().map(|e| e.kind).collect()
}

fn rejected(order_id: u64, reason: RejectReason) -> Vec<EventKind> {
    vec![EventKind::Rejected { order_id, reason }]
}

fn fills(kinds: &[EventKind]) -> Vec<(u64, u64, u64, u64)> {
    kinds
        .iter()
        .filter_map(|k| match *k {
            EventKind::Fill {
                maker_order_id,
                taker_order_id,
                price_ticks,
                qty_lots,
                ..
            } => Some((maker_order_id, taker_order_id, price_ticks, qty_lots)),
            _ => None,
        })
        .collect()
}

#[test]
fn sequence_numbers_start_at_the_configured_value() {
    let mut b = book(SelfTradePrevention::CancelNewest);
    let mut events = Vec::new();
    assert_eq!(b.apply(&gtc(1, 1, Side::Buy, 10, 1), &mut events), 100);
    assert_eq!(b.apply(&Command::Cancel { order_id: 9 }, &mut events), 101);
    assert_eq!(b.next_seq(), 102);
    assert_eq!(events[1].seq, 101);
}

#[test]
fn price_then_time_priority_and_maker_price() {
    let mut b = book(SelfTradePrevention::CancelNewest);
    run(&mut b, gtc(1, 1, Side::Sell, 105, 5));
    run(&mut b, gtc(2, 2, Side::Sell, 103, 5));
    run(&mut b, gtc(3, 3, Side::Sell, 103, 5));
    let kinds = run(&mut b, gtc(4, 4, Side::Buy, 110, 12));
    // Best price first (103), oldest first (2 before 3), then 105; always at the maker's price.
    assert_eq!(
        fills(&kinds),
        vec![(2, 4, 103, 5), (3, 4, 103, 5), (1, 4, 105, 2)]
    );
    assert!(matches!(
        kinds[3],
        EventKind::Fill {
            maker_remaining_lots: 3,
            taker_remaining_lots: 0,
            ..
        }
    ));
    assert_eq!(
        b.best_ask(),
        Some(LevelView {
            price_ticks: 105,
            qty_lots: 3,
            order_count: 1
        })
    );
    assert_eq!(b.best_bid(), None);
}

#[test]
fn partial_taker_rests_the_remainder() {
    let mut b = book(SelfTradePrevention::CancelNewest);
    run(&mut b, gtc(1, 1, Side::Sell, 100, 4));
    let kinds = run(&mut b, gtc(2, 2, Side::Buy, 101, 10));
    assert_eq!(fills(&kinds), vec![(1, 2, 100, 4)]);
    assert_eq!(
        b.order(2).map(|o| (o.price_ticks, o.qty_lots)),
        Some((101, 6))
    );
}

#[test]
fn ioc_expires_and_fok_rejects() {
    let mut b = book(SelfTradePrevention::CancelNewest);
    run(&mut b, gtc(1, 1, Side::Sell, 100, 4));
    let kinds = run(
        &mut b,
        with_tif(gtc(2, 2, Side::Buy, 100, 6), TimeInForce::Ioc),
    );
    assert_eq!(
        kinds.last(),
        Some(&EventKind::Expired {
            order_id: 2,
            remaining_lots: 2
        })
    );
    run(&mut b, gtc(3, 1, Side::Sell, 100, 4));
    assert_eq!(
        run(
            &mut b,
            with_tif(gtc(4, 2, Side::Buy, 100, 5), TimeInForce::Fok)
        ),
        rejected(4, RejectReason::FokCannotFill)
    );
    assert_eq!(
        b.best_ask().map(|l| l.qty_lots),
        Some(4),
        "a rejected FOK changes nothing"
    );
    let kinds = run(
        &mut b,
        with_tif(gtc(5, 2, Side::Buy, 100, 4), TimeInForce::Fok),
    );
    assert_eq!(fills(&kinds), vec![(3, 5, 100, 4)]);
}

#[test]
fn post_only_rejects_when_crossing_and_needs_gtc() {
    let mut b = book(SelfTradePrevention::CancelNewest);
    run(&mut b, gtc(1, 1, Side::Sell, 100, 4));
    assert_eq!(
        run(&mut b, post_only(gtc(2, 2, Side::Buy, 100, 1))),
        rejected(2, RejectReason::PostOnlyWouldCross)
    );
    assert_eq!(
        run(
            &mut b,
            post_only(with_tif(gtc(3, 2, Side::Buy, 90, 1), TimeInForce::Ioc))
        ),
        rejected(3, RejectReason::PostOnlyNeedsGtc)
    );
    run(&mut b, post_only(gtc(4, 2, Side::Buy, 99, 1)));
    // A post-only order's crossing amend is rejected too.
    let amend = Command::Amend {
        order_id: 4,
        new_price_ticks: 100,
        new_qty_lots: 1,
    };
    assert_eq!(
        run(&mut b, amend),
        rejected(4, RejectReason::PostOnlyWouldCross)
    );
}

#[test]
fn bad_commands_are_rejected() {
    let mut b = book(SelfTradePrevention::CancelNewest);
    assert_eq!(
        run(&mut b, gtc(1, 1, Side::Buy, 10, 0)),
        rejected(1, RejectReason::ZeroQty)
    );
    assert_eq!(
        run(&mut b, gtc(1, 1, Side::Buy, 0, 1)),
        rejected(1, RejectReason::ZeroPrice)
    );
    run(&mut b, gtc(1, 1, Side::Buy, 10, 1));
    assert_eq!(
        run(&mut b, gtc(1, 1, Side::Buy, 10, 1)),
        rejected(1, RejectReason::DuplicateOrderId)
    );
    assert_eq!(
        run(&mut b, Command::Cancel { order_id: 2 }),
        rejected(2, RejectReason::UnknownOrder)
    );
    let amend = |order_id, new_price_ticks, new_qty_lots| Command::Amend {
        order_id,
        new_price_ticks,
        new_qty_lots,
    };
    assert_eq!(
        run(&mut b, amend(2, 10, 1)),
        rejected(2, RejectReason::UnknownOrder)
    );
    assert_eq!(
        run(&mut b, amend(1, 10, 0)),
        rejected(1, RejectReason::ZeroQty)
    );
    assert_eq!(
        run(&mut b, amend(1, 0, 1)),
        rejected(1, RejectReason::ZeroPrice)
    );
    assert_eq!(
        run(&mut b, gtc(3, 1, Side::Buy, 10, u64::MAX)),
        rejected(3, RejectReason::QtyOverflow)
    );
    assert_eq!(
        run(&mut b, amend(1, 10, u64::MAX)),
        Vec::from([EventKind::Amended {
            order_id: 1,
            price_ticks: 10,
            qty_lots: u64::MAX,
            old_qty_lots: 1,
            priority_kept: false
        }]),
        "its own quantity leaves the level first, so u64::MAX fits"
    );
}

#[test]
fn cancel_reports_the_remaining_quantity() {
    let mut b = book(SelfTradePrevention::CancelNewest);
    run(&mut b, gtc(1, 1, Side::Sell, 100, 10));
    run(&mut b, gtc(2, 2, Side::Buy, 100, 3));
    assert_eq!(
        run(&mut b, Command::Cancel { order_id: 1 }),
        vec![EventKind::Cancelled {
            order_id: 1,
            remaining_lots: 7,
            reason: CancelReason::UserRequest
        }]
    );
    assert!(b.is_empty());
}

#[test]
fn amend_keeps_priority_only_when_shrinking_at_the_same_price() {
    let mut b = book(SelfTradePrevention::CancelNewest);
    for id in 1..=3 {
        run(&mut b, gtc(id, id, Side::Sell, 100, 5));
    }
    let amend = |order_id, new_price_ticks, new_qty_lots| Command::Amend {
        order_id,
        new_price_ticks,
        new_qty_lots,
    };
    run(&mut b, amend(1, 100, 4)); // shrink: stays first
    run(&mut b, amend(2, 100, 6)); // grow: to the back
    let kinds = run(&mut b, gtc(9, 9, Side::Buy, 100, 100));
    assert_eq!(
        fills(&kinds),
        vec![(1, 9, 100, 4), (3, 9, 100, 5), (2, 9, 100, 6)]
    );
}

#[test]
fn amend_to_a_crossing_price_trades_like_a_new_order() {
    let mut b = book(SelfTradePrevention::CancelNewest);
    run(&mut b, gtc(1, 1, Side::Sell, 105, 5));
    run(&mut b, gtc(2, 2, Side::Buy, 100, 8));
    let kinds = run(
        &mut b,
        Command::Amend {
            order_id: 2,
            new_price_ticks: 106,
            new_qty_lots: 8,
        },
    );
    assert!(matches!(
        kinds[0],
        EventKind::Amended {
            priority_kept: false,
            ..
        }
    ));
    assert_eq!(fills(&kinds), vec![(1, 2, 105, 5)]);
    assert_eq!(
        b.order(2).map(|o| (o.price_ticks, o.qty_lots)),
        Some((106, 3))
    );
}

#[test]
fn self_trade_prevention_modes() {
    let setup = |mode| {
        let mut b = book(mode);
        run(&mut b, gtc(1, 7, Side::Sell, 100, 5)); // own order first in the queue
        run(&mut b, gtc(2, 8, Side::Sell, 100, 5));
        b
    };
    let stp_cancel = |order_id, remaining_lots| EventKind::Cancelled {
        order_id,
        remaining_lots,
        reason: CancelReason::SelfTradePrevention,
    };

    let mut newest = setup(SelfTradePrevention::CancelNewest);
    let kinds = run(&mut newest, gtc(3, 7, Side::Buy, 100, 4));
    assert_eq!(kinds[1..], [stp_cancel(3, 4)]);
    assert_eq!(newest.order_count(), 2);

    let mut oldest = setup(SelfTradePrevention::CancelOldest);
    let kinds = run(&mut oldest, gtc(3, 7, Side::Buy, 100, 4));
    assert_eq!(kinds[1], stp_cancel(1, 5));
    assert_eq!(fills(&kinds), vec![(2, 3, 100, 4)]);

    let mut both = setup(SelfTradePrevention::CancelBoth);
    let kinds = run(&mut both, gtc(3, 7, Side::Buy, 100, 4));
    assert_eq!(kinds[1..], [stp_cancel(1, 5), stp_cancel(3, 4)]);
    assert_eq!(both.order_count(), 1);

    // FOK: only cancel-oldest can get past its own order.
    let mut newest = setup(SelfTradePrevention::CancelNewest);
    let fok = with_tif(gtc(4, 7, Side::Buy, 100, 5), TimeInForce::Fok);
    assert_eq!(
        run(&mut newest, fok),
        rejected(4, RejectReason::FokCannotFill)
    );
    let mut oldest = setup(SelfTradePrevention::CancelOldest);
    assert_eq!(fills(&run(&mut oldest, fok)), vec![(2, 4, 100, 5)]);
}

#[test]
fn depth_is_aggregated_best_first_and_limited() {
    let mut b = book(SelfTradePrevention::CancelNewest);
    for (id, price) in [(1, 90), (2, 95), (3, 95), (4, 80)] {
        run(&mut b, gtc(id, id, Side::Buy, price, 2));
    }
    let mut depth = Vec::new();
    b.depth(Side::Buy, 2, &mut depth);
    assert_eq!(
        depth,
        vec![
            LevelView {
                price_ticks: 95,
                qty_lots: 4,
                order_count: 2
            },
            LevelView {
                price_ticks: 90,
                qty_lots: 2,
                order_count: 1
            },
        ]
    );
    b.depth(Side::Sell, 5, &mut depth);
    assert!(depth.is_empty());
}

#[test]
fn snapshot_lists_priority_order_and_restore_validates() {
    let mut b = book(SelfTradePrevention::CancelBoth);
    run(&mut b, gtc(1, 1, Side::Buy, 90, 1));
    run(&mut b, gtc(2, 1, Side::Buy, 95, 1));
    run(&mut b, gtc(3, 1, Side::Sell, 99, 1));
    run(&mut b, gtc(4, 1, Side::Buy, 95, 1));
    let snapshot = b.snapshot();
    let ids: Vec<u64> = snapshot.orders.iter().map(|o| o.order_id).collect();
    assert_eq!(ids, vec![2, 4, 1, 3]);
    assert_eq!(snapshot.next_seq, 104);
    assert_eq!(
        snapshot.self_trade_prevention,
        SelfTradePrevention::CancelBoth
    );

    let order = |order_id, side, price_ticks, qty_lots| RestingOrder {
        order_id,
        owner_id: 1,
        side,
        price_ticks,
        qty_lots,
        post_only: false,
    };
    let bad = |orders| BookSnapshot {
        next_seq: 0,
        self_trade_prevention: SelfTradePrevention::CancelNewest,
        orders,
    };
    let restore = |orders| OrderBook::restore(&bad(orders)).map(|_| ());
    assert_eq!(
        restore(vec![order(1, Side::Buy, 10, 0)]),
        Err(RestoreError::InvalidOrder(1))
    );
    assert_eq!(
        restore(vec![
            order(1, Side::Buy, 10, 1),
            order(1, Side::Sell, 20, 1)
        ]),
        Err(RestoreError::DuplicateOrderId(1))
    );
    assert_eq!(
        restore(vec![
            order(1, Side::Buy, 20, 1),
            order(2, Side::Sell, 20, 1)
        ]),
        Err(RestoreError::Crossed)
    );
    assert_eq!(
        restore(vec![
            order(1, Side::Buy, 20, u64::MAX),
            order(2, Side::Buy, 20, 1)
        ]),
        Err(RestoreError::QtyOverflow(2))
    );
}
