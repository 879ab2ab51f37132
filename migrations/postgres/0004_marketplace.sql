-- The marketplace: double-entry ledger, rigs, orders, contracts, idempotency records.
-- Hash rates are integer H/s in BIGINT (bound: 9.2 EH/s per rig, order or contract).
-- Amounts are NUMERIC; the ledger core (crates/ledger) decides every balance.

-- One row per (owner, asset, purpose); the operator's owner_id is the nil UUID.
CREATE TABLE accounts (
    owner_id   UUID NOT NULL,
    asset      TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    balance    NUMERIC NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_id, asset, purpose)
);

-- Every movement of money: debit one account, credit another, same asset.
CREATE TABLE transfers (
    id             UUID PRIMARY KEY,
    kind           TEXT NOT NULL,
    asset          TEXT NOT NULL,
    amount         NUMERIC NOT NULL CHECK (amount > 0),
    debit_owner    UUID NOT NULL,
    debit_purpose  TEXT NOT NULL,
    credit_owner   UUID NOT NULL,
    credit_purpose TEXT NOT NULL,
    order_id       UUID,
    contract_id    UUID,
    withdrawal_id  UUID,
    reference      TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (debit_owner, asset, debit_purpose) REFERENCES accounts (owner_id, asset, purpose),
    FOREIGN KEY (credit_owner, asset, credit_purpose) REFERENCES accounts (owner_id, asset, purpose)
);
CREATE INDEX transfers_contract ON transfers (contract_id) WHERE contract_id IS NOT NULL;

-- The append-only journal: two entries per transfer, in commit order (seq).
CREATE TABLE ledger_entries (
    seq           BIGSERIAL PRIMARY KEY,
    transfer_id   UUID NOT NULL REFERENCES transfers (id),
    owner_id      UUID NOT NULL,
    asset         TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    debit         NUMERIC NOT NULL CHECK (debit >= 0),
    credit        NUMERIC NOT NULL CHECK (credit >= 0),
    balance_after NUMERIC NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX ledger_entries_owner ON ledger_entries (owner_id, asset, seq DESC);
CREATE INDEX ledger_entries_owner_all ON ledger_entries (owner_id, seq DESC);

CREATE TABLE rigs (
    id                   UUID PRIMARY KEY,
    owner_id             UUID NOT NULL,
    name                 TEXT NOT NULL,
    algorithm            TEXT NOT NULL,
    region               TEXT,
    hash_rate_hs         BIGINT NOT NULL CHECK (hash_rate_hs > 0),
    offered_hs           BIGINT NOT NULL DEFAULT 0 CHECK (offered_hs >= 0),
    contracted_hs        BIGINT NOT NULL DEFAULT 0 CHECK (contracted_hs >= 0),
    created_at           TIMESTAMPTZ NOT NULL,
    deleted_at           TIMESTAMPTZ,
    -- The capacity invariant, enforced by the database as a last line of defence.
    CHECK (offered_hs + contracted_hs <= hash_rate_hs)
);
CREATE INDEX rigs_owner ON rigs (owner_id, created_at DESC);

CREATE TABLE orders (
    id              UUID PRIMARY KEY,
    engine_id       BIGINT NOT NULL,
    user_id         UUID NOT NULL,
    market          TEXT NOT NULL,
    side            TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
    price           NUMERIC NOT NULL CHECK (price > 0),
    hash_rate_hs    BIGINT NOT NULL CHECK (hash_rate_hs > 0),
    filled_hs       BIGINT NOT NULL DEFAULT 0 CHECK (filled_hs >= 0 AND filled_hs <= hash_rate_hs),
    status          TEXT NOT NULL,
    time_in_force   TEXT NOT NULL,
    post_only       BOOLEAN NOT NULL,
    rig_id          UUID REFERENCES rigs (id),
    client_order_id TEXT,
    hold_remaining  NUMERIC NOT NULL DEFAULT 0 CHECK (hold_remaining >= 0),
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (market, engine_id)
);
CREATE INDEX orders_user ON orders (user_id, id DESC);
CREATE INDEX orders_open ON orders (market, engine_id) WHERE status IN ('open', 'partially_filled');

CREATE TABLE contracts (
    id                 UUID PRIMARY KEY,
    market             TEXT NOT NULL,
    buyer_id           UUID NOT NULL,
    seller_id          UUID NOT NULL,
    rig_id             UUID NOT NULL REFERENCES rigs (id),
    buy_order_id       UUID NOT NULL REFERENCES orders (id),
    sell_order_id      UUID NOT NULL REFERENCES orders (id),
    hash_rate_hs       BIGINT NOT NULL CHECK (hash_rate_hs > 0),
    price              NUMERIC NOT NULL,
    cost               NUMERIC NOT NULL CHECK (cost >= 0),
    buyer_fee          NUMERIC NOT NULL CHECK (buyer_fee >= 0),
    asset              TEXT NOT NULL,
    tenor_days         INTEGER NOT NULL,
    starts_at          TIMESTAMPTZ NOT NULL,
    ends_at            TIMESTAMPTZ NOT NULL,
    status             TEXT NOT NULL,
    released_to_seller NUMERIC NOT NULL DEFAULT 0,
    refunded_to_buyer  NUMERIC NOT NULL DEFAULT 0,
    mining_revenue     NUMERIC NOT NULL DEFAULT 0,
    created_at         TIMESTAMPTZ NOT NULL
);
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
    created_at      TIMESTAMPTZ NOT NULL,
    locked_until    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
