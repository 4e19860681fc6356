-- Leasing looks up each webhook's oldest due deliveries when one webhook's backlog fills the global scan
-- (SqliteStore.LeaseDueAsync): with next_attempt_at in this index that is a seek, not a walk of the backlog.
-- It replaces (webhook_id, status), which it still serves, so writes keep the same number of indexes.
DROP INDEX deliveries_by_webhook_status;
CREATE INDEX deliveries_by_webhook_status ON deliveries (webhook_id, status, next_attempt_at);
