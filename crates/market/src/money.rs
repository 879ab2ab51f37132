//! The ledger as the order path stores it: accounts as rows, the ledger crate's
//! rules applied to them, and the operator's credits.
//!
//! Sign convention and balance rules: see `hashmarket_ledger`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use hashmarket_store::market::{
    AccountRef, EntryRecord, IdempotencyCompletion, TransferRecord, OPERATOR_ID,
};
use hashmarket_store::{Store, StoreError};

pub use hashmarket_ledger::{Purpose, TransferError, TransferKind};

/// The ledger's key of a stored account (an unknown purpose is treated as one that
/// may not go negative).
fn ledger_key(account: &AccountRef) -> hashmarket_ledger::AccountKey {
    hashmarket_ledger::AccountKey {
        owner: account.owner_id,
        asset: account.asset.clone(),
        purpose: Purpose::parse(&account.purpose).unwrap_or(Purpose::Available),
    }
}

/// Whether an account may hold a negative balance (the ledger's rule).
pub fn may_go_negative(account: &AccountRef) -> bool {
    ledger_key(account).may_go_negative()
}

/// Checks a transfer between two stored accounts with the ledger's rules and
/// returns both balances after it.
pub fn check_transfer(
    from: &AccountRef,
    from_balance: Decimal,
    to: &AccountRef,
    to_balance: Decimal,
    amount: Decimal,
) -> Result<(Decimal, Decimal), TransferError> {
    hashmarket_ledger::check_transfer(
        &ledger_key(from),
        from_balance,
        &ledger_key(to),
        to_balance,
        amount,
    )
}

/// An operator's credit to a user.
#[derive(Debug, Clone)]
pub struct Credit {
    /// The transfer's id.
    pub transfer_id: Uuid,
    /// Who is credited.
    pub user_id: Uuid,
    /// Asset code.
    pub asset: String,
    /// How much (positive, at the asset's precision).
    pub amount: Decimal,
    /// The operator's reference.
    pub reference: String,
    /// When (business clock).
    pub at: DateTime<Utc>,
}

/// Writes a credit `world → user available` with its idempotency record, in one
/// transaction.
pub async fn credit(
    store: &dyn Store,
    credit: Credit,
    completion: IdempotencyCompletion,
) -> Result<(), StoreError> {
    let world = account(OPERATOR_ID, &credit.asset, Purpose::World);
    let available = account(credit.user_id, &credit.asset, Purpose::Available);
    let mut work = store.begin().await?;
    let balances = work
        .lock_accounts(&[world.clone(), available.clone()])
        .await?;
    let (world_after, available_after) =
        check_transfer(&world, balances[0], &available, balances[1], credit.amount)
            .map_err(|e| StoreError::Conflict(e.to_string()))?;
    let transfer = TransferRecord {
        id: credit.transfer_id,
        kind: TransferKind::Credit.as_str().to_string(),
        debit: world.clone(),
        credit: available.clone(),
        amount: credit.amount,
        order_id: None,
        contract_id: None,
        withdrawal_id: None,
        reference: Some(credit.reference),
        created_at: credit.at,
    };
    let entries = [
        entry(
            credit.transfer_id,
            &world,
            credit.amount,
            Decimal::ZERO,
            world_after,
            credit.at,
        ),
        entry(
            credit.transfer_id,
            &available,
            Decimal::ZERO,
            credit.amount,
            available_after,
            credit.at,
        ),
    ];
    work.write_ledger(
        &[transfer],
        &entries,
        &[(world, world_after), (available, available_after)],
    )
    .await?;
    work.complete_idempotency(&[completion]).await?;
    work.commit().await
}

/// The account of `owner_id` in `asset` for `purpose`.
pub fn account(owner_id: Uuid, asset: &str, purpose: Purpose) -> AccountRef {
    AccountRef {
        owner_id,
        asset: asset.to_string(),
        purpose: purpose.as_str().to_string(),
    }
}

/// One side of a transfer in the journal.
pub fn entry(
    transfer_id: Uuid,
    account: &AccountRef,
    debit: Decimal,
    credit: Decimal,
    balance_after: Decimal,
    at: DateTime<Utc>,
) -> EntryRecord {
    EntryRecord {
        transfer_id,
        account: account.clone(),
        debit,
        credit,
        balance_after,
        created_at: at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_accounts_follow_the_ledger_rules() {
        let user = Uuid::now_v7();
        let world = account(OPERATOR_ID, "BTC", Purpose::World);
        let fees = account(OPERATOR_ID, "BTC", Purpose::Fees);
        let available = account(user, "BTC", Purpose::Available);
        let one = Decimal::ONE;
        assert!(may_go_negative(&world) && !may_go_negative(&fees) && !may_go_negative(&available));
        assert_eq!(
            check_transfer(&world, Decimal::ZERO, &available, Decimal::ZERO, one),
            Ok((-one, one))
        );
        assert!(matches!(
            check_transfer(&available, Decimal::ZERO, &fees, Decimal::ZERO, one),
            Err(TransferError::WouldGoNegative { .. })
        ));
    }
}
