-- The live loop's follow-ups: fixtures whose final details are due (at full time, then once more
-- after the re-check delay for the API's silent corrections). `done` rows are kept two days so a
-- fixture is not queued twice, then deleted by the loop.
CREATE TABLE ops.live_followups (
    fixture_id integer PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('final', 'recheck', 'done')),
    due_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX live_followups_due_idx ON ops.live_followups (due_at);
