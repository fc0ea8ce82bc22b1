-- The match date where a person reads it (AFC_DISPLAY_TZ), next to the UTC one: an evening kickoff in
-- São Paulo is the next day in UTC. local_tz names the zone local_date is in, so a row derived under
-- another setting is visible (and re-derived when its fixture changes, or by `afc rebuild`).
-- Existing rows were derived in UTC.
ALTER TABLE mart_daily_fixtures ADD COLUMN local_date text;
ALTER TABLE mart_daily_fixtures ADD COLUMN local_tz text;
UPDATE mart_daily_fixtures SET local_date = match_date, local_tz = 'UTC';
CREATE INDEX mart_daily_fixtures_local_date_idx ON mart_daily_fixtures (local_date, kickoff_at);
