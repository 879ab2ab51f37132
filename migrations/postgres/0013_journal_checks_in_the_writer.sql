-- The journal's integrity is checked by the statement that writes it, not by
-- foreign-key triggers (HM-5, HM-6 performance).
--
-- Each foreign key fired a trigger per row: three per transfer, one lookup each —
-- ~40% of writing a batch's journal, measured. What they guaranteed holds by
-- construction, and the writer checks it:
-- * an entry's transfer exists: entries are inserted from a join with the
--   transfers the same statement inserts, and the number joined must equal the
--   number given (else the statement's transaction fails);
-- * a transfer's accounts exist: every account a batch moves money on is locked
--   (read FOR UPDATE, created if missing) before the move, and the balances it
--   leaves are written by key in the same statement, which must update exactly one
--   row per account.
-- `hashmarket verify` checks both over the whole database (an entry without its
-- transfer; journal entries of an account that does not exist).
ALTER TABLE transfers DROP CONSTRAINT transfers_debit_owner_asset_debit_purpose_fkey;
ALTER TABLE transfers DROP CONSTRAINT transfers_credit_owner_asset_credit_purpose_fkey;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_transfer_id_fkey;

-- Every query of an owner's entries — with or without an asset — reads them in
-- journal order (seq), which (owner_id, seq DESC) serves; a user holds a handful
-- of assets, so the asset is a cheap filter. One index fewer per entry written.
DROP INDEX ledger_entries_owner;
