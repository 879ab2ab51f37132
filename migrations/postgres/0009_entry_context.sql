-- HM-7 exports: each journal entry carries its transfer's kind and what it belongs
-- to (order, contract, withdrawal, reference), copied from the transfer when the
-- entry is written. An export then reads one table in journal order by its primary
-- key and streams at once, instead of joining and sorting the whole journal first.
-- `hashmarket verify` checks the copies against the transfers.
ALTER TABLE ledger_entries
    ADD COLUMN kind TEXT,
    ADD COLUMN order_id UUID,
    ADD COLUMN contract_id UUID,
    ADD COLUMN withdrawal_id UUID,
    ADD COLUMN reference TEXT;
UPDATE ledger_entries e
    SET kind = t.kind, order_id = t.order_id, contract_id = t.contract_id,
        withdrawal_id = t.withdrawal_id, reference = t.reference
    FROM transfers t WHERE t.id = e.transfer_id;
ALTER TABLE ledger_entries ALTER COLUMN kind SET NOT NULL;
