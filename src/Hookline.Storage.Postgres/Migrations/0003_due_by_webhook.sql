-- Leasing looks up each webhook's oldest due deliveries when the bounded due scan came back full
-- (PostgresStore.LeaseDueAsync): with next_attempt_at in this index that is a seek, not a walk of the backlog.
-- It replaces (webhook_id, status), which it still serves, so writes keep the same number of indexes.
-- Building it blocks writes to deliveries for the length of the build (seconds per million rows).
DROP INDEX IF EXISTS deliveries_by_webhook_status;
CREATE INDEX deliveries_by_webhook_status ON deliveries (webhook_id, status, next_attempt_at);
