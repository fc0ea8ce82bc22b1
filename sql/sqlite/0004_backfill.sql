-- Backfill: a plan per league season, and its tasks (one API call each), checkpointed in the
-- same transaction as the response a task stores, so a killed run resumes without repeating it.

CREATE TABLE ops_backfill_plans (
    id integer PRIMARY KEY,
    league_id integer NOT NULL,
    season integer NOT NULL,
    kinds text NOT NULL,
    refresh integer NOT NULL DEFAULT 0,
    status text NOT NULL CHECK (status IN ('active', 'done')),
    details_planned integer NOT NULL DEFAULT 0,
    created_at text NOT NULL,
    finished_at text,
    error text
);
CREATE UNIQUE INDEX ops_backfill_plans_active_idx ON ops_backfill_plans (league_id, season) WHERE status = 'active';

CREATE TABLE ops_backfill_tasks (
    id integer PRIMARY KEY,
    plan_id integer NOT NULL REFERENCES ops_backfill_plans (id),
    league_id integer NOT NULL,
    season integer NOT NULL,
    kind text NOT NULL,
    endpoint text NOT NULL,
    params text NOT NULL,
    page integer NOT NULL DEFAULT 1,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'skipped', 'failed')),
    note text,
    calls integer NOT NULL DEFAULT 0,
    raw_id integer,
    created_at text NOT NULL,
    done_at text,
    error text,
    UNIQUE (plan_id, endpoint, params, page)
);
CREATE INDEX ops_backfill_tasks_status_idx ON ops_backfill_tasks (status, plan_id, id);
CREATE INDEX ops_backfill_tasks_season_idx ON ops_backfill_tasks (league_id, season, kind);
