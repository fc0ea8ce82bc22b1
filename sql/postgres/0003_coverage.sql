-- Coverage: what the database holds versus what exists, per league season and endpoint (afc coverage).

CREATE TABLE mart.coverage_status (
    league_id integer NOT NULL,
    season integer NOT NULL,
    endpoint text NOT NULL,
    held integer NOT NULL,
    expected integer,
    count_pct numeric,
    lag_minutes numeric,
    freshness_pct numeric,
    pipeline_pct numeric,
    overall_pct numeric,
    status text NOT NULL CHECK (status IN ('ok', 'warning', 'critical', 'not_applicable')),
    computed_at timestamptz NOT NULL,
    detail jsonb,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (league_id, season, endpoint)
);
CREATE INDEX coverage_status_status_idx ON mart.coverage_status (status);

-- The coverage: section in force, saved by each full report so that the mart refreshers score alike.
CREATE TABLE mart.coverage_settings (
    id integer PRIMARY KEY CHECK (id = 1),
    settings jsonb NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Coverage looks up the latest whole-season call of an endpoint for one league season.
CREATE INDEX responses_league_season_idx
    ON raw.responses (endpoint, (params->>'league'), (params->>'season'), fetched_at);
