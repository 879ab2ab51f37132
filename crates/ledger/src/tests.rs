use super::*;
use proptest::prelude::*;

fn key(owner: u128, asset: &str, purpose: Purpose) -> AccountKey {
    AccountKey {
        owner: Uuid::from_u128(owner),
        asset: asset.into(),
        purpose,
    }
}

#[test]
fn only_world_and_mining_revenue_of_the_operator_may_go_negative() {
    let world = key(0, "BTC", Purpose::World);
    let revenue = key(0, "BTC", Purpose::MiningRevenue);
    let fees = key(0, "BTC", Purpose::Fees);
    let user_world = key(7, "BTC", Purpose::World);
    assert!(world.may_go_negative() && revenue.may_go_negative());
    assert!(!fees.may_go_negative() && !user_world.may_go_negative());
    let one = Decimal::ONE;
    let available = key(7, "BTC", Purpose::Available);
    assert_eq!(
        check_transfer(&world, Decimal::ZERO, &available, Decimal::ZERO, one),
        Ok((-one, one))
    );
    assert!(matches!(
        check_transfer(&available, Decimal::ZERO, &fees, Decimal::ZERO, one),
        Err(TransferError::WouldGoNegative { .. })
    ));
}

#[test]
fn a_failed_batch_changes_nothing_and_names_the_transfer() {
    let mut ledger = Ledger::new();
    let world = key(0, "BTC", Purpose::World);
    let a = key(1, "BTC", Purpose::Available);
    let hold = key(1, "BTC", Purpose::OrderHold);
    let t = |from: &AccountKey, to: &AccountKey, amount: i64| Transfer {
        from: from.clone(),
        to: to.clone(),
        amount: Decimal::from(amount),
        kind: TransferKind::Credit,
    };
    ledger.apply(&[t(&world, &a, 5)]).unwrap();
    let before = ledger.clone();
    let err = ledger
        .apply(&[t(&a, &hold, 3), t(&a, &hold, 3)])
        .unwrap_err();
    assert_eq!(err.index, 1);
    assert_eq!(ledger, before);
    // Within a batch, a later transfer may use what an earlier one brought.
    ledger.apply(&[t(&world, &a, 1), t(&a, &hold, 6)]).unwrap();
    assert_eq!(ledger.balance(&hold), Decimal::from(6));
    assert_eq!(ledger.sum_by_asset()["BTC"], Decimal::ZERO);
}

/// The obviously-correct model: apply in order to a copy; keep the copy only if all pass.
fn reference(
    balances: &BTreeMap<AccountKey, Decimal>,
    batch: &[Transfer],
) -> Result<BTreeMap<AccountKey, Decimal>, usize> {
    let mut copy = balances.clone();
    for (i, t) in batch.iter().enumerate() {
        let from = copy.get(&t.from).copied().unwrap_or_default();
        let ok = t.amount > Decimal::ZERO
            && t.from.asset == t.to.asset
            && t.from != t.to
            && (from - t.amount >= Decimal::ZERO
                || (t.from.owner == OPERATOR
                    && matches!(t.from.purpose, Purpose::World | Purpose::MiningRevenue)));
        if !ok {
            return Err(i);
        }
        *copy.entry(t.from.clone()).or_default() -= t.amount;
        *copy.entry(t.to.clone()).or_default() += t.amount;
    }
    Ok(copy)
}

fn account() -> impl Strategy<Value = AccountKey> {
    (
        0u128..4,
        prop::sample::select(vec!["BTC", "LTC"]),
        prop::sample::select(Purpose::ALL.to_vec()),
    )
        .prop_map(|(owner, asset, purpose)| key(owner, asset, purpose))
}

fn transfer() -> impl Strategy<Value = Transfer> {
    (account(), account(), -2i64..1_000_000_000).prop_map(|(from, to, sats)| Transfer {
        from,
        to,
        amount: Decimal::new(sats, 8),
        kind: TransferKind::Fill,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn batches_match_the_reference_model(batches in prop::collection::vec(prop::collection::vec(transfer(), 1..6), 1..30)) {
        let mut ledger = Ledger::new();
        let mut model: BTreeMap<AccountKey, Decimal> = BTreeMap::new();
        for batch in &batches {
            let expected = reference(&model, batch);
            let got = ledger.apply(batch);
            match (expected, got) {
                (Ok(next), Ok(())) => model = next,
                (Err(index), Err(err)) => prop_assert_eq!(index, err.index),
                (expected, got) => prop_assert!(false, "model {:?} vs ledger {:?}", expected.map(|_| ()), got),
            }
            for (account, balance) in &model {
                prop_assert_eq!(ledger.balance(account), *balance);
            }
            for sum in ledger.sum_by_asset().values() {
                prop_assert_eq!(*sum, Decimal::ZERO);
            }
        }
    }
}
