-- mart_daily_fixtures again, with updated_at nullable (the refresh always writes it). afc/marts/daily.py writes a
-- response's dashboard rows with one INSERT … SELECT: a statement writing several rows keeps a journal of every
-- page it changes, so that it can be undone on its own, whenever it may fail half-way, and a NOT NULL column it
-- writes (or any SQL function it calls) is such a failure. Past 64 kB SQLite writes that journal to a
-- temporary file. Without the constraint (and with no function called) it keeps none. PostgreSQL keeps its NOT NULL.
CREATE TABLE mart_daily_fixtures_0017 (
    fixture_id integer PRIMARY KEY,
    match_date text,
    kickoff_at text,
    league_id integer,
    league_name text,
    season integer,
    round text,
    home_team_id integer,
    home_team text,
    away_team_id integer,
    away_team text,
    home_goals integer,
    away_goals integer,
    status_short text,
    status_group text,
    updated_at text,
    lineups_confirmed integer,
    prediction_advice text,
    local_date text,
    local_tz text
);
INSERT INTO mart_daily_fixtures_0017
SELECT fixture_id, match_date, kickoff_at, league_id, league_name, season, round, home_team_id, home_team,
       away_team_id, away_team, home_goals, away_goals, status_short, status_group, updated_at, lineups_confirmed,
       prediction_advice, local_date, local_tz
FROM mart_daily_fixtures;
DROP TABLE mart_daily_fixtures;
ALTER TABLE mart_daily_fixtures_0017 RENAME TO mart_daily_fixtures;
CREATE INDEX mart_daily_fixtures_date_idx ON mart_daily_fixtures (match_date, kickoff_at);
CREATE INDEX mart_daily_fixtures_local_date_idx ON mart_daily_fixtures (local_date, kickoff_at);
