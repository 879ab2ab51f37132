-- People: accounts with argon2id password hashes and a role.
CREATE TABLE users (
    id                UUID PRIMARY KEY,
    email             TEXT NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254),
    password_hash     TEXT NOT NULL,
    role              TEXT NOT NULL CHECK (role IN ('user', 'operator', 'finance')),
    email_verified_at TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL
);
