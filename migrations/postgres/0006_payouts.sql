-- Payouts (HM-6): hashprices, rigs' delivery reports, and one row per accrued
-- (contract, period) — its primary key is what makes accrual happen exactly once.

-- Revenue per display unit of hash rate per day, in the algorithm's coin.
CREATE TABLE hashprices (
    algorithm  TEXT NOT NULL,
    from_at    TIMESTAMPTZ NOT NULL,
    to_at      TIMESTAMPTZ NOT NULL,
    price      NUMERIC NOT NULL CHECK (price >= 0),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (algorithm, from_at),
    CHECK (to_at > from_at)
);

-- What the pool measured a rig delivering, on average over an interval.
CREATE TABLE deliveries (
    rig_id       UUID NOT NULL,
    from_at      TIMESTAMPTZ NOT NULL,
    to_at        TIMESTAMPTZ NOT NULL,
    hash_rate_hs BIGINT NOT NULL CHECK (hash_rate_hs >= 0),
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (rig_id, from_at),
    CHECK (to_at > from_at)
);

CREATE TABLE accruals (
    contract_id  UUID NOT NULL REFERENCES contracts (id),
    period_start TIMESTAMPTZ NOT NULL,
    period_end   TIMESTAMPTZ NOT NULL,
    delivered_hs BIGINT NOT NULL,
    released     NUMERIC NOT NULL,
    seller_fee   NUMERIC NOT NULL,
    revenue      NUMERIC NOT NULL,
    maintenance  NUMERIC NOT NULL,
    refunded     NUMERIC NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (contract_id, period_start)
);

-- How far each contract has been accrued (NULL: not yet; its start).
ALTER TABLE contracts ADD COLUMN accrued_until TIMESTAMPTZ;
CREATE INDEX contracts_accrual ON contracts (status, id);
CREATE INDEX contracts_rig ON contracts (rig_id, starts_at);
