-- Times are Unix milliseconds. Ids are prefixed strings (acc_, wh_, evt_, dlv_, whs_, hk_*).
CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    mode         TEXT NOT NULL CHECK (mode IN ('test', 'live')),
    secret_hash  BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX api_keys_by_account ON api_keys (account_id);

CREATE TABLE webhooks (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (id),
    mode             TEXT NOT NULL CHECK (mode IN ('test', 'live')),
    product          TEXT NOT NULL,
    url              TEXT NOT NULL,
    events           TEXT NOT NULL,          -- JSON array of names, or ["*"]
    active           INTEGER NOT NULL,
    alert_email      TEXT,
    secret_id        TEXT,                   -- the secret in force now; history in webhook_secrets
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    disabled_at      INTEGER,
    disabled_reason  TEXT,
    failing_since    INTEGER,                -- first failure of the current streak; NULL when healthy
    deleted_at       INTEGER
) STRICT;
CREATE INDEX webhooks_for_matching ON webhooks (account_id, mode, product) WHERE deleted_at IS NULL;

-- Secrets are never updated: rotation inserts a row, and each delivery keeps the id of the one in force
-- when its event was created.
CREATE TABLE webhook_secrets (
    id          TEXT PRIMARY KEY,
    webhook_id  TEXT NOT NULL REFERENCES webhooks (id),
    ciphertext  BLOB NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    mode        TEXT NOT NULL,
    name        TEXT NOT NULL,
    product     TEXT NOT NULL,
    body        BLOB NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX events_by_account ON events (account_id, mode, created_at);

CREATE TABLE deliveries (
    id                TEXT PRIMARY KEY,
    event_id          TEXT NOT NULL REFERENCES events (id),
    webhook_id        TEXT NOT NULL REFERENCES webhooks (id),
    account_id        TEXT NOT NULL,
    mode              TEXT NOT NULL,
    secret_id         TEXT,
    status            TEXT NOT NULL,
    trigger           TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    next_attempt_at   INTEGER,
    deadline_at       INTEGER NOT NULL,       -- no attempt starts later (created_at + window, or a replay's own)
    completed_at      INTEGER,
    last_status_code  INTEGER,
    last_error        TEXT,
    lease_owner       TEXT,
    lease_expires_at  INTEGER,
    lease_token       INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_event ON deliveries (event_id);
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, created_at);
CREATE INDEX deliveries_by_webhook_status ON deliveries (webhook_id, status);

CREATE TABLE attempts (
    delivery_id       TEXT NOT NULL REFERENCES deliveries (id),
    number            INTEGER NOT NULL,
    trigger           TEXT NOT NULL,
    started_at        INTEGER NOT NULL,
    duration_ms       INTEGER NOT NULL,
    status_code       INTEGER,
    error             TEXT,
    response_excerpt  TEXT,
    PRIMARY KEY (delivery_id, number)
) STRICT, WITHOUT ROWID;

-- Append-only: who changed which webhook, how and when. Never holds a secret (rotation is recorded as such).
CREATE TABLE webhook_audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  TEXT NOT NULL,
    mode        TEXT NOT NULL,
    webhook_id  TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    changes     TEXT NOT NULL,
    at          INTEGER NOT NULL
) STRICT;
CREATE INDEX webhook_audit_by_webhook ON webhook_audit (webhook_id, id);
CREATE TRIGGER webhook_audit_no_update BEFORE UPDATE ON webhook_audit BEGIN SELECT RAISE(ABORT, 'webhook_audit is append-only'); END;
CREATE TRIGGER webhook_audit_no_delete BEFORE DELETE ON webhook_audit BEGIN SELECT RAISE(ABORT, 'webhook_audit is append-only'); END;

CREATE TABLE idempotency_keys (
    key           TEXT PRIMARY KEY,
    request_hash  BLOB NOT NULL,
    response      TEXT NOT NULL,
    created_at    INTEGER NOT NULL
) STRICT;
