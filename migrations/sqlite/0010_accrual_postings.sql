-- Accrual posts summed transfers (HM-6): one per (kind, account pair) per accrual
-- transaction, under a reference, instead of one per contract-period. Each accrual
-- row names the postings it is part of, so its per-contract split reconciles with
-- them (`hashmarket verify`). NULL: accrued before, when transfers named contracts.
ALTER TABLE accruals ADD COLUMN posting TEXT;
