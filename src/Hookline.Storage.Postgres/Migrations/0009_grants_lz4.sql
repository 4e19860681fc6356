-- A delivery group's arrays are compressed with lz4 instead of pglz, where the server was built with lz4.
--
-- A group's row (delivery_grants, migration 0005) holds nine arrays of its deliveries, tens of kilobytes for a few
-- hundred, so it is always compressed and stored out of line; it is written once and deleted seconds later, once its
-- deliveries have their rows. In a PostgreSQL S1, pglz compressing those arrays took 1.5 % of the server's CPU
-- (docs/benchmarks.md). lz4 compresses several times faster for a similar size. A server built without lz4 keeps pglz.

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE delivery_grants
            ALTER COLUMN delivery_ids SET COMPRESSION lz4,
            ALTER COLUMN event_ids SET COMPRESSION lz4,
            ALTER COLUMN webhook_ids SET COMPRESSION lz4,
            ALTER COLUMN account_ids SET COMPRESSION lz4,
            ALTER COLUMN modes SET COMPRESSION lz4,
            ALTER COLUMN secret_ids SET COMPRESSION lz4,
            ALTER COLUMN triggers SET COMPRESSION lz4,
            ALTER COLUMN created_ats SET COMPRESSION lz4,
            ALTER COLUMN deadlines SET COMPRESSION lz4;
    END IF;
END
$$;
