-- Withdrawals (HM-6): each user's payout settings per asset, and withdrawals with
-- their life cycle. The money itself moves in the ledger (available →
-- pending_withdrawal → world + fees, or back), by transfers naming the withdrawal,
-- in the same transaction as each change of status here. Amounts are canonical
-- decimal text (crates/store/src/sqlite/codec.rs), so the amount rules are the
-- API's; the database keeps the shape.

-- Where and from what balance a user's asset is paid out; `auto_payout` pays the
-- whole available balance once it reaches `threshold`.
CREATE TABLE withdrawal_settings (
    user_id     TEXT NOT NULL REFERENCES users (id),
    asset       TEXT NOT NULL,
    address     TEXT NOT NULL CHECK (length(address) BETWEEN 1 AND 128),
    threshold   TEXT NOT NULL,
    auto_payout INTEGER NOT NULL CHECK (auto_payout IN (0, 1)),
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, asset)
) STRICT;
CREATE INDEX withdrawal_settings_auto ON withdrawal_settings (user_id, asset) WHERE auto_payout = 1;

-- `amount` left the user's available balance; the user receives amount − fee.
-- The confirmation token is stored as its hex SHA-256, never in the clear.
CREATE TABLE withdrawals (
    id                 TEXT PRIMARY KEY,
    user_id            TEXT NOT NULL REFERENCES users (id),
    asset              TEXT NOT NULL,
    amount             TEXT NOT NULL,
    fee                TEXT NOT NULL,
    address            TEXT NOT NULL CHECK (length(address) BETWEEN 1 AND 128),
    status             TEXT NOT NULL CHECK (status IN
                           ('pending_confirmation', 'confirmed', 'completed', 'rejected', 'cancelled')),
    confirm_token_hash TEXT CHECK (length(confirm_token_hash) = 64),
    created_at         TEXT NOT NULL,
    confirmed_at       TEXT,
    completed_at       TEXT,
    updated_at         TEXT NOT NULL,
    txid               TEXT CHECK (length(txid) BETWEEN 1 AND 128),
    reject_reason      TEXT CHECK (length(reject_reason) BETWEEN 1 AND 500),
    auto               INTEGER NOT NULL DEFAULT 0 CHECK (auto IN (0, 1)),
    CHECK ((status = 'completed') = (txid IS NOT NULL AND completed_at IS NOT NULL)),
    CHECK ((status = 'rejected') = (reject_reason IS NOT NULL))
) STRICT;
CREATE INDEX withdrawals_user ON withdrawals (user_id, id DESC);
CREATE INDEX withdrawals_status ON withdrawals (status, id);
CREATE INDEX transfers_withdrawal ON transfers (withdrawal_id) WHERE withdrawal_id IS NOT NULL;
