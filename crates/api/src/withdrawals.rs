//! The withdrawal service (HM-6; DESIGN.md "The money, step by step", item 7).
//!
//! A withdrawal's life: requested (`pending_confirmation`: the whole amount moves
//! `available` → `pending_withdrawal` at once, so it cannot be spent twice) →
//! `confirmed` (by the emailed one-time token, or by a TOTP code when the user has
//! TOTP) → `completed` by the operator with the network's txid (`pending_withdrawal`
//! → operator `world` for amount − fee, → operator `fees` for the fee). From
//! `pending_confirmation` the user may cancel, and the operator may reject a
//! pending or confirmed one; both return the whole amount to `available`.
//! Automatic payouts ([`auto_payout`]) start `confirmed`: the user opted in.
//!
//! Every change is one transaction: the withdrawal row (locked first, so the
//! decision is made on what is committed), its ledger transfers (through a
//! [`Batch`]), its email and, for requests, the idempotency record. The rules for
//! each transition are the pure [`apply`].

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use hashmarket_contracts::Catalog;
use hashmarket_market::batch::{account, Batch, Refs};
use hashmarket_market::money::{Purpose, TransferKind};
use hashmarket_market::Notices;
use hashmarket_store::market::{AccountRef, IdempotencyCompletion, UserEmail, OPERATOR_ID};
use hashmarket_store::withdrawals::WithdrawalRow;
use hashmarket_store::{Store, StoreError};

use crate::mail::templates::{self, Rendered, WithdrawalTerms};
use crate::state::AppState;

/// How long an emailed confirmation token works.
pub const CONFIRM_TTL_HOURS: i64 = 24;
/// Longest destination address, in characters.
pub const ADDRESS_MAX_CHARS: usize = 128;
/// Longest network transaction id, in characters.
pub const TXID_MAX_CHARS: usize = 128;
/// Longest reject reason, in characters.
pub const REASON_MAX_CHARS: usize = 500;
/// Settings read per page by [`auto_payout`].
const AUTO_PAYOUT_PAGE: u32 = 500;

/// Where a withdrawal is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Requested, money held, waiting for the user's confirmation.
    PendingConfirmation,
    /// Confirmed, waiting for the operator to send it.
    Confirmed,
    /// Sent (final).
    Completed,
    /// Refused by the operator, money returned (final).
    Rejected,
    /// Cancelled by the user before confirmation, money returned (final).
    Cancelled,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 5] = [
        Status::PendingConfirmation,
        Status::Confirmed,
        Status::Completed,
        Status::Rejected,
        Status::Cancelled,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::PendingConfirmation => "pending_confirmation",
            Status::Confirmed => "confirmed",
            Status::Completed => "completed",
            Status::Rejected => "rejected",
            Status::Cancelled => "cancelled",
        }
    }

    /// Parses a stored or wire name.
    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A change asked of an existing withdrawal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The user confirms: with the hash of the emailed token, or `None` when a
    /// TOTP code was checked instead.
    Confirm {
        /// Hex SHA-256 of the token sent, if the token is the proof.
        token_hash: Option<String>,
    },
    /// The user cancels an unconfirmed withdrawal.
    Cancel,
    /// The operator sent it.
    Complete {
        /// The network transaction id.
        txid: String,
    },
    /// The operator refuses it.
    Reject {
        /// Why (shown to the user).
        reason: String,
    },
}

impl Action {
    fn name(&self) -> &'static str {
        match self {
            Action::Confirm { .. } => "confirm",
            Action::Cancel => "cancel",
            Action::Complete { .. } => "complete",
            Action::Reject { .. } => "reject",
        }
    }
}

/// One ledger movement of a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    /// Why.
    pub kind: TransferKind,
    /// Debited.
    pub from: AccountRef,
    /// Credited.
    pub to: AccountRef,
    /// How much (zero is skipped).
    pub amount: Decimal,
}

/// Why a withdrawal operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum WithdrawalError {
    /// No such withdrawal (of this user).
    #[error("no such withdrawal")]
    NotFound,
    /// Not enough available balance.
    #[error("available balance {available} is less than {amount}")]
    InsufficientFunds {
        /// What is available.
        available: Decimal,
        /// What was asked.
        amount: Decimal,
    },
    /// The action is not allowed in the withdrawal's status.
    #[error("a {status} withdrawal cannot be {action}ed")]
    Conflict {
        /// The status it is in.
        status: String,
        /// What was asked.
        action: &'static str,
    },
    /// The confirmation token is wrong or expired.
    #[error("the confirmation token is wrong or expired")]
    TokenInvalid,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn refs(id: Uuid) -> Refs {
    Refs {
        withdrawal_id: Some(id),
        ..Refs::default()
    }
}

/// The rules of a transition: the withdrawal after `action` at `now`, and the
/// money it moves. Pure; refuses illegal transitions and wrong tokens.
pub fn apply(
    row: &WithdrawalRow,
    action: &Action,
    now: DateTime<Utc>,
) -> Result<(WithdrawalRow, Vec<Move>), WithdrawalError> {
    let status = Status::parse(&row.status);
    let conflict = || WithdrawalError::Conflict {
        status: row.status.clone(),
        action: action.name(),
    };
    let pending = account(row.user_id, &row.asset, Purpose::PendingWithdrawal);
    let back = || Move {
        kind: TransferKind::WithdrawalReturn,
        from: pending.clone(),
        to: account(row.user_id, &row.asset, Purpose::Available),
        amount: row.amount,
    };
    let mut next = row.clone();
    next.updated_at = now;
    let moves = match (status, action) {
        (Some(Status::PendingConfirmation), Action::Confirm { token_hash }) => {
            if let Some(hash) = token_hash {
                let expired = now > row.created_at + Duration::hours(CONFIRM_TTL_HOURS);
                if expired || row.confirm_token_hash.as_deref() != Some(hash.as_str()) {
                    return Err(WithdrawalError::TokenInvalid);
                }
            }
            next.status = Status::Confirmed.as_str().into();
            next.confirmed_at = Some(now);
            next.confirm_token_hash = None;
            Vec::new()
        }
        (Some(Status::PendingConfirmation), Action::Cancel) => {
            next.status = Status::Cancelled.as_str().into();
            next.confirm_token_hash = None;
            vec![back()]
        }
        (Some(Status::Confirmed), Action::Complete { txid }) => {
            next.status = Status::Completed.as_str().into();
            next.completed_at = Some(now);
            next.txid = Some(txid.clone());
            vec![
                Move {
                    kind: TransferKind::WithdrawalSent,
                    from: pending.clone(),
                    to: account(OPERATOR_ID, &row.asset, Purpose::World),
                    amount: row.amount - row.fee,
                },
                Move {
                    kind: TransferKind::WithdrawalFee,
                    from: pending.clone(),
                    to: account(OPERATOR_ID, &row.asset, Purpose::Fees),
                    amount: row.fee,
                },
            ]
        }
        (Some(Status::PendingConfirmation | Status::Confirmed), Action::Reject { reason }) => {
            next.status = Status::Rejected.as_str().into();
            next.reject_reason = Some(reason.clone());
            next.confirm_token_hash = None;
            vec![back()]
        }
        _ => return Err(conflict()),
    };
    Ok((next, moves))
}

/// How much a new withdrawal takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    /// Exactly this (the row's `amount`); less available is `InsufficientFunds`.
    Exactly,
    /// The whole available balance as locked, if it is at least `at_least` and
    /// more than the fee; otherwise nothing is made.
    WholeBalance {
        /// The threshold.
        at_least: Decimal,
    },
}

/// Creates a withdrawal in one transaction: locks the user's accounts, moves the
/// amount `available` → `pending_withdrawal`, inserts the row and writes the email
/// and the idempotency record with it. Returns the row as written, or `None`
/// when a [`Amount::WholeBalance`] payout is not due.
pub async fn create(
    store: &dyn Store,
    mut row: WithdrawalRow,
    amount: Amount,
    email: Option<UserEmail>,
    completion: Option<IdempotencyCompletion>,
) -> Result<Option<WithdrawalRow>, WithdrawalError> {
    let available = account(row.user_id, &row.asset, Purpose::Available);
    let pending = account(row.user_id, &row.asset, Purpose::PendingWithdrawal);
    let mut work = store.begin().await?;
    let balances = work
        .lock_accounts(&[available.clone(), pending.clone()])
        .await?;
    let balance = balances[0];
    match amount {
        Amount::Exactly => {
            if balance < row.amount {
                return Err(WithdrawalError::InsufficientFunds {
                    available: balance,
                    amount: row.amount,
                });
            }
        }
        Amount::WholeBalance { at_least } => {
            if balance < at_least || balance <= row.fee {
                return Ok(None);
            }
            row.amount = balance;
        }
    }
    work.insert_withdrawal(&row).await?;
    if let Some(completion) = completion {
        work.complete_idempotency(&[completion]).await?;
    }
    let mut batch = Batch::new(work, row.created_at, Notices::default());
    batch.lock(&[available.clone(), pending.clone()]).await?;
    batch.transfer(
        TransferKind::WithdrawalRequest,
        &available,
        &pending,
        row.amount,
        refs(row.id),
    );
    if let Some(email) = email {
        batch.add_email(email);
    }
    batch.commit().await?;
    Ok(Some(row))
}

/// Applies `action` to withdrawal `id` (of `owner` when given: another user's is
/// [`WithdrawalError::NotFound`]) in one transaction: the row locked and updated,
/// its transfers, and the email `email` renders for the new state.
pub async fn transition(
    store: &dyn Store,
    id: Uuid,
    owner: Option<Uuid>,
    action: Action,
    now: DateTime<Utc>,
    email: impl FnOnce(&WithdrawalRow) -> Option<UserEmail>,
) -> Result<WithdrawalRow, WithdrawalError> {
    let mut work = store.begin().await?;
    let row = work
        .lock_withdrawal(id)
        .await?
        .filter(|r| !matches!(owner, Some(o) if o != r.user_id))
        .ok_or(WithdrawalError::NotFound)?;
    let (next, moves) = apply(&row, &action, now)?;
    work.update_withdrawal(&next).await?;
    let mut batch = Batch::new(work, now, Notices::default());
    let accounts: Vec<AccountRef> = moves
        .iter()
        .flat_map(|m| [m.from.clone(), m.to.clone()])
        .collect();
    batch.lock(&accounts).await?;
    for m in &moves {
        batch.transfer(m.kind, &m.from, &m.to, m.amount, refs(id));
    }
    if let Some(email) = email(&next) {
        batch.add_email(email);
    }
    batch.commit().await?;
    Ok(next)
}

/// The outbox row for `rendered` to `user_id` (addressed from the user's row).
pub fn user_email(user_id: Uuid, rendered: Rendered) -> UserEmail {
    UserEmail {
        id: Uuid::now_v7(),
        user_id,
        subject: rendered.subject,
        body_text: rendered.text,
        body_html: rendered.html,
        // Wall time: emails are operations, not business events.
        created_at: Utc::now(),
    }
}

/// Renders an email about `row` with its amounts formatted by `catalog`.
pub fn render(
    catalog: &crate::catalog::ApiCatalog,
    row: &WithdrawalRow,
    body: impl FnOnce(&WithdrawalTerms<'_>) -> Rendered,
) -> Rendered {
    let money = |d: Decimal| format!("{} {}", catalog.format(&row.asset, d), row.asset);
    let id = row.id.to_string();
    let (amount, fee, net) = (
        money(row.amount),
        money(row.fee),
        money(row.amount - row.fee),
    );
    body(&WithdrawalTerms {
        id: &id,
        amount: &amount,
        fee: &fee,
        net: &net,
        address: &row.address,
    })
}

/// The email of a completed or rejected withdrawal (none for other states).
pub fn outcome_email(state: &AppState, row: &WithdrawalRow) -> Option<UserEmail> {
    let rendered = match Status::parse(&row.status)? {
        Status::Completed => render(&state.catalog, row, |t| {
            templates::withdrawal_completed(t, row.txid.as_deref().unwrap_or_default())
        }),
        Status::Rejected => render(&state.catalog, row, |t| {
            templates::withdrawal_rejected(t, row.reject_reason.as_deref().unwrap_or_default())
        }),
        _ => return None,
    };
    Some(user_email(row.user_id, rendered))
}

/// Makes an automatic payout (status `confirmed`, `auto`) of the whole available
/// balance for every user with `auto_payout` on whose balance in the asset is at
/// least their threshold (and more than the fee). One transaction per payout,
/// deciding on the balance as locked, so concurrent runs cannot pay twice.
/// Returns how many withdrawals were made.
pub async fn auto_payout(state: &AppState, now: DateTime<Utc>) -> Result<usize, StoreError> {
    auto_payout_with(&*state.store, state.catalog.catalog(), now).await
}

/// [`auto_payout`] over a store and catalog (for callers without an [`AppState`]).
pub async fn auto_payout_with(
    store: &dyn Store,
    catalog: &Catalog,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut made = 0;
    let mut after: Option<(Uuid, String)> = None;
    loop {
        let page = store
            .auto_payout_candidates(after.clone(), AUTO_PAYOUT_PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some((last.settings.user_id, last.settings.asset.clone()));
        for candidate in &page {
            let settings = &candidate.settings;
            let Some(asset) = catalog.assets.get(&settings.asset) else {
                continue;
            };
            let at_least = settings.threshold.max(asset.withdrawal_min);
            if candidate.available < at_least || candidate.available <= asset.withdrawal_fee {
                continue;
            }
            let row = WithdrawalRow {
                id: Uuid::now_v7(),
                user_id: settings.user_id,
                asset: settings.asset.clone(),
                amount: candidate.available,
                fee: asset.withdrawal_fee,
                address: settings.address.clone(),
                status: Status::Confirmed.as_str().into(),
                confirm_token_hash: None,
                created_at: now,
                confirmed_at: Some(now),
                completed_at: None,
                updated_at: now,
                txid: None,
                reject_reason: None,
                auto: true,
            };
            match create(store, row, Amount::WholeBalance { at_least }, None, None).await {
                Ok(Some(row)) => {
                    tracing::info!(withdrawal_id = %row.id, user_id = %row.user_id,
                        asset = %row.asset, amount = %row.amount, "automatic payout requested");
                    made += 1;
                }
                Ok(None) => {}
                Err(WithdrawalError::Store(err)) => return Err(err),
                Err(err) => {
                    tracing::warn!(user_id = %settings.user_id, error = %err, "automatic payout skipped")
                }
            }
        }
        if page.len() < AUTO_PAYOUT_PAGE as usize {
            break;
        }
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn row(status: Status) -> WithdrawalRow {
        let now = Utc::now();
        WithdrawalRow {
            id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            asset: "BTC".into(),
            amount: dec("0.01"),
            fee: dec("0.0001"),
            address: "bc1q".into(),
            status: status.as_str().into(),
            confirm_token_hash: Some("a".repeat(64)),
            created_at: now,
            confirmed_at: None,
            completed_at: None,
            updated_at: now,
            txid: None,
            reject_reason: None,
            auto: false,
        }
    }

    #[test]
    fn only_the_legal_transitions_are_allowed() {
        let now = Utc::now();
        let actions = [
            Action::Confirm { token_hash: None },
            Action::Cancel,
            Action::Complete { txid: "t".into() },
            Action::Reject { reason: "r".into() },
        ];
        for status in Status::ALL {
            for action in &actions {
                let legal = matches!(
                    (status, action),
                    (Status::PendingConfirmation, Action::Confirm { .. })
                        | (Status::PendingConfirmation, Action::Cancel)
                        | (Status::Confirmed, Action::Complete { .. })
                        | (
                            Status::PendingConfirmation | Status::Confirmed,
                            Action::Reject { .. }
                        )
                );
                let result = apply(&row(status), action, now);
                assert_eq!(result.is_ok(), legal, "{status:?} {action:?}");
                if !legal {
                    assert!(matches!(result, Err(WithdrawalError::Conflict { .. })));
                }
            }
        }
    }

    #[test]
    fn money_moves_balance_and_return_the_whole_amount() {
        let now = Utc::now();
        let (done, moves) = apply(
            &row(Status::Confirmed),
            &Action::Complete { txid: "t".into() },
            now,
        )
        .unwrap();
        assert_eq!(done.status, "completed");
        assert_eq!(done.txid.as_deref(), Some("t"));
        let total: Decimal = moves.iter().map(|m| m.amount).sum();
        assert_eq!(total, dec("0.01"));
        assert_eq!(moves[0].amount, dec("0.0099"));
        assert_eq!(moves[0].to.purpose, "world");
        assert_eq!(moves[1].amount, dec("0.0001"));
        assert_eq!(moves[1].to.purpose, "fees");
        for action in [Action::Cancel, Action::Reject { reason: "r".into() }] {
            let (_, moves) = apply(&row(Status::PendingConfirmation), &action, now).unwrap();
            assert_eq!(moves.len(), 1);
            assert_eq!(moves[0].amount, dec("0.01"));
            assert_eq!(moves[0].to.purpose, "available");
        }
    }

    #[test]
    fn confirmation_needs_the_right_unexpired_token() {
        let pending = row(Status::PendingConfirmation);
        let good = Action::Confirm {
            token_hash: Some("a".repeat(64)),
        };
        let bad = Action::Confirm {
            token_hash: Some("b".repeat(64)),
        };
        let now = pending.created_at;
        let (confirmed, moves) = apply(&pending, &good, now).unwrap();
        assert_eq!(confirmed.status, "confirmed");
        assert!(confirmed.confirm_token_hash.is_none() && moves.is_empty());
        assert!(matches!(
            apply(&pending, &bad, now),
            Err(WithdrawalError::TokenInvalid)
        ));
        let late = now + Duration::hours(CONFIRM_TTL_HOURS) + Duration::seconds(1);
        assert!(matches!(
            apply(&pending, &good, late),
            Err(WithdrawalError::TokenInvalid)
        ));
        // A token once used is gone: confirming again is a conflict.
        assert!(matches!(
            apply(&confirmed, &good, now),
            Err(WithdrawalError::Conflict { .. })
        ));
    }
}
