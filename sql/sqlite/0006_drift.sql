-- Schema drift: fields the API added, dropped or retyped, once per endpoint, path, kind and seen type.
CREATE TABLE ops_drift (
    id integer PRIMARY KEY,
    endpoint text NOT NULL,
    path text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('added', 'missing', 'type_changed')),
    expected_type text,
    seen_type text NOT NULL,
    first_seen_at text NOT NULL,
    last_seen_at text NOT NULL,
    example_raw_id integer,
    count integer NOT NULL DEFAULT 1,
    acknowledged_at text,
    UNIQUE (endpoint, path, kind, seen_type)
);
-- `afc health` counts what nobody has acknowledged yet.
CREATE INDEX ops_drift_unacknowledged_idx ON ops_drift (id) WHERE acknowledged_at IS NULL;
