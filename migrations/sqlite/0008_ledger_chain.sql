-- Tamper evidence (HM-7): every journal entry carries the SHA-256 of the previous
-- entry's hash and its own canonical content — one chain over the whole ledger in
-- commit order. Writers lock the head row, so concurrent sequencers append in turn.
ALTER TABLE ledger_entries ADD COLUMN chain_hash TEXT;

CREATE TABLE ledger_chain (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    last_hash TEXT NOT NULL,
    entries   INTEGER NOT NULL
) STRICT;
INSERT INTO ledger_chain (id, last_hash, entries)
    VALUES (1, '0000000000000000000000000000000000000000000000000000000000000000', 0);
