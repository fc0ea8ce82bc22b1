-- Backfill: a plan per league season, and its tasks (one API call each), checkpointed in the
-- same transaction as the response a task stores, so a killed run resumes without repeating it.

CREATE TABLE ops.backfill_plans (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    league_id integer NOT NULL,
    season integer NOT NULL,
    kinds text NOT NULL,                 -- what was asked for, comma-separated (fixtures,details,...)
    refresh boolean NOT NULL DEFAULT false,
    status text NOT NULL CHECK (status IN ('active', 'done')),
    details_planned boolean NOT NULL DEFAULT false,  -- ids= batches are cut once, so reruns match
    created_at timestamptz NOT NULL,
    finished_at timestamptz,
    error text
);
-- Re-planning a league season joins its active plan instead of starting another.
CREATE UNIQUE INDEX backfill_plans_active_idx ON ops.backfill_plans (league_id, season) WHERE status = 'active';

CREATE TABLE ops.backfill_tasks (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id bigint NOT NULL REFERENCES ops.backfill_plans (id),
    league_id integer NOT NULL,
    season integer NOT NULL,
    kind text NOT NULL,
    endpoint text NOT NULL,
    params jsonb NOT NULL,               -- the request's parameters without `page`
    page integer NOT NULL DEFAULT 1,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'skipped', 'failed')),
    note text,                           -- why a task was skipped (held, coverage)
    calls integer NOT NULL DEFAULT 0,
    raw_id bigint,
    created_at timestamptz NOT NULL,
    done_at timestamptz,
    error text,
    UNIQUE (plan_id, endpoint, params, page)
);
CREATE INDEX backfill_tasks_status_idx ON ops.backfill_tasks (status, plan_id, id);
CREATE INDEX backfill_tasks_season_idx ON ops.backfill_tasks (league_id, season, kind);
