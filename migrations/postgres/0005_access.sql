-- Identity and access (HM-4): sessions with rotating refresh tokens, one-time
-- email tokens, API keys with sealed secrets, signed-request nonces, TOTP,
-- the security audit trail and the transactional email outbox.

-- A login: access tokens name it (`sid`), refresh tokens belong to it. Revoking
-- it (logout, refresh-token reuse) ends every token of the family at once.
CREATE TABLE sessions (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Opaque refresh tokens, stored as the hex SHA-256 of the token.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY CHECK (length(token_hash) = 64),
    session_id UUID NOT NULL REFERENCES sessions (id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- One-time tokens sent by email, stored hashed.
CREATE TABLE email_tokens (
    token_hash TEXT PRIMARY KEY CHECK (length(token_hash) = 64),
    user_id    UUID NOT NULL REFERENCES users (id),
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify_email')),
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);

-- API keys. The secret is sealed (AES-256-GCM under the master key, see
-- docs/security.md); `key` is the public identifier sent as HM-Key.
CREATE TABLE api_keys (
    id            UUID PRIMARY KEY,
    user_id       UUID NOT NULL REFERENCES users (id),
    label         TEXT NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
    key           TEXT NOT NULL UNIQUE,
    sealed_secret TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ,
    last_used_at  TIMESTAMPTZ,
    replaced_by   UUID
);
CREATE INDEX api_keys_user ON api_keys (user_id, created_at);

-- Nonces seen per key, kept until the signature window has passed.
CREATE TABLE api_nonces (
    key_id     UUID NOT NULL,
    nonce      TEXT NOT NULL CHECK (length(nonce) BETWEEN 1 AND 64),
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (key_id, nonce)
);
CREATE INDEX api_nonces_expiry ON api_nonces (expires_at);

-- TOTP second factor: the sealed secret, whether confirmed, and the last time
-- step accepted (a code is never accepted twice).
CREATE TABLE totp_secrets (
    user_id       UUID PRIMARY KEY REFERENCES users (id),
    sealed_secret TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    confirmed_at  TIMESTAMPTZ,
    last_step     BIGINT NOT NULL DEFAULT 0
);

-- Security events, readable by the user they concern.
CREATE TABLE audit_events (
    id         UUID PRIMARY KEY,
    user_id    UUID,
    kind       TEXT NOT NULL,
    ip         TEXT,
    detail     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_events_user ON audit_events (user_id, id);

-- Emails to send, written in the same transaction as the event that causes them.
CREATE TABLE outbox_emails (
    id              UUID PRIMARY KEY,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    last_error      TEXT
);
CREATE INDEX outbox_emails_due ON outbox_emails (status, next_attempt_at);
