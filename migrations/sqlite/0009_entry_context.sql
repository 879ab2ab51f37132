-- HM-7 exports: each journal entry carries its transfer's kind and what it belongs
-- to (order, contract, withdrawal, reference), copied from the transfer when the
-- entry is written, so an export reads one table in journal order.
-- `hashmarket verify` checks the copies against the transfers.
ALTER TABLE ledger_entries ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE ledger_entries ADD COLUMN order_id TEXT;
ALTER TABLE ledger_entries ADD COLUMN contract_id TEXT;
ALTER TABLE ledger_entries ADD COLUMN withdrawal_id TEXT;
ALTER TABLE ledger_entries ADD COLUMN reference TEXT;
UPDATE ledger_entries
    SET kind = t.kind, order_id = t.order_id, contract_id = t.contract_id,
        withdrawal_id = t.withdrawal_id, reference = t.reference
    FROM transfers t WHERE t.id = ledger_entries.transfer_id;
