-- Foundation: operator-editable settings (business clock, generated keys, ...).
-- The schema version itself lives in sqlx's _sqlx_migrations table.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 128),
    value      TEXT NOT NULL CHECK (length(value) <= 65536),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
