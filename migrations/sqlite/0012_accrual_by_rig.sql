-- Accrual reads due contracts rig by rig (HM-6): a chunk then holds whole rigs, so
-- the rigs' delivery reports and sharing contracts it must read are about one row
-- per contract in it, not one per contract on each of its rigs.
DROP INDEX contracts_accrual;
CREATE INDEX contracts_accrual ON contracts (status, rig_id, id);
