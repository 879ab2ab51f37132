//! Withdrawals (HM-6): each user's payout settings per asset, and withdrawals.
//!
//! Reads and the settings (which move no money) are here. Every change of a
//! withdrawal's status moves money, so it is written through the
//! [`UnitOfWork`](crate::market::UnitOfWork) of the batch that writes its ledger
//! transfers (`insert_withdrawal`, `lock_withdrawal`, `update_withdrawal`): the row
//! and the money commit together or not at all. The store decides nothing: which
//! transitions are legal and what they cost is the API's withdrawal service.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::StoreError;

/// A user's payout settings for one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawalSettingsRow {
    /// The user.
    pub user_id: Uuid,
    /// Asset code.
    pub asset: String,
    /// Where withdrawals of this asset go by default.
    pub address: String,
    /// The smallest withdrawal (at least the asset's minimum), and the balance at
    /// which an automatic payout is made.
    pub threshold: Decimal,
    /// Pay the whole available balance automatically once it reaches `threshold`.
    pub auto_payout: bool,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A withdrawal as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawalRow {
    /// Withdrawal id (UUIDv7).
    pub id: Uuid,
    /// Whose money.
    pub user_id: Uuid,
    /// Asset code.
    pub asset: String,
    /// What left the user's available balance (the fee included).
    pub amount: Decimal,
    /// The network fee, kept by the operator; the user receives `amount − fee`.
    pub fee: Decimal,
    /// Destination address.
    pub address: String,
    /// `pending_confirmation`, `confirmed`, `completed`, `rejected`, `cancelled`.
    pub status: String,
    /// Hex SHA-256 of the emailed confirmation token (none once used, or for
    /// automatic payouts).
    pub confirm_token_hash: Option<String>,
    /// Requested (business clock).
    pub created_at: DateTime<Utc>,
    /// Confirmed.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Sent by the operator.
    pub completed_at: Option<DateTime<Utc>>,
    /// Last status change.
    pub updated_at: DateTime<Utc>,
    /// The network transaction id, once completed.
    pub txid: Option<String>,
    /// Why the operator rejected it.
    pub reject_reason: Option<String>,
    /// Made by the automatic payout (no confirmation needed: the user opted in).
    pub auto: bool,
}

/// Settings with automatic payout on, and the user's available balance in the
/// asset (zero without an account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoPayoutCandidate {
    /// The settings.
    pub settings: WithdrawalSettingsRow,
    /// The `available` balance as committed when read.
    pub available: Decimal,
}

/// The filter and page of a withdrawal listing.
#[derive(Debug, Clone, Default)]
pub struct WithdrawalQuery {
    /// Only this user's (`None`: everyone's, for the operator).
    pub user_id: Option<Uuid>,
    /// Only this status.
    pub status: Option<String>,
    /// Only withdrawals older than this id (UUIDv7: older = smaller).
    pub before: Option<Uuid>,
    /// Page size.
    pub limit: u32,
}

/// Withdrawal settings and reads of withdrawals.
#[async_trait]
pub trait WithdrawalStore: Send + Sync {
    /// A user's settings, by asset.
    async fn withdrawal_settings(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<WithdrawalSettingsRow>, StoreError>;
    /// Inserts or replaces a user's settings for an asset.
    async fn put_withdrawal_settings(&self, row: &WithdrawalSettingsRow) -> Result<(), StoreError>;
    /// One withdrawal.
    async fn withdrawal(&self, id: Uuid) -> Result<Option<WithdrawalRow>, StoreError>;
    /// Withdrawals, newest first.
    async fn withdrawals(&self, query: &WithdrawalQuery) -> Result<Vec<WithdrawalRow>, StoreError>;
    /// Up to `limit` settings with automatic payout on, in (user, asset) order
    /// after `after`, each with the user's available balance in the asset.
    async fn auto_payout_candidates(
        &self,
        after: Option<(Uuid, String)>,
        limit: u32,
    ) -> Result<Vec<AutoPayoutCandidate>, StoreError>;
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;
    use std::sync::Arc;

    use super::*;
    use crate::identity::UserRow;
    use crate::market::{AccountRef, EntryRecord, TransferRecord, OPERATOR_ID};
    use crate::testing::TestDatabase;
    use crate::{connect, Backend, ConnectOptions, Store};

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    /// Whole microseconds: what both backends keep of a time.
    fn now() -> DateTime<Utc> {
        let t = Utc::now();
        DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap()
    }

    async fn new_user(store: &dyn Store) -> Uuid {
        let id = Uuid::now_v7();
        let user = UserRow {
            id,
            email: format!("{}@example.com", id.simple()),
            password_hash: "x".into(),
            role: "user".into(),
            email_verified_at: None,
            created_at: now(),
        };
        assert!(store.insert_user(&user).await.unwrap());
        id
    }

    fn available(owner: Uuid) -> AccountRef {
        AccountRef {
            owner_id: owner,
            asset: "BTC".into(),
            purpose: "available".into(),
        }
    }

    /// Credits `owner` from the operator's world, directly in the ledger.
    async fn fund(store: &dyn Store, owner: Uuid, amount: Decimal) {
        let world = AccountRef {
            owner_id: OPERATOR_ID,
            asset: "BTC".into(),
            purpose: "world".into(),
        };
        let mut work = store.begin().await.unwrap();
        let b = work
            .lock_accounts(&[world.clone(), available(owner)])
            .await
            .unwrap();
        let id = Uuid::now_v7();
        let at = now();
        let entry = |account: &AccountRef, debit, credit, after| EntryRecord {
            transfer_id: id,
            account: account.clone(),
            debit,
            credit,
            balance_after: after,
            created_at: at,
        };
        let entries = [
            entry(&world, amount, Decimal::ZERO, b[0] - amount),
            entry(&available(owner), Decimal::ZERO, amount, b[1] + amount),
        ];
        let transfer = TransferRecord {
            id,
            kind: "credit".into(),
            debit: world.clone(),
            credit: available(owner),
            amount,
            order_id: None,
            contract_id: None,
            withdrawal_id: None,
            reference: Some("test".into()),
            created_at: at,
        };
        work.write_ledger(
            &[transfer],
            &entries,
            &[(world, b[0] - amount), (available(owner), b[1] + amount)],
        )
        .await
        .unwrap();
        work.commit().await.unwrap();
    }

    fn settings(user_id: Uuid, threshold: &str, auto_payout: bool) -> WithdrawalSettingsRow {
        WithdrawalSettingsRow {
            user_id,
            asset: "BTC".into(),
            address: "bc1qtest".into(),
            threshold: d(threshold),
            auto_payout,
            updated_at: now(),
        }
    }

    async fn settings_and_withdrawals_round_trip(store: Arc<dyn Store>) {
        let store = &*store;
        let (a, b, c) = (
            new_user(store).await,
            new_user(store).await,
            new_user(store).await,
        );
        // Settings: insert, replace, read back exactly.
        store
            .put_withdrawal_settings(&settings(a, "0.5", false))
            .await
            .unwrap();
        let replaced = settings(a, "0.00100000", true);
        store.put_withdrawal_settings(&replaced).await.unwrap();
        assert_eq!(store.withdrawal_settings(a).await.unwrap(), vec![replaced]);
        store
            .put_withdrawal_settings(&settings(b, "0.01", true))
            .await
            .unwrap();
        store
            .put_withdrawal_settings(&settings(c, "0.01", false))
            .await
            .unwrap();
        fund(store, a, d("0.25")).await;

        // Candidates: auto payout on only, with the available balance (0 without
        // an account), in (user, asset) order, paged by keyset.
        let all = store.auto_payout_candidates(None, 10).await.unwrap();
        let mut expected = vec![(a, d("0.25")), (b, Decimal::ZERO)];
        expected.sort();
        let got: Vec<(Uuid, Decimal)> = all
            .iter()
            .map(|c| (c.settings.user_id, c.available))
            .collect();
        assert_eq!(got, expected);
        let first = store.auto_payout_candidates(None, 1).await.unwrap();
        let after = Some((first[0].settings.user_id, first[0].settings.asset.clone()));
        let second = store.auto_payout_candidates(after, 1).await.unwrap();
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].settings.user_id, expected[1].0);

        // A withdrawal: inserted, locked, updated in units of work.
        let at = now();
        let row = WithdrawalRow {
            id: Uuid::now_v7(),
            user_id: a,
            asset: "BTC".into(),
            amount: d("0.0123"),
            fee: d("0.0001"),
            address: "bc1qtest".into(),
            status: "pending_confirmation".into(),
            confirm_token_hash: Some("ab".repeat(32)),
            created_at: at,
            confirmed_at: None,
            completed_at: None,
            updated_at: at,
            txid: None,
            reject_reason: None,
            auto: false,
        };
        let mut work = store.begin().await.unwrap();
        work.insert_withdrawal(&row).await.unwrap();
        drop(work); // rolled back
        assert!(store.withdrawal(row.id).await.unwrap().is_none());
        let mut work = store.begin().await.unwrap();
        work.insert_withdrawal(&row).await.unwrap();
        work.commit().await.unwrap();
        assert_eq!(store.withdrawal(row.id).await.unwrap(), Some(row.clone()));

        let mut work = store.begin().await.unwrap();
        let locked = work.lock_withdrawal(row.id).await.unwrap().unwrap();
        assert_eq!(locked, row);
        assert!(work
            .lock_withdrawal(Uuid::now_v7())
            .await
            .unwrap()
            .is_none());
        let done = WithdrawalRow {
            status: "completed".into(),
            confirm_token_hash: None,
            confirmed_at: Some(at),
            completed_at: Some(at),
            txid: Some("tx".into()),
            ..locked
        };
        work.update_withdrawal(&done).await.unwrap();
        work.commit().await.unwrap();
        assert_eq!(store.withdrawal(row.id).await.unwrap(), Some(done.clone()));

        // The database refuses a status outside the life cycle.
        let mut work = store.begin().await.unwrap();
        let bogus = WithdrawalRow {
            status: "lost".into(),
            ..done.clone()
        };
        assert!(work.update_withdrawal(&bogus).await.is_err());
        drop(work);

        // Listings: per user, per status, everyone's, paged by id.
        let other = WithdrawalRow {
            id: Uuid::now_v7(),
            user_id: b,
            auto: true,
            status: "confirmed".into(),
            confirm_token_hash: None,
            ..row.clone()
        };
        let mut work = store.begin().await.unwrap();
        work.insert_withdrawal(&other).await.unwrap();
        work.commit().await.unwrap();
        let list = |user_id, status: Option<&str>, before, limit| WithdrawalQuery {
            user_id,
            status: status.map(String::from),
            before,
            limit,
        };
        let everyone = store
            .withdrawals(&list(None, None, None, 10))
            .await
            .unwrap();
        assert_eq!(everyone, vec![other.clone(), done.clone()]);
        let mine = store
            .withdrawals(&list(Some(a), None, None, 10))
            .await
            .unwrap();
        assert_eq!(mine, vec![done.clone()]);
        let queue = store
            .withdrawals(&list(None, Some("confirmed"), None, 10))
            .await
            .unwrap();
        assert_eq!(queue, vec![other.clone()]);
        let older = store
            .withdrawals(&list(None, None, Some(other.id), 10))
            .await
            .unwrap();
        assert_eq!(older, vec![done]);
        assert!(store
            .withdrawals(&list(Some(c), None, None, 10))
            .await
            .unwrap()
            .is_empty());
    }

    async fn on(backend: Backend) {
        let db = TestDatabase::new(backend).await;
        let store = connect(&db.url, &ConnectOptions::default())
            .await
            .expect("open a fresh test database");
        settings_and_withdrawals_round_trip(store.clone()).await;
        store.close().await;
    }

    #[tokio::test]
    async fn round_trip_on_sqlite() {
        on(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn round_trip_on_postgres() {
        on(Backend::Postgres).await;
    }
}
