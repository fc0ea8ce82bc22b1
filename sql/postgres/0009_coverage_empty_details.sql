-- Detail parts the API answered with an empty list for a finished fixture: how many answers were
-- empty, per part, and when the last one came. Coverage re-checks a part the league season's flags
-- promise on its schedule (afc/marts/coverage/measure.py RECHECK_DAYS), then calls it empty at source.
CREATE TABLE mart.coverage_empty_details (
    fixture_id integer PRIMARY KEY,
    events integer NOT NULL DEFAULT 0,
    lineups integer NOT NULL DEFAULT 0,
    statistics integer NOT NULL DEFAULT 0,
    players integer NOT NULL DEFAULT 0,
    last_empty_at timestamptz NOT NULL
);
