-- Coverage looks up the latest whole-season call of an endpoint for one league season (a call naming only the
-- league, the season, the time zone or a page). This partial index holds just those calls that succeeded, so a
-- lookup no longer walks every daily `date=` call of the season.
-- afc/marts/coverage/raw.py repeats the WHERE clause word for word: the planner proves the index usable from it.
CREATE INDEX responses_season_call_idx
    ON raw.responses (endpoint, (params->>'league'), (params->>'season'), fetched_at)
    WHERE status = 200 AND errors IS NULL AND (params - '{league,season,timezone,page}'::text[]) = '{}'::jsonb;
-- Nothing else read the index of every call by league and season: one index fewer to write per response.
DROP INDEX raw.responses_league_season_idx;
