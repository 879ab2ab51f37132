-- The marketplace: double-entry ledger, rigs, orders, contracts, idempotency records.
-- Hash rates are integer H/s in INTEGER (bound: 9.2 EH/s per rig, order or contract).
-- Amounts are TEXT; the ledger core (crates/ledger) decides every balance.

-- One row per (owner, asset, purpose); the operator's owner_id is the nil TEXT.
CREATE TABLE accounts (
    owner_id   TEXT NOT NULL,
    asset      TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    balance    TEXT NOT NULL DEFAULT '0',
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (owner_id, asset, purpose)
) STRICT;

-- Every movement of money: debit one account, credit another, same asset.
CREATE TABLE transfers (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    asset          TEXT NOT NULL,
    amount         TEXT NOT NULL,
    debit_owner    TEXT NOT NULL,
    debit_purpose  TEXT NOT NULL,
    credit_owner   TEXT NOT NULL,
    credit_purpose TEXT NOT NULL,
    order_id       TEXT,
    contract_id    TEXT,
    withdrawal_id  TEXT,
    reference      TEXT,
    created_at     TEXT NOT NULL,
    FOREIGN KEY (debit_owner, asset, debit_purpose) REFERENCES accounts (owner_id, asset, purpose),
    FOREIGN KEY (credit_owner, asset, credit_purpose) REFERENCES accounts (owner_id, asset, purpose)
) STRICT;
CREATE INDEX transfers_contract ON transfers (contract_id) WHERE contract_id IS NOT NULL;

-- The append-only journal: two entries per transfer, in commit order (seq).
CREATE TABLE ledger_entries (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    transfer_id   TEXT NOT NULL REFERENCES transfers (id),
    owner_id      TEXT NOT NULL,
    asset         TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    debit         TEXT NOT NULL,
    credit        TEXT NOT NULL,
    balance_after TEXT NOT NULL,
    created_at    TEXT NOT NULL
) STRICT;
CREATE INDEX ledger_entries_owner ON ledger_entries (owner_id, asset, seq DESC);
CREATE INDEX ledger_entries_owner_all ON ledger_entries (owner_id, seq DESC);

CREATE TABLE rigs (
    id                   TEXT PRIMARY KEY,
    owner_id             TEXT NOT NULL,
    name                 TEXT NOT NULL,
    algorithm            TEXT NOT NULL,
    region               TEXT,
    hash_rate_hs         INTEGER NOT NULL CHECK (hash_rate_hs > 0),
    offered_hs           INTEGER NOT NULL DEFAULT 0 CHECK (offered_hs >= 0),
    contracted_hs        INTEGER NOT NULL DEFAULT 0 CHECK (contracted_hs >= 0),
    created_at           TEXT NOT NULL,
    deleted_at           TEXT,
    -- The capacity invariant, enforced by the database as a last line of defence.
    CHECK (offered_hs + contracted_hs <= hash_rate_hs)
) STRICT;
CREATE INDEX rigs_owner ON rigs (owner_id, created_at DESC);

CREATE TABLE orders (
    id              TEXT PRIMARY KEY,
    engine_id       INTEGER NOT NULL,
    user_id         TEXT NOT NULL,
    market          TEXT NOT NULL,
    side            TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
    price           TEXT NOT NULL,
    hash_rate_hs    INTEGER NOT NULL CHECK (hash_rate_hs > 0),
    filled_hs       INTEGER NOT NULL DEFAULT 0 CHECK (filled_hs >= 0 AND filled_hs <= hash_rate_hs),
    status          TEXT NOT NULL,
    time_in_force   TEXT NOT NULL,
    post_only       INTEGER NOT NULL CHECK (post_only IN (0, 1)),
    rig_id          TEXT REFERENCES rigs (id),
    client_order_id TEXT,
    hold_remaining  TEXT NOT NULL DEFAULT '0',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (market, engine_id)
) STRICT;
CREATE INDEX orders_user ON orders (user_id, id DESC);
CREATE INDEX orders_open ON orders (market, engine_id) WHERE status IN ('open', 'partially_filled');

CREATE TABLE contracts (
    id                 TEXT PRIMARY KEY,
    market             TEXT NOT NULL,
    buyer_id           TEXT NOT NULL,
    seller_id          TEXT NOT NULL,
    rig_id             TEXT NOT NULL REFERENCES rigs (id),
    buy_order_id       TEXT NOT NULL REFERENCES orders (id),
    sell_order_id      TEXT NOT NULL REFERENCES orders (id),
    hash_rate_hs       INTEGER NOT NULL CHECK (hash_rate_hs > 0),
    price              TEXT NOT NULL,
    cost               TEXT NOT NULL,
    buyer_fee          TEXT NOT NULL,
    asset              TEXT NOT NULL,
    tenor_days         INTEGER NOT NULL,
    starts_at          TEXT NOT NULL,
    ends_at            TEXT NOT NULL,
    status             TEXT NOT NULL,
    released_to_seller TEXT NOT NULL DEFAULT '0',
    refunded_to_buyer  TEXT NOT NULL DEFAULT '0',
    mining_revenue     TEXT NOT NULL DEFAULT '0',
    created_at         TEXT NOT NULL
) STRICT;
CREATE INDEX contracts_buyer ON contracts (buyer_id, id DESC);
CREATE INDEX contracts_seller ON contracts (seller_id, id DESC);
CREATE INDEX contracts_rig_running ON contracts (rig_id) WHERE status = 'active';

-- Idempotency-Key records: one effect per (principal, key), kept at least 24 h.
CREATE TABLE idempotency_keys (
    principal       TEXT NOT NULL,
    key             TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('in_flight', 'complete')),
    response_status INTEGER,
    response_body   TEXT,
    created_at      TEXT NOT NULL,
    locked_until    TEXT NOT NULL,
    PRIMARY KEY (principal, key)
) STRICT;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
