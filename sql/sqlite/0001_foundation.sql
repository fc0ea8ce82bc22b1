-- Foundation: the raw archive, reference data in core, the quota ledger, job runs, quarantine.
-- SQLite has no schemas: a table's layer is its prefix (core.teams is core_teams).

CREATE TABLE raw_responses (
    id integer PRIMARY KEY,
    endpoint text NOT NULL,
    params text NOT NULL,
    status integer NOT NULL,
    headers text NOT NULL,
    body text,
    body_text text,
    errors text,
    results integer,
    paging_current integer,
    paging_total integer,
    fetched_at text NOT NULL,
    duration_ms integer,
    job_run_id integer
);
CREATE INDEX raw_responses_endpoint_idx ON raw_responses (endpoint, fetched_at);
CREATE INDEX raw_responses_fetched_idx ON raw_responses (fetched_at);

CREATE TABLE core_countries (
    name text PRIMARY KEY,
    code text,
    flag text,
    updated_at text NOT NULL,
    raw_id integer
);

CREATE TABLE core_timezones (
    name text PRIMARY KEY,
    updated_at text NOT NULL,
    raw_id integer
);

CREATE TABLE core_leagues (
    id integer PRIMARY KEY,
    name text,
    type text,
    logo text,
    country_name text,
    updated_at text NOT NULL,
    raw_id integer
);

CREATE TABLE core_league_seasons (
    league_id integer NOT NULL REFERENCES core_leagues (id),
    season integer NOT NULL,
    start_date text,
    end_date text,
    current integer,
    cov_events integer,
    cov_lineups integer,
    cov_statistics_fixtures integer,
    cov_statistics_players integer,
    cov_standings integer,
    cov_players integer,
    cov_top_scorers integer,
    cov_top_assists integer,
    cov_top_cards integer,
    cov_injuries integer,
    cov_predictions integer,
    cov_odds integer,
    updated_at text NOT NULL,
    raw_id integer,
    PRIMARY KEY (league_id, season)
);

CREATE TABLE core_venues (
    id integer PRIMARY KEY,
    name text,
    address text,
    city text,
    country text,
    capacity integer,
    surface text,
    image text,
    updated_at text NOT NULL,
    raw_id integer
);

CREATE TABLE core_teams (
    id integer PRIMARY KEY,
    name text,
    code text,
    country text,
    founded integer,
    national integer,
    logo text,
    venue_id integer REFERENCES core_venues (id),
    updated_at text NOT NULL,
    raw_id integer
);

CREATE TABLE core_team_seasons (
    league_id integer NOT NULL REFERENCES core_leagues (id),
    season integer NOT NULL,
    team_id integer NOT NULL REFERENCES core_teams (id),
    updated_at text NOT NULL,
    raw_id integer,
    PRIMARY KEY (league_id, season, team_id)
);
CREATE INDEX core_team_seasons_team_idx ON core_team_seasons (team_id);

CREATE TABLE ops_quota_days (
    account text NOT NULL,
    day text NOT NULL,
    daily_limit integer NOT NULL CHECK (daily_limit >= 0),
    used integer NOT NULL DEFAULT 0 CHECK (used >= 0),
    api_remaining integer,
    exhausted_at text,
    updated_at text NOT NULL,
    PRIMARY KEY (account, day)
);

CREATE TABLE ops_quota_minutes (
    account text NOT NULL,
    minute text NOT NULL,
    minute_limit integer NOT NULL,
    used integer NOT NULL DEFAULT 0,
    PRIMARY KEY (account, minute)
);

CREATE TABLE ops_job_runs (
    id integer PRIMARY KEY,
    job_id text NOT NULL,
    command text NOT NULL,
    status text NOT NULL,
    started_at text NOT NULL,
    finished_at text,
    calls integer NOT NULL DEFAULT 0,
    rows_inserted integer NOT NULL DEFAULT 0,
    rows_updated integer NOT NULL DEFAULT 0,
    rows_unchanged integer NOT NULL DEFAULT 0,
    quarantined integer NOT NULL DEFAULT 0,
    error text,
    host text,
    pid integer
);
CREATE INDEX ops_job_runs_job_idx ON ops_job_runs (job_id, started_at);

CREATE TABLE ops_quarantine (
    id integer PRIMARY KEY,
    raw_id integer NOT NULL,
    endpoint text NOT NULL,
    item_index integer NOT NULL,
    item text,
    reason text NOT NULL,
    created_at text NOT NULL,
    resolved_at text,
    UNIQUE (raw_id, item_index)
);

CREATE TABLE ops_breakers (
    endpoint text PRIMARY KEY,
    state text NOT NULL DEFAULT 'closed',
    failures integer NOT NULL DEFAULT 0,
    opened_at text,
    last_error_at text,
    updated_at text NOT NULL
);
