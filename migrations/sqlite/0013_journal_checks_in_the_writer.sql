-- The journal's integrity is checked by the code that writes it, not by foreign
-- keys (HM-5, HM-6 performance) — as on PostgreSQL (its migration 0013 says why
-- that loses nothing): entries are written with the transfers of their batch, every
-- account is locked before money moves on it, the balance update must find one row
-- per account, and `hashmarket verify` checks both over the whole database.
-- SQLite cannot drop a constraint, so both tables are rebuilt as they were, less
-- their foreign keys; columns, rows, seq numbers and indexes are kept. Nothing else
-- references either table.
CREATE TABLE ledger_entries_new (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    transfer_id   TEXT NOT NULL,
    owner_id      TEXT NOT NULL,
    asset         TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    debit         TEXT NOT NULL,
    credit        TEXT NOT NULL,
    balance_after TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    chain_hash    TEXT,
    kind          TEXT NOT NULL DEFAULT '',
    order_id      TEXT,
    contract_id   TEXT,
    withdrawal_id TEXT,
    reference     TEXT
) STRICT;
INSERT INTO ledger_entries_new (seq, transfer_id, owner_id, asset, purpose, debit, credit,
        balance_after, created_at, chain_hash, kind, order_id, contract_id, withdrawal_id, reference)
    SELECT seq, transfer_id, owner_id, asset, purpose, debit, credit,
        balance_after, created_at, chain_hash, kind, order_id, contract_id, withdrawal_id, reference
    FROM ledger_entries ORDER BY seq;
DROP TABLE ledger_entries;
ALTER TABLE ledger_entries_new RENAME TO ledger_entries;
-- Every query of an owner's entries reads them in journal order; (owner_id, seq
-- DESC) serves them with or without an asset, so the (owner_id, asset, seq) index
-- is not rebuilt: one index fewer per entry written.
CREATE INDEX ledger_entries_owner_all ON ledger_entries (owner_id, seq DESC);

CREATE TABLE transfers_new (
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
    created_at     TEXT NOT NULL
) STRICT;
INSERT INTO transfers_new SELECT id, kind, asset, amount, debit_owner, debit_purpose,
        credit_owner, credit_purpose, order_id, contract_id, withdrawal_id, reference, created_at
    FROM transfers;
DROP TABLE transfers;
ALTER TABLE transfers_new RENAME TO transfers;
CREATE INDEX transfers_contract ON transfers (contract_id) WHERE contract_id IS NOT NULL;
CREATE INDEX transfers_withdrawal ON transfers (withdrawal_id) WHERE withdrawal_id IS NOT NULL;
