-- The large JSON columns compressed with lz4 instead of pglz, where the server is built with it:
-- writing a response's body (and a fixture's detail parts) costs about half the time, and takes less room
-- (pglz gives up on much of these bodies). Existing values stay as they are; only new ones use lz4.
-- A partitioned table's setting is inherited by partitions created later, not by those already there.
DO $$
DECLARE
    part regclass;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        RETURN;  -- a server built without lz4: pglz stays
    END IF;
    ALTER TABLE raw.responses ALTER COLUMN body SET COMPRESSION lz4, ALTER COLUMN body_text SET COMPRESSION lz4;
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'raw.responses'::regclass LOOP
        EXECUTE format('ALTER TABLE %s ALTER COLUMN body SET COMPRESSION lz4, ALTER COLUMN body_text SET COMPRESSION lz4',
                       part);
    END LOOP;
    ALTER TABLE core.fixture_details ALTER COLUMN events SET COMPRESSION lz4, ALTER COLUMN lineups SET COMPRESSION lz4,
        ALTER COLUMN statistics SET COMPRESSION lz4, ALTER COLUMN players SET COMPRESSION lz4;
END $$;
