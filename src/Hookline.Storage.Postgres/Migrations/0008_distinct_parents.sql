-- The statement checks of migration 0007 look each parent up once per statement, not once per new row
-- (docs/postgres.md, "References").
--
-- A statement of a thousand delivery rows for one webhook probed that webhook a thousand times, and a group of a thousand
-- events for one account probed the account a thousand times. In a PostgreSQL S1 the two triggers were a tenth of the
-- server's CPU (docs/benchmarks.md). Now the distinct parent ids of the statement's rows are probed, each once; the
-- rows' own ids are looked at again only when a parent is missing, to name a row that names it.

CREATE OR REPLACE FUNCTION deliveries_parents_exist() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing text;
    kind text := 'event';
    delivery text;
BEGIN
    SELECT p.id INTO missing
    FROM (SELECT DISTINCT event_id AS id FROM inserted) p
    WHERE (SELECT true FROM events e WHERE e.id = p.id) IS NULL
    LIMIT 1;
    IF NOT FOUND THEN
        kind := 'webhook';
        SELECT p.id INTO missing
        FROM (SELECT DISTINCT webhook_id AS id FROM inserted) p
        WHERE (SELECT true FROM webhooks w WHERE w.id = p.id) IS NULL
        LIMIT 1;
    END IF;
    IF FOUND THEN
        SELECT n.id INTO delivery FROM inserted n
        WHERE CASE kind WHEN 'event' THEN n.event_id ELSE n.webhook_id END = missing
        ORDER BY n.id
        LIMIT 1;
        RAISE EXCEPTION 'delivery % names % %, which does not exist', delivery, kind, missing
            USING ERRCODE = 'foreign_key_violation', TABLE = 'deliveries';
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION events_account_exists() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing text;
    event text;
BEGIN
    SELECT p.id INTO missing
    FROM (SELECT DISTINCT account_id AS id FROM inserted) p
    WHERE (SELECT true FROM accounts a WHERE a.id = p.id) IS NULL
    LIMIT 1;
    IF FOUND THEN
        SELECT n.id INTO event FROM inserted n WHERE n.account_id = missing ORDER BY n.id LIMIT 1;
        RAISE EXCEPTION 'event % names account %, which does not exist', event, missing
            USING ERRCODE = 'foreign_key_violation', TABLE = 'events';
    END IF;
    RETURN NULL;
END
$$;
