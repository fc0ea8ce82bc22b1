-- Push notifications (`afc notify`): the transactional outbox, the last observation of each fixture
-- it is diffed against, and the delivery state of each (event, target).
-- events_outbox rows are written in the transaction of the response that changed the fixture; the
-- event_key is derived from the data, so a re-fetch never appends the same event twice.
CREATE TABLE ops.events_outbox (
    id bigserial PRIMARY KEY,
    event_key text NOT NULL UNIQUE,
    kind text NOT NULL,
    fixture_id integer NOT NULL,
    league_id integer,
    home_team_id integer,
    away_team_id integer,
    payload jsonb NOT NULL,
    raw_id bigint,
    created_at timestamptz NOT NULL
);
CREATE INDEX events_outbox_created_idx ON ops.events_outbox (created_at);
-- What the outbox last saw of a fixture (status, score, notified incidents, lineups): the "before".
CREATE TABLE ops.notify_fixtures (
    fixture_id integer PRIMARY KEY,
    state jsonb NOT NULL,
    sig text NOT NULL,  -- digest of what the state derives from: equal means nothing to compare
    updated_at timestamptz NOT NULL
);
-- Per target, the last outbox id fanned out into deliveries.
CREATE TABLE ops.notify_targets (
    target text PRIMARY KEY,
    last_event_id bigint NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE TABLE ops.notify_deliveries (
    id bigserial PRIMARY KEY,
    event_id bigint NOT NULL REFERENCES ops.events_outbox (id) ON DELETE CASCADE,
    target text NOT NULL,
    fixture_id integer NOT NULL,
    state text NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts integer NOT NULL DEFAULT 0,
    failures integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    leased_until timestamptz,
    lease_token text,
    last_error text,
    created_at timestamptz NOT NULL,
    delivered_at timestamptz,
    UNIQUE (event_id, target)
);
CREATE INDEX notify_deliveries_pending_idx ON ops.notify_deliveries (target, fixture_id, event_id)
    WHERE state = 'pending';
CREATE INDEX notify_deliveries_state_idx ON ops.notify_deliveries (state, next_attempt_at);
