-- Schema drift: fields the API added, dropped or retyped, once per endpoint, path, kind and seen type.
CREATE TABLE ops.drift (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint text NOT NULL,
    path text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('added', 'missing', 'type_changed')),
    expected_type text,
    seen_type text NOT NULL,
    first_seen_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    example_raw_id bigint,
    count bigint NOT NULL DEFAULT 1,
    acknowledged_at timestamptz,
    UNIQUE (endpoint, path, kind, seen_type)
);
-- `afc health` counts what nobody has acknowledged yet.
CREATE INDEX drift_unacknowledged_idx ON ops.drift (id) WHERE acknowledged_at IS NULL;
