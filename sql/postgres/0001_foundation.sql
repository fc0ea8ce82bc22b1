-- Foundation: the raw archive, reference data in core, the quota ledger, job runs, quarantine.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS mart;
CREATE SCHEMA IF NOT EXISTS ops;

-- Every response the API sent, whole. Partitioned by month so retention drops months at once.
CREATE TABLE raw.responses (
    id bigint GENERATED ALWAYS AS IDENTITY,
    endpoint text NOT NULL,
    params jsonb NOT NULL,
    status integer NOT NULL,
    headers jsonb NOT NULL,
    body jsonb,
    body_text text,
    errors jsonb,
    results integer,
    paging_current integer,
    paging_total integer,
    fetched_at timestamptz NOT NULL,
    duration_ms integer,
    job_run_id bigint,
    PRIMARY KEY (id, fetched_at)
) PARTITION BY RANGE (fetched_at);
CREATE TABLE raw.responses_default PARTITION OF raw.responses DEFAULT;
CREATE INDEX responses_endpoint_idx ON raw.responses (endpoint, fetched_at);

-- Creates the month's partition of raw.responses if it is missing (called before the month's first insert).
CREATE FUNCTION raw.ensure_partition(at timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    first date := date_trunc('month', at AT TIME ZONE 'UTC')::date;
    name text := format('responses_%s', to_char(first, 'YYYY_MM'));
BEGIN
    IF to_regclass(format('raw.%I', name)) IS NOT NULL THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('afc:raw-partition', 0));
    IF to_regclass(format('raw.%I', name)) IS NULL
       AND NOT EXISTS (SELECT 1 FROM raw.responses_default
                       WHERE fetched_at >= first AND fetched_at < (first + interval '1 month')) THEN
        EXECUTE format('CREATE TABLE raw.%I PARTITION OF raw.responses FOR VALUES FROM (%L) TO (%L)',
                       name, first::timestamp AT TIME ZONE 'UTC',
                       (first + interval '1 month')::timestamp AT TIME ZONE 'UTC');
    END IF;
END $$;

CREATE TABLE core.countries (
    name text PRIMARY KEY,
    code text,
    flag text,
    updated_at timestamptz NOT NULL,
    raw_id bigint
);

CREATE TABLE core.timezones (
    name text PRIMARY KEY,
    updated_at timestamptz NOT NULL,
    raw_id bigint
);

CREATE TABLE core.leagues (
    id integer PRIMARY KEY,
    name text,
    type text,
    logo text,
    country_name text,
    updated_at timestamptz NOT NULL,
    raw_id bigint
);

CREATE TABLE core.league_seasons (
    league_id integer NOT NULL REFERENCES core.leagues (id),
    season integer NOT NULL,
    start_date date,
    end_date date,
    current boolean,
    cov_events boolean,
    cov_lineups boolean,
    cov_statistics_fixtures boolean,
    cov_statistics_players boolean,
    cov_standings boolean,
    cov_players boolean,
    cov_top_scorers boolean,
    cov_top_assists boolean,
    cov_top_cards boolean,
    cov_injuries boolean,
    cov_predictions boolean,
    cov_odds boolean,
    updated_at timestamptz NOT NULL,
    raw_id bigint,
    PRIMARY KEY (league_id, season)
);

CREATE TABLE core.venues (
    id integer PRIMARY KEY,
    name text,
    address text,
    city text,
    country text,
    capacity integer,
    surface text,
    image text,
    updated_at timestamptz NOT NULL,
    raw_id bigint
);

CREATE TABLE core.teams (
    id integer PRIMARY KEY,
    name text,
    code text,
    country text,
    founded integer,
    national boolean,
    logo text,
    venue_id integer REFERENCES core.venues (id),
    updated_at timestamptz NOT NULL,
    raw_id bigint
);

CREATE TABLE core.team_seasons (
    league_id integer NOT NULL REFERENCES core.leagues (id),
    season integer NOT NULL,
    team_id integer NOT NULL REFERENCES core.teams (id),
    updated_at timestamptz NOT NULL,
    raw_id bigint,
    PRIMARY KEY (league_id, season, team_id)
);
CREATE INDEX team_seasons_team_idx ON core.team_seasons (team_id);

-- The quota ledger: calls reserved per account and UTC day, settled from the API's headers.
CREATE TABLE ops.quota_days (
    account text NOT NULL,
    day date NOT NULL,
    daily_limit integer NOT NULL CHECK (daily_limit >= 0),
    used integer NOT NULL DEFAULT 0 CHECK (used >= 0),
    api_remaining integer,
    exhausted_at timestamptz,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (account, day)
);

CREATE TABLE ops.quota_minutes (
    account text NOT NULL,
    minute timestamptz NOT NULL,
    minute_limit integer NOT NULL,
    used integer NOT NULL DEFAULT 0,
    PRIMARY KEY (account, minute)
);

CREATE TABLE ops.job_runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id text NOT NULL,
    command text NOT NULL,
    status text NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    calls integer NOT NULL DEFAULT 0,
    rows_inserted integer NOT NULL DEFAULT 0,
    rows_updated integer NOT NULL DEFAULT 0,
    rows_unchanged integer NOT NULL DEFAULT 0,
    quarantined integer NOT NULL DEFAULT 0,
    error text,
    host text,
    pid integer
);
CREATE INDEX job_runs_job_idx ON ops.job_runs (job_id, started_at);

-- Items that failed validation, next to the raw response they came in.
CREATE TABLE ops.quarantine (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    raw_id bigint NOT NULL,
    endpoint text NOT NULL,
    item_index integer NOT NULL,
    item jsonb,
    reason text NOT NULL,
    created_at timestamptz NOT NULL,
    resolved_at timestamptz,
    UNIQUE (raw_id, item_index)
);

-- Circuit breakers per endpoint, persisted because the CLI is stateless.
CREATE TABLE ops.breakers (
    endpoint text PRIMARY KEY,
    state text NOT NULL DEFAULT 'closed',
    failures integer NOT NULL DEFAULT 0,
    opened_at timestamptz,
    last_error_at timestamptz,
    updated_at timestamptz NOT NULL
);
