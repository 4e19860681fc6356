-- Every query that reads deliveries by webhook and status asks for unfinished ones: per-webhook leasing
-- (PostgresStore.LeaseDueAsync's second round) and cancelling a webhook's pending work ask for pending deliveries,
-- a failure streak's notice counts pending and failed ones (FailingDeliveriesSql). So succeeded deliveries, nearly
-- all of them, no longer have an entry here, and a delivery's completion, never a HOT update (status changes), no
-- longer adds one. Building it blocks writes to deliveries for the length of the build (seconds per million rows).
DROP INDEX IF EXISTS deliveries_by_webhook_status;
CREATE INDEX deliveries_unfinished_by_webhook ON deliveries (webhook_id, status, next_attempt_at) WHERE status <> 'succeeded';
