-- A delivery's event and webhook, and an event's account, checked once per statement instead of once per row
-- (docs/postgres.md, "References").
--
-- A foreign key checks each inserted row on its own: a query per row that finds the parent and locks it FOR KEY SHARE,
-- which writes the lock into the parent's tuple (the page dirtied, a WAL record). A deferred delivery's row (most rows:
-- docs/postgres.md, "Deferred rows") is inserted after its event's transaction committed, so each row's check locked a
-- different event row: in a PostgreSQL S1 the two keys were more than half of the statement time of inserting a
-- delivery row (docs/benchmarks.md).
--
-- The lock is there to stop the parent from going away before the child commits. Events, webhooks and accounts never
-- go away: nothing deletes an event or an account, a deleted webhook keeps its row (deleted_at), and no row's id
-- changes. The triggers below make that a rule of the schema rather than a habit of the code, and with it an existence
-- check that locks nothing is as strong as the key: what it found stays. The check is one set-based statement per
-- INSERT, an index probe per new row, and refuses the whole statement with the foreign keys' SQLSTATE when a row names
-- a missing parent.

ALTER TABLE deliveries
    DROP CONSTRAINT deliveries_event_id_fkey,
    DROP CONSTRAINT deliveries_webhook_id_fkey;
ALTER TABLE events
    DROP CONSTRAINT events_account_id_fkey;

-- "Missing" as a scalar subquery, one primary-key probe per new row: as NOT EXISTS the planner may turn it into an
-- anti-join and hash every row of the parent table for a handful of new rows.
CREATE FUNCTION deliveries_parents_exist() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    orphan record;
BEGIN
    SELECT n.id, n.event_id, n.webhook_id,
           (SELECT true FROM events e WHERE e.id = n.event_id) IS NULL AS no_event
    INTO orphan
    FROM inserted n
    WHERE (SELECT true FROM events e WHERE e.id = n.event_id) IS NULL
       OR (SELECT true FROM webhooks w WHERE w.id = n.webhook_id) IS NULL
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'delivery % names % %, which does not exist', orphan.id,
            CASE WHEN orphan.no_event THEN 'event' ELSE 'webhook' END,
            CASE WHEN orphan.no_event THEN orphan.event_id ELSE orphan.webhook_id END
            USING ERRCODE = 'foreign_key_violation', TABLE = 'deliveries';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER deliveries_parents_exist AFTER INSERT ON deliveries
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_parents_exist();

CREATE FUNCTION events_account_exists() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    orphan record;
BEGIN
    SELECT n.id, n.account_id INTO orphan
    FROM inserted n
    WHERE (SELECT true FROM accounts a WHERE a.id = n.account_id) IS NULL
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'event % names account %, which does not exist', orphan.id, orphan.account_id
            USING ERRCODE = 'foreign_key_violation', TABLE = 'events';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_account_exists AFTER INSERT ON events
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION events_account_exists();

-- A delivery keeps its event and its webhook. (UPDATE OF: fires only for statements that set those columns, which
-- none of the store's do, so the results UPDATE pays nothing for it.)
CREATE FUNCTION refuse_reference_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%.% never changes', TG_TABLE_NAME, TG_ARGV[0] USING ERRCODE = 'foreign_key_violation';
END
$$;
CREATE TRIGGER deliveries_keep_parents BEFORE UPDATE OF event_id, webhook_id ON deliveries
    FOR EACH ROW WHEN (OLD.event_id IS DISTINCT FROM NEW.event_id OR OLD.webhook_id IS DISTINCT FROM NEW.webhook_id)
    EXECUTE FUNCTION refuse_reference_change('event_id or webhook_id');
CREATE TRIGGER events_keep_account BEFORE UPDATE OF account_id ON events
    FOR EACH ROW WHEN (OLD.account_id IS DISTINCT FROM NEW.account_id) EXECUTE FUNCTION refuse_reference_change('account_id');

-- Events, webhooks and accounts are never deleted, truncated or renumbered.
CREATE FUNCTION refuse_parent_removal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are never deleted (other rows refer to them)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER events_never_deleted BEFORE DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION refuse_parent_removal();
CREATE TRIGGER events_never_truncated BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_parent_removal();
CREATE TRIGGER events_keep_id BEFORE UPDATE OF id ON events
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_reference_change('id');
CREATE TRIGGER webhooks_never_deleted BEFORE DELETE ON webhooks
    FOR EACH ROW EXECUTE FUNCTION refuse_parent_removal();
CREATE TRIGGER webhooks_never_truncated BEFORE TRUNCATE ON webhooks
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_parent_removal();
CREATE TRIGGER webhooks_keep_id BEFORE UPDATE OF id ON webhooks
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_reference_change('id');
CREATE TRIGGER accounts_never_deleted BEFORE DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION refuse_parent_removal();
CREATE TRIGGER accounts_never_truncated BEFORE TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_parent_removal();
CREATE TRIGGER accounts_keep_id BEFORE UPDATE OF id ON accounts
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_reference_change('id');
