-- Deferred rows (docs/postgres.md). The deliveries an ingestion group hands to its own worker (leased to it at once)
-- are written as one row here per group, column arrays, instead of a deliveries row each. Each entry stands for the
-- row ingestion used to write: pending, due at its event's creation, leased to lease_owner until lease_expires_at with
-- token 1. The worker then writes the delivery's row once, in its state after the first attempt, where a completion
-- used to insert it and update it. Whatever needs the row before that writes it first, exactly as it stands here
-- (materialising): cancelling a webhook's pending work, a replay, and any worker once the lease has expired, so that
-- a worker that died leaves nothing behind. Reads see the entries through all_deliveries. A group's row is deleted
-- with the last of its entries' rows; entries are never removed from it.
CREATE TABLE delivery_grants (
    id                text COLLATE "C" PRIMARY KEY,  -- the group's first delivery id
    lease_owner       text NOT NULL,
    lease_expires_at  bigint NOT NULL,
    delivery_ids      text[] COLLATE "C" NOT NULL,
    event_ids         text[] COLLATE "C" NOT NULL,
    webhook_ids       text[] COLLATE "C" NOT NULL,
    account_ids       text[] COLLATE "C" NOT NULL,
    modes             text[] NOT NULL,
    secret_ids        text[] COLLATE "C" NOT NULL,
    triggers          text[] NOT NULL,
    created_ats       bigint[] NOT NULL,
    deadlines         bigint[] NOT NULL
);
CREATE INDEX delivery_grants_expiry ON delivery_grants (lease_expires_at);

-- The entries whose deliveries row does not exist yet, each as that row would read, with the group it belongs to.
-- "Not written yet" is a scalar subquery, one primary-key probe per entry: written as NOT EXISTS it became an anti-join,
-- which the planner may run as a hash of every row of deliveries, whatever the handful of entries asked about.
CREATE VIEW granted_deliveries AS
SELECT g.id AS grant_id,
       r.id, r.event_id, r.webhook_id, r.account_id, r.mode, r.secret_id, 'pending'::text AS status, r.trigger,
       0 AS attempts, r.created_at, r.created_at AS next_attempt_at, r.deadline AS deadline_at, NULL::bigint AS completed_at,
       NULL::integer AS last_status_code, NULL::text AS last_error, g.lease_owner, g.lease_expires_at, 1::bigint AS lease_token
FROM delivery_grants g
CROSS JOIN LATERAL unnest(g.delivery_ids, g.event_ids, g.webhook_ids, g.account_ids, g.modes, g.secret_ids, g.triggers,
                          g.created_ats, g.deadlines)
     AS r(id, event_id, webhook_id, account_id, mode, secret_id, trigger, created_at, deadline)
WHERE (SELECT true FROM deliveries d WHERE d.id = r.id) IS NULL;

-- Every delivery, written or deferred: what reads (the API, counts) look at.
CREATE VIEW all_deliveries AS
SELECT id, event_id, webhook_id, account_id, mode, secret_id, status, trigger, attempts, created_at, next_attempt_at,
       deadline_at, completed_at, last_status_code, last_error, lease_owner, lease_expires_at, lease_token
FROM deliveries
UNION ALL
SELECT id, event_id, webhook_id, account_id, mode, secret_id, status, trigger, attempts, created_at, next_attempt_at,
       deadline_at, completed_at, last_status_code, last_error, lease_owner, lease_expires_at, lease_token
FROM granted_deliveries;
