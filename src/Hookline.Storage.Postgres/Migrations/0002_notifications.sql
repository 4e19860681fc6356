-- The notification outbox (as Hookline.Storage.Sqlite/Migrations/0002_notifications.sql): written in the
-- transaction that changes a webhook's failure streak or active flag. streak_key makes "at most one of each
-- kind per webhook per streak" a constraint: the streak's failing_since for streak kinds, the moment of
-- re-enabling for webhook_reenabled.
CREATE TABLE notifications (
    id                text COLLATE "C" PRIMARY KEY,
    account_id        text COLLATE "C" NOT NULL,
    mode              text NOT NULL,
    webhook_id        text COLLATE "C" NOT NULL,
    kind              text NOT NULL,
    streak_key        bigint NOT NULL,
    recipient         text NOT NULL,
    facts             text NOT NULL,
    status            text NOT NULL,
    attempts          integer NOT NULL DEFAULT 0,
    created_at        bigint NOT NULL,
    next_attempt_at   bigint NOT NULL,
    sent_at           bigint,
    last_reply        text,
    lease_owner       text,
    lease_expires_at  bigint,
    lease_token       bigint NOT NULL DEFAULT 0,
    UNIQUE (webhook_id, kind, streak_key)
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'unsent';
CREATE INDEX notifications_by_account ON notifications (account_id, mode, created_at);
