# The seeding both accrual benchmarks share (sourced by scripts/bench-accrual and
# scripts/bench-accrual-ledger-floor): N running 10 TH/s 1-day contracts on N/10 rigs
# of 1 PH/s (ten per rig, so every rig's delivery is shared pro rata), N/10 buyers
# whose escrow holds their contracts' cost, one delivery report per rig for the
# first hour, one hashprice. Reads $n, $rigs, $t0 and $until; prints SQL.

accrual_seed_postgres_sql() {
    cat <<SQL
INSERT INTO rigs (id, owner_id, name, algorithm, hash_rate_hs, contracted_hs, created_at)
  SELECT md5('rig' || r)::uuid, md5('seller' || r)::uuid, 'rig', 'sha256', 1000000000000000, 100000000000000, '$t0'
  FROM generate_series(0, $rigs - 1) r;
INSERT INTO orders (id, engine_id, user_id, market, side, price, hash_rate_hs, filled_hs, status,
                    time_in_force, post_only, rig_id, hold_remaining, created_at, updated_at)
  VALUES (md5('buy')::uuid, 1, md5('buyer')::uuid, 'sha256-1d', 'buy', 0.0001, 10000000000000, 10000000000000, 'filled', 'gtc', false, NULL, 0, '$t0', '$t0'),
         (md5('sell')::uuid, 2, md5('seller')::uuid, 'sha256-1d', 'sell', 0.0001, 10000000000000, 10000000000000, 'filled', 'gtc', false, md5('rig0')::uuid, 0, '$t0', '$t0');
INSERT INTO contracts (id, market, buyer_id, seller_id, rig_id, buy_order_id, sell_order_id, hash_rate_hs,
                       price, cost, buyer_fee, asset, tenor_days, starts_at, ends_at, status, created_at)
  SELECT md5('contract' || g)::uuid, 'sha256-1d', md5('buyer' || (g / 10))::uuid, md5('seller' || (g % $rigs))::uuid,
         md5('rig' || (g % $rigs))::uuid, md5('buy')::uuid, md5('sell')::uuid, 10000000000000,
         0.0001, 0.001, 0, 'BTC', 1, '$t0', '2026-01-02T00:00:00Z', 'active', '$t0'
  FROM generate_series(0, $n - 1) g;
INSERT INTO accounts (owner_id, asset, purpose, balance)
  SELECT md5('buyer' || b)::uuid, 'BTC', 'contract_escrow', 0.01 FROM generate_series(0, $n / 10 - 1) b;
INSERT INTO accounts (owner_id, asset, purpose, balance)
  VALUES ('00000000-0000-0000-0000-000000000000', 'BTC', 'world', -0.001 * $n);
INSERT INTO deliveries (rig_id, from_at, to_at, hash_rate_hs, created_at)
  SELECT md5('rig' || r)::uuid, '$t0', '$until', 90000000000000, now() FROM generate_series(0, $rigs - 1) r;
INSERT INTO hashprices (algorithm, from_at, to_at, price, created_at)
  VALUES ('sha256', '$t0', '2026-01-03T00:00:00Z', 0.00000068, now());
VACUUM ANALYZE;
SQL
}

# SQLite stores timestamps as fixed-width text, UUIDs as text.
uuid() { echo "printf('%08x-0000-4000-8000-%012x', $1, $2)"; }
ts="2026-01-01T00:00:00.000000Z"

accrual_seed_sqlite_sql() {
    cat <<SQL
PRAGMA journal_mode=WAL;
BEGIN;
WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i + 1 < $rigs)
INSERT INTO rigs (id, owner_id, name, algorithm, hash_rate_hs, offered_hs, contracted_hs, created_at)
  SELECT $(uuid 1 i), $(uuid 2 i), 'rig', 'sha256', 1000000000000000, 0, 100000000000000, '$ts' FROM r;
INSERT INTO orders (id, engine_id, user_id, market, side, price, hash_rate_hs, filled_hs, status,
                    time_in_force, post_only, rig_id, hold_remaining, created_at, updated_at)
  VALUES ($(uuid 5 1), 1, $(uuid 3 0), 'sha256-1d', 'buy', '0.0001', 10000000000000, 10000000000000, 'filled', 'gtc', 0, NULL, '0', '$ts', '$ts'),
         ($(uuid 5 2), 2, $(uuid 2 0), 'sha256-1d', 'sell', '0.0001', 10000000000000, 10000000000000, 'filled', 'gtc', 0, $(uuid 1 0), '0', '$ts', '$ts');
WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < $n)
INSERT INTO contracts (id, market, buyer_id, seller_id, rig_id, buy_order_id, sell_order_id, hash_rate_hs,
                       price, cost, buyer_fee, asset, tenor_days, starts_at, ends_at, status,
                       released_to_seller, refunded_to_buyer, mining_revenue, created_at)
  SELECT $(uuid 4 i), 'sha256-1d', $(uuid 3 "i / 10"), $(uuid 2 "i % $rigs"), $(uuid 1 "i % $rigs"),
         $(uuid 5 1), $(uuid 5 2), 10000000000000, '0.0001', '0.001', '0', 'BTC', 1, '$ts',
         '2026-01-02T00:00:00.000000Z', 'active', '0', '0', '0', '$ts' FROM g;
WITH RECURSIVE b(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM b WHERE i + 1 < $n / 10)
INSERT INTO accounts (owner_id, asset, purpose, balance) SELECT $(uuid 3 i), 'BTC', 'contract_escrow', '0.01' FROM b;
INSERT INTO accounts (owner_id, asset, purpose, balance)
  VALUES ('00000000-0000-0000-0000-000000000000', 'BTC', 'world', '-' || ($n / 1000));
WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i + 1 < $rigs)
INSERT INTO deliveries (rig_id, from_at, to_at, hash_rate_hs, created_at)
  SELECT $(uuid 1 i), '$ts', '2026-01-01T01:00:00.000000Z', 90000000000000, '$ts' FROM r;
INSERT INTO hashprices (algorithm, from_at, to_at, price, created_at)
  VALUES ('sha256', '$ts', '2026-01-03T00:00:00.000000Z', '0.00000068', '$ts');
COMMIT;
ANALYZE;
SQL
}
