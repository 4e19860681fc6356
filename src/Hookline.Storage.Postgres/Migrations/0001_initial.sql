-- The SQLite schema (Hookline.Storage.Sqlite/Migrations/0001_initial.sql) in PostgreSQL types.
-- Times are Unix milliseconds (bigint) in both stores, so every value round-trips identically.
-- Ids are prefixed base62 strings compared bytewise (COLLATE "C"), as SQLite compares them, whatever the
-- database's default collation.
CREATE TABLE accounts (
    id          text COLLATE "C" PRIMARY KEY,
    name        text NOT NULL,
    email       text NOT NULL,
    created_at  bigint NOT NULL
);

CREATE TABLE api_keys (
    id           text COLLATE "C" PRIMARY KEY,
    account_id   text COLLATE "C" NOT NULL REFERENCES accounts (id),
    mode         text NOT NULL CHECK (mode IN ('test', 'live')),
    secret_hash  bytea NOT NULL,
    created_at   bigint NOT NULL,
    revoked_at   bigint
);
CREATE INDEX api_keys_by_account ON api_keys (account_id);

CREATE TABLE webhooks (
    id               text COLLATE "C" PRIMARY KEY,
    account_id       text COLLATE "C" NOT NULL REFERENCES accounts (id),
    mode             text NOT NULL CHECK (mode IN ('test', 'live')),
    product          text NOT NULL,
    url              text NOT NULL,
    events           text NOT NULL,          -- JSON array of names, or ["*"]
    active           boolean NOT NULL,
    alert_email      text,
    secret_id        text COLLATE "C",       -- the secret in force now; history in webhook_secrets
    created_at       bigint NOT NULL,
    updated_at       bigint NOT NULL,
    disabled_at      bigint,
    disabled_reason  text,
    failing_since    bigint,                 -- first failure of the current streak; NULL when healthy
    deleted_at       bigint
);
CREATE INDEX webhooks_for_matching ON webhooks (account_id, mode, product) WHERE deleted_at IS NULL;

-- Secrets are never updated: rotation inserts a row, and each delivery keeps the id of the one in force
-- when its event was created.
CREATE TABLE webhook_secrets (
    id          text COLLATE "C" PRIMARY KEY,
    webhook_id  text COLLATE "C" NOT NULL REFERENCES webhooks (id),
    ciphertext  bytea NOT NULL,
    created_at  bigint NOT NULL
);

CREATE TABLE events (
    id          text COLLATE "C" PRIMARY KEY,
    account_id  text COLLATE "C" NOT NULL REFERENCES accounts (id),
    mode        text NOT NULL,
    name        text NOT NULL,
    product     text NOT NULL,
    body        bytea NOT NULL,
    created_at  bigint NOT NULL
);
CREATE INDEX events_by_account ON events (account_id, mode, created_at);

CREATE TABLE deliveries (
    id                text COLLATE "C" PRIMARY KEY,
    event_id          text COLLATE "C" NOT NULL REFERENCES events (id),
    webhook_id        text COLLATE "C" NOT NULL REFERENCES webhooks (id),
    account_id        text COLLATE "C" NOT NULL,
    mode              text NOT NULL,
    secret_id         text COLLATE "C",
    status            text NOT NULL,
    trigger           text NOT NULL,
    attempts          integer NOT NULL DEFAULT 0,
    created_at        bigint NOT NULL,
    next_attempt_at   bigint,
    deadline_at       bigint NOT NULL,       -- no attempt starts later (created_at + window, or a replay's own)
    completed_at      bigint,
    last_status_code  integer,
    last_error        text,
    lease_owner       text,
    lease_expires_at  bigint,
    lease_token       bigint NOT NULL DEFAULT 0
);
-- The dispatch queue: workers scan this partial index in due order (FOR UPDATE SKIP LOCKED).
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_event ON deliveries (event_id);
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, created_at);
CREATE INDEX deliveries_by_webhook_status ON deliveries (webhook_id, status);

CREATE TABLE attempts (
    delivery_id       text COLLATE "C" NOT NULL REFERENCES deliveries (id),
    number            integer NOT NULL,
    trigger           text NOT NULL,
    started_at        bigint NOT NULL,
    duration_ms       integer NOT NULL,
    status_code       integer,
    error             text,
    response_excerpt  text,
    PRIMARY KEY (delivery_id, number)
);

-- Append-only: who changed which webhook, how and when. Never holds a secret (rotation is recorded as such).
CREATE TABLE webhook_audit (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  text COLLATE "C" NOT NULL,
    mode        text NOT NULL,
    webhook_id  text COLLATE "C" NOT NULL,
    actor       text NOT NULL,
    action      text NOT NULL,
    changes     text NOT NULL,
    at          bigint NOT NULL
);
CREATE INDEX webhook_audit_by_webhook ON webhook_audit (webhook_id, id);

CREATE FUNCTION webhook_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'webhook_audit is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER webhook_audit_no_update_or_delete BEFORE UPDATE OR DELETE ON webhook_audit
    FOR EACH ROW EXECUTE FUNCTION webhook_audit_append_only();
CREATE TRIGGER webhook_audit_no_truncate BEFORE TRUNCATE ON webhook_audit
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_audit_append_only();

-- The primary key is what makes idempotency hold across processes: the first ingestion inserts the key
-- inside its transaction, and a concurrent one with the same key waits on it (ON CONFLICT DO NOTHING),
-- then reads the committed answer.
CREATE TABLE idempotency_keys (
    key           text COLLATE "C" PRIMARY KEY,
    request_hash  bytea NOT NULL,
    response      text NOT NULL,
    created_at    bigint NOT NULL
);
