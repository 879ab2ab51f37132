-- Accrual writes one row per (contract, period) and nothing else per contract
-- (HM-6): each row carries the contract's running totals through its period, and
-- an active contract's progress and totals are read from its latest row. The
-- contract row itself is written again only when it completes. NULL: a row
-- accrued before, whose contract row was updated with it (and so holds its totals).
ALTER TABLE accruals ADD COLUMN released_total TEXT;
ALTER TABLE accruals ADD COLUMN revenue_total TEXT;
