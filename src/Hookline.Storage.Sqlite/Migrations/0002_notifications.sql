-- The notification outbox: written in the transaction that changes a webhook's failure streak or active flag.
-- streak_key makes "at most one of each kind per webhook per streak" a constraint: it is the streak's
-- failing_since for streak kinds, and the moment of re-enabling for webhook_reenabled.
CREATE TABLE notifications (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL,
    mode              TEXT NOT NULL,
    webhook_id        TEXT NOT NULL,
    kind              TEXT NOT NULL,
    streak_key        INTEGER NOT NULL,
    recipient         TEXT NOT NULL,
    facts             TEXT NOT NULL,
    status            TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    next_attempt_at   INTEGER NOT NULL,
    sent_at           INTEGER,
    last_reply        TEXT,
    lease_owner       TEXT,
    lease_expires_at  INTEGER,
    lease_token       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (webhook_id, kind, streak_key)
) STRICT;
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'unsent';
CREATE INDEX notifications_by_account ON notifications (account_id, mode, created_at);
