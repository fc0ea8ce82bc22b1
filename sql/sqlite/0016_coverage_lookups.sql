-- Coverage looks up the latest whole-season call of an endpoint for one league season (a call naming only the
-- league, the season, the time zone or a page). This partial index holds just those calls that succeeded, so a
-- lookup no longer walks every daily `date=` call of the season (reading each row past its stored body).
-- afc/marts/coverage/raw.py repeats the WHERE clause word for word: SQLite uses the index only then. The
-- columns after fetched_at are what the lookups read: SQLite takes them from the index, where reading them from
-- the row (they follow the body) meant walking the body's overflow pages (372 kB for a season's fixtures).
CREATE INDEX raw_responses_season_call_idx
    ON raw_responses (endpoint, params->>'league', params->>'season', fetched_at,
                      params->>'page', results, paging_current, paging_total, status, errors)
    WHERE status = 200 AND errors IS NULL
      AND json_remove(params, '$.league', '$.season', '$.timezone', '$.page') = '{}';
-- Nothing else read the index of every call by league and season: one index fewer to write per response.
DROP INDEX raw_responses_league_season_idx;

-- Coverage's counts over a league season's fixtures (held, the newest change, the first change to a played one,
-- the finished ones joined to their details, the teams) read each fixture's row for its status, updated_at and
-- sides: they now come from this index (the same key, and those columns after it). A 30-day rehearsal's
-- season of 380 fixtures: 93 -> 38 us, 134 -> 45, 968 -> 418 and 336 -> 146 us per query. PostgreSQL keeps
-- its index: its fixture rows are small heap tuples, and an index on updated_at would end its HOT updates.
DROP INDEX core_fixtures_league_season_idx;
CREATE INDEX core_fixtures_league_season_idx
    ON core_fixtures (league_id, season, kickoff_at, status_group, updated_at, home_team_id, away_team_id);
