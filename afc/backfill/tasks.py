"""The checkpoint: backfill plans and their tasks in `ops.backfill_plans` / `ops.backfill_tasks`.

Inserting a task is idempotent (unique per plan, endpoint, params and page), so planning the same
league season again joins its active plan; a task is marked done in the transaction that stores
its response.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from afc.api.client import Request
from afc.db import Database, as_datetime, dump_json, load_json

OPEN_PLAN = """
INSERT INTO ops.backfill_plans (league_id, season, kinds, refresh, status, created_at)
VALUES (%(league)s, %(season)s, %(kinds)s, %(refresh)s, 'active', %(now)s)
ON CONFLICT (league_id, season) WHERE status = 'active' DO NOTHING"""
WIDEN_PLAN = """
UPDATE ops.backfill_plans SET kinds = %(kinds)s, refresh = %(refresh)s WHERE id = %(id)s"""
PLAN_COLUMNS = "id, league_id, season, kinds, refresh, details_planned, status, created_at, finished_at, error"
ACTIVE_PLAN = f"""
SELECT {PLAN_COLUMNS} FROM ops.backfill_plans WHERE league_id = %(league)s AND season = %(season)s
  AND status = 'active'"""
ACTIVE_PLANS = f"SELECT {PLAN_COLUMNS} FROM ops.backfill_plans WHERE status = 'active' ORDER BY id"
RECENT_PLANS = f"SELECT {PLAN_COLUMNS} FROM ops.backfill_plans ORDER BY id DESC LIMIT %(limit)s"
ADD_TASK = """
INSERT INTO ops.backfill_tasks (plan_id, league_id, season, kind, endpoint, params, page, status, note, created_at)
VALUES (%(plan)s, %(league)s, %(season)s, %(kind)s, %(endpoint)s, %(params)s, %(page)s, %(status)s, %(note)s,
        %(now)s)
ON CONFLICT (plan_id, endpoint, params, page) DO UPDATE SET status = 'pending', note = NULL
WHERE ops.backfill_tasks.status = 'skipped' AND excluded.status = 'pending'"""
TASK_COLUMNS = "id, plan_id, league_id, season, kind, endpoint, params, page, status, note, calls, raw_id, error"
NEXT_TASK = f"""
SELECT {TASK_COLUMNS} FROM ops.backfill_tasks
WHERE status = 'pending' AND plan_id IN (SELECT id FROM ops.backfill_plans WHERE status = 'active')
ORDER BY plan_id, id LIMIT 1"""
PLAN_TASKS = f"SELECT {TASK_COLUMNS} FROM ops.backfill_tasks WHERE plan_id = %(plan)s ORDER BY id"
DONE = """
UPDATE ops.backfill_tasks SET status = 'done', calls = calls + %(calls)s, raw_id = %(raw_id)s,
    done_at = %(now)s, error = NULL
WHERE id = %(id)s"""
FAILED = """
UPDATE ops.backfill_tasks SET status = 'failed', calls = calls + %(calls)s, done_at = %(now)s, error = %(error)s
WHERE id = %(id)s"""
FAIL_PENDING = """
UPDATE ops.backfill_tasks SET status = 'failed', done_at = %(now)s, error = %(error)s
WHERE plan_id = %(plan)s AND status = 'pending'"""
DETAILS_PLANNED = "UPDATE ops.backfill_plans SET details_planned = %(yes)s WHERE id = %(id)s"
PLAN_ERROR = "UPDATE ops.backfill_plans SET error = %(error)s WHERE id = %(id)s"
FINISH = """
UPDATE ops.backfill_plans SET status = 'done', finished_at = %(now)s
WHERE id = %(id)s AND status = 'active'
  AND NOT EXISTS (SELECT 1 FROM ops.backfill_tasks t WHERE t.plan_id = %(id)s AND t.status = 'pending')"""
COUNTS = """
SELECT plan_id, status, count(*), coalesce(sum(calls), 0) FROM ops.backfill_tasks
WHERE plan_id IN (SELECT id FROM ops.backfill_plans ORDER BY id DESC LIMIT %(limit)s)
GROUP BY plan_id, status"""


@dataclass(frozen=True)
class BackfillPlan:
    """One league season's backfill: what was asked for and how far it got."""

    id: int
    league: int
    season: int
    kinds: tuple[str, ...]
    refresh: bool
    details_planned: bool
    status: str = "active"
    created_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None


@dataclass(frozen=True)
class Task:
    """One planned API call (a page of /players is a task of its own)."""

    id: int
    plan_id: int
    league: int
    season: int
    kind: str
    endpoint: str
    params: dict[str, str]
    page: int
    status: str
    note: str | None = None
    calls: int = 0
    raw_id: int | None = None
    error: str | None = None

    @property
    def request(self) -> Request:
        """The call this task makes."""
        return Request.of(self.endpoint, self.params).page(self.page)


def _plan(row: tuple[Any, ...]) -> BackfillPlan:
    kinds = tuple(k for k in str(row[3]).split(",") if k)
    return BackfillPlan(int(row[0]), int(row[1]), int(row[2]), kinds, bool(row[4]), bool(row[5]), str(row[6]),
                as_datetime(row[7]), as_datetime(row[8]), row[9])


def _task(row: tuple[Any, ...]) -> Task:
    return Task(int(row[0]), int(row[1]), int(row[2]), int(row[3]), row[4], row[5], dict(load_json(row[6])),
                int(row[7]), row[8], row[9], int(row[10]), row[11], row[12])


def open_plan(db: Database, league: int, season: int, kinds: tuple[str, ...], refresh: bool,
              now: datetime) -> BackfillPlan:
    """The league season's active plan (created, or joined and widened to `kinds`)."""
    keys = {"league": league, "season": season, "kinds": ",".join(kinds), "refresh": refresh, "now": now}
    with db.transaction():
        db.execute(OPEN_PLAN, keys)
        plan = active_plan(db, league, season)
        assert plan is not None  # inserted or already there, inside this transaction
        wider = tuple(dict.fromkeys(plan.kinds + kinds))
        if wider != plan.kinds or (refresh and not plan.refresh):
            db.execute(WIDEN_PLAN, {"id": plan.id, "kinds": ",".join(wider), "refresh": refresh or plan.refresh})
            plan = active_plan(db, league, season)
    assert plan is not None
    return plan


def active_plan(db: Database, league: int, season: int) -> BackfillPlan | None:
    """The active plan of a league season, if any."""
    row = db.fetchone(ACTIVE_PLAN, {"league": league, "season": season})
    return _plan(row) if row else None


def active_plans(db: Database) -> list[BackfillPlan]:
    """Every plan not finished yet, oldest first."""
    return [_plan(row) for row in db.fetchall(ACTIVE_PLANS)]


def recent_plans(db: Database, limit: int = 20) -> list[BackfillPlan]:
    """The latest plans, newest first."""
    return [_plan(row) for row in db.fetchall(RECENT_PLANS, {"limit": limit})]


def add_tasks(db: Database, plan: BackfillPlan, specs: Iterable[Any], now: datetime) -> None:
    """Insert planned tasks (already planned ones are left as they are; a skipped one may become due)."""
    rows = [{"plan": plan.id, "league": plan.league, "season": plan.season, "kind": s.kind,
             "endpoint": s.endpoint, "params": dump_json(s.params), "page": s.page, "status": s.status,
             "note": s.note, "now": now} for s in specs]
    if rows:
        db.executemany(ADD_TASK, rows)


def tasks(db: Database, plan_id: int) -> list[Task]:
    """A plan's tasks in the order they run."""
    return [_task(row) for row in db.fetchall(PLAN_TASKS, {"plan": plan_id})]


def next_task(db: Database) -> Task | None:
    """The next pending task of any active plan (plans in order, tasks in the order planned)."""
    row = db.fetchone(NEXT_TASK)
    return _task(row) if row else None


def mark_done(db: Database, task: Task, raw_id: int, calls: int, now: datetime) -> None:
    """Checkpoint a task (inside its response's transaction)."""
    db.execute(DONE, {"id": task.id, "raw_id": raw_id, "calls": calls, "now": now})


def mark_failed(db: Database, task: Task, error: str, calls: int, now: datetime) -> None:
    """A task the API refused for good (bad parameters, not in the plan): not tried again by resume."""
    with db.transaction():
        db.execute(FAILED, {"id": task.id, "error": error[:500], "calls": calls, "now": now})


def fail_pending(db: Database, plan_id: int, error: str, now: datetime) -> None:
    """Fail a plan's pending tasks without calling (the API said the season is not in the plan)."""
    with db.transaction():
        db.execute(FAIL_PENDING, {"plan": plan_id, "error": f"not tried: {error}"[:500], "now": now})


def set_details_planned(db: Database, plan: BackfillPlan) -> None:
    """The plan's ids= batches are cut (they are never re-cut, so a rerun repeats none)."""
    db.execute(DETAILS_PLANNED, {"id": plan.id, "yes": True})


def set_error(db: Database, plan: BackfillPlan, error: str) -> None:
    """Record why a plan cannot go on."""
    db.execute(PLAN_ERROR, {"id": plan.id, "error": error[:500]})


def finish(db: Database, plan: BackfillPlan, now: datetime) -> bool:
    """Close a plan with no pending task left; whether it was closed."""
    with db.transaction():
        return db.execute(FINISH, {"id": plan.id, "now": now}) > 0


def outcome(plan: BackfillPlan, plan_counts: dict[str, tuple[int, int]]) -> str:
    """`active`, `done`, or `failed`: a finished plan that recorded an error or has failed tasks."""
    if plan.status == "done" and (plan.error or plan_counts.get("failed", (0, 0))[0]):
        return "failed"
    return plan.status


def counts(db: Database, limit: int = 20) -> dict[int, dict[str, tuple[int, int]]]:
    """Per recent plan and task status: (tasks, calls)."""
    found: dict[int, dict[str, tuple[int, int]]] = {}
    for plan_id, status, n, calls in db.fetchall(COUNTS, {"limit": limit}):
        found.setdefault(int(plan_id), {})[status] = (int(n), int(calls))
    return found
