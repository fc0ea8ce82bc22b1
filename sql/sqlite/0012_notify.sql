-- Push notifications (`afc notify`): the transactional outbox, the last observation of each fixture
-- it is diffed against, and the delivery state of each (event, target).
-- events_outbox rows are written in the transaction of the response that changed the fixture; the
-- event_key is derived from the data, so a re-fetch never appends the same event twice.
CREATE TABLE ops_events_outbox (
    id integer PRIMARY KEY AUTOINCREMENT,
    event_key text NOT NULL UNIQUE,
    kind text NOT NULL,
    fixture_id integer NOT NULL,
    league_id integer,
    home_team_id integer,
    away_team_id integer,
    payload text NOT NULL,
    raw_id bigint,
    created_at text NOT NULL
);
CREATE INDEX ops_events_outbox_created_idx ON ops_events_outbox (created_at);
-- What the outbox last saw of a fixture (status, score, notified incidents, lineups): the "before".
CREATE TABLE ops_notify_fixtures (
    fixture_id integer PRIMARY KEY,
    state text NOT NULL,
    sig text NOT NULL,  -- digest of what the state derives from: equal means nothing to compare
    updated_at text NOT NULL
);
-- Per target, the last outbox id fanned out into deliveries.
CREATE TABLE ops_notify_targets (
    target text PRIMARY KEY,
    last_event_id bigint NOT NULL,
    updated_at text NOT NULL
);
CREATE TABLE ops_notify_deliveries (
    id integer PRIMARY KEY AUTOINCREMENT,
    event_id bigint NOT NULL REFERENCES ops_events_outbox (id) ON DELETE CASCADE,
    target text NOT NULL,
    fixture_id integer NOT NULL,
    state text NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts integer NOT NULL DEFAULT 0,
    failures integer NOT NULL DEFAULT 0,
    next_attempt_at text NOT NULL,
    leased_until text,
    lease_token text,
    last_error text,
    created_at text NOT NULL,
    delivered_at text,
    UNIQUE (event_id, target)
);
CREATE INDEX ops_notify_deliveries_pending_idx ON ops_notify_deliveries (target, fixture_id, event_id)
    WHERE state = 'pending';
CREATE INDEX ops_notify_deliveries_state_idx ON ops_notify_deliveries (state, next_attempt_at);
