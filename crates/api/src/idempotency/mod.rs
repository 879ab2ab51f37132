//! Idempotency keys (IETF draft semantics, API.md "Idempotency").
//!
//! A mutating request with an `Idempotency-Key` header is claimed before it runs
//! ([`persistence::claim`]): the first use goes ahead; a repeat of a finished one gets
//! the stored answer with `Idempotent-Replayed: true`; a repeat while the first is
//! still running gets 409; the same key with a different payload gets 422. The
//! answer of the first use is stored *in the same transaction as its effect*
//! (`UnitOfWork::complete_idempotency`), so a crash can never leave an effect without
//! its record or a record without its effect. A request that fails before any
//! effect releases its claim, so the client may retry with the same key.

pub mod key;
pub mod persistence;

pub use key::{IdempotencyKey, IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER};
pub use persistence::{claim, Claimed};
