-- The first attempt of a deferred delivery (0005) is kept in the row its result writes, not as a row of attempts: that
-- row is inserted by the first result anyway, so the attempt costs a few columns of it instead of a heap tuple, a
-- primary-key entry and a foreign-key check of its own. Every other attempt (a retry, a replay, the first attempt of a
-- delivery that had its row already) is a row of attempts, as before. The columns are set once, by that insert, and
-- never changed; first_attempt_started_at is NULL when the row holds no attempt.
ALTER TABLE deliveries
    ADD COLUMN first_attempt_trigger      text,
    ADD COLUMN first_attempt_started_at   bigint,
    ADD COLUMN first_attempt_duration_ms  integer,
    ADD COLUMN first_attempt_status_code  integer,
    ADD COLUMN first_attempt_error        text,
    ADD COLUMN first_attempt_response_excerpt text;

-- Every attempt, wherever it is kept: what reads look at.
CREATE VIEW all_attempts AS
SELECT delivery_id, number, trigger, started_at, duration_ms, status_code, error, response_excerpt
FROM attempts
UNION ALL
SELECT id, 1, first_attempt_trigger, first_attempt_started_at, first_attempt_duration_ms, first_attempt_status_code,
       first_attempt_error, first_attempt_response_excerpt
FROM deliveries
WHERE first_attempt_started_at IS NOT NULL;
