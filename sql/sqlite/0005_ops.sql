-- Operations: alerts sent (the repeat window), heartbeats of long-running loops, breaker probes.

-- One row per distinct alert: the last time it went out; it is not sent again within the window.
CREATE TABLE ops_alerts_sent (
    alert_key text PRIMARY KEY,
    kind text NOT NULL,
    message text NOT NULL,
    first_sent_at text NOT NULL,
    last_sent_at text NOT NULL,
    sent_count integer NOT NULL DEFAULT 1,
    suppressed_count integer NOT NULL DEFAULT 0,
    updated_at text NOT NULL
);

-- Long-running loops (afc live-loop) beat here every iteration; `afc health` reads it.
CREATE TABLE ops_heartbeats (
    name text PRIMARY KEY,
    beat_at text NOT NULL,
    status text,
    host text,
    pid integer
);

-- When a half-open breaker let its single probe through (another probe waits for it or its timeout).
ALTER TABLE ops_breakers ADD COLUMN probe_at text;
