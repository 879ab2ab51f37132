-- Payouts (HM-6): hashprices, rigs' delivery reports, and one row per accrued
-- (contract, period) — its primary key is what makes accrual happen exactly once.

-- Revenue per display unit of hash rate per day, in the algorithm's coin.
CREATE TABLE hashprices (
    algorithm  TEXT NOT NULL,
    from_at    TEXT NOT NULL,
    to_at      TEXT NOT NULL,
    price      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (algorithm, from_at),
    CHECK (to_at > from_at)
) STRICT;

-- What the pool measured a rig delivering, on average over an interval.
CREATE TABLE deliveries (
    rig_id       TEXT NOT NULL,
    from_at      TEXT NOT NULL,
    to_at        TEXT NOT NULL,
    hash_rate_hs INTEGER NOT NULL CHECK (hash_rate_hs >= 0),
    created_at   TEXT NOT NULL,
    PRIMARY KEY (rig_id, from_at),
    CHECK (to_at > from_at)
) STRICT;

CREATE TABLE accruals (
    contract_id  TEXT NOT NULL REFERENCES contracts (id),
    period_start TEXT NOT NULL,
    period_end   TEXT NOT NULL,
    delivered_hs INTEGER NOT NULL,
    released     TEXT NOT NULL,
    seller_fee   TEXT NOT NULL,
    revenue      TEXT NOT NULL,
    maintenance  TEXT NOT NULL,
    refunded     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (contract_id, period_start)
) STRICT;

-- How far each contract has been accrued (NULL: not yet; its start).
ALTER TABLE contracts ADD COLUMN accrued_until TEXT;
CREATE INDEX contracts_accrual ON contracts (status, id);
CREATE INDEX contracts_rig ON contracts (rig_id, starts_at);
