"""The executor: claim the next pending task, make its call through the pipeline, and mark it done
in the transaction that stores the response, so a run killed anywhere resumes without repeating a
finished call. Stops cleanly at the priority's quota floor, saying when it resumes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from afc.api.client import Response
from afc.backfill import planner, tasks
from afc.backfill.preview import BackfillSeason
from afc.collect import runs
from afc.collect.collector import Collector
from afc.collect.step import Context, StepResult, step
from afc.config.settings import Priority
from afc.db import Database
from afc.db.upsert import Counts
from afc.errors import AfcError, AuthError, FatalApiError, PlanError, QuotaExhausted

log = logging.getLogger("afc.backfill")
UNLOCKS = ("leagues", "fixtures", "players")  # kinds whose answer makes more tasks plannable


@dataclass(frozen=True)
class TaskEvent:
    """One task finished (done or failed), with the run's totals so far."""

    task: tasks.Task
    status: str
    rows: int
    calls: int
    pending: int
    quota_left: int
    error: str | None = None


@dataclass
class BackfillReport:
    """What one run did, and why it stopped."""

    run_id: int | None = None
    done: int = 0
    failed: int = 0
    calls: int = 0
    counts: Counts = field(default_factory=Counts)
    pending: int = 0
    status: str = "ok"  # ok | quota | failed
    resume_at: datetime | None = None
    error: str | None = None
    failures: list[str] = field(default_factory=list)


Listener = Callable[[TaskEvent], None]


def open_plans(db: Database, targets: list[BackfillSeason], now: datetime) -> list[tasks.BackfillPlan]:
    """Create (or join) each target's plan and plan every task the database allows so far."""
    opened = []
    for target in targets:
        with db.transaction():
            plan = tasks.open_plan(db, target.league, target.season, target.kinds, target.refresh, now)
            planner.expand(db, plan, now)
        opened.append(plan)
    return opened


def pending(db: Database) -> int:
    """Tasks left across active plans."""
    row = db.fetchone("SELECT count(*) FROM ops.backfill_tasks t JOIN ops.backfill_plans p ON p.id = t.plan_id "
                      "WHERE t.status = 'pending' AND p.status = 'active'")
    return int(row[0]) if row else 0


def run(collector: Collector, *, priority: Priority = "LOW", job_id: str = "backfill",
        command: str = "backfill", listener: Listener | None = None) -> BackfillReport:
    """Work through every active plan's pending tasks until done, the quota floor, or an error."""
    db = collector.db
    ctx = collector.context(job_id, command, priority)
    ctx.notify = False  # history is not news: backfilled fixtures append nothing to the outbox
    report = BackfillReport(run_id=ctx.run_id)
    try:
        _replan(db, collector.now())
        while (task := tasks.next_task(db)) is not None:
            _run_task(ctx, task, report, listener)
    except QuotaExhausted as exc:
        report.status, report.resume_at, report.error = "quota", exc.resume_at, str(exc)
    except AfcError as exc:
        report.status, report.error = "failed", str(exc)
        raise
    except BaseException:
        report.status, report.error = "interrupted", runs.INTERRUPTED
        raise
    finally:
        _close(collector, ctx, report)
    return report


def _replan(db: Database, now: datetime) -> None:
    """Plan what a killed run could not (follow-ups are re-derived from the database)."""
    for plan in tasks.active_plans(db):
        with db.transaction():
            planner.expand(db, plan, now)


def _run_task(ctx: Context, task: tasks.Task, report: BackfillReport, listener: Listener | None) -> None:
    before = runs.totals(ctx.db, ctx.run_id).calls
    ctx.after_store = _checkpoint(ctx, task, before)
    try:
        result: StepResult = step(ctx, task.request)
    except FatalApiError as exc:
        if isinstance(exc, AuthError):
            raise  # a rejected key fails every task alike: stop, leave them pending
        calls = runs.totals(ctx.db, ctx.run_id).calls - before
        tasks.mark_failed(ctx.db, task, str(exc), calls, ctx.clock.now())
        if isinstance(exc, PlanError):  # the season is outside the plan: its other calls would fail alike
            tasks.fail_pending(ctx.db, task.plan_id, str(exc), ctx.clock.now())
        report.failed += 1
        report.failures.append(f"{task.request}: {exc}")
        _notify(ctx, task, "failed", 0, report, listener, str(exc))
        return
    finally:
        ctx.after_store = None
    report.done += 1
    report.counts += result.counts
    _notify(ctx, task, "done", result.counts.inserted + result.counts.updated, report, listener)


def _checkpoint(ctx: Context, task: tasks.Task, before: int) -> Callable[[Database, Response, int], None]:
    """Mark the task done and plan its follow-ups, inside the transaction storing its response."""

    def checkpoint(db: Database, response: Response, raw_id: int) -> None:
        calls = runs.totals(db, ctx.run_id).calls - before
        tasks.mark_done(db, task, raw_id, calls, ctx.clock.now())
        if task.kind in UNLOCKS:
            plan = next((p for p in tasks.active_plans(db) if p.id == task.plan_id), None)
            if plan is not None:
                planner.expand(db, plan, ctx.clock.now())

    return checkpoint


def _notify(ctx: Context, task: tasks.Task, status: str, rows: int, report: BackfillReport,
            listener: Listener | None, error: str | None = None) -> None:
    calls = runs.totals(ctx.db, ctx.run_id).calls
    event = TaskEvent(task, status, rows, calls, pending(ctx.db), ctx.ledger.available(ctx.priority), error)
    (listener or log_event)(event)


def log_event(event: TaskEvent) -> None:
    """One log line per task (the progress display when stderr is not a terminal)."""
    task = event.task
    level = logging.WARNING if event.status == "failed" else logging.INFO
    log.log(level, "backfill %s/%s %s: %s, %d rows; %d calls, %d tasks left, %d quota left%s",
            task.league, task.season, describe(task), event.status, event.rows, event.calls,
            event.pending, event.quota_left, f" ({event.error})" if event.error else "")


def describe(task: tasks.Task) -> str:
    """A short name for a task: its kind, and its page or how many fixtures it details."""
    if task.kind == "details":
        return f"details of {len(task.params.get('ids', '').split('-'))} fixtures"
    return f"{task.kind} page {task.page}" if task.kind == "players" else task.kind


def _close(collector: Collector, ctx: Context, report: BackfillReport) -> None:
    db, now = collector.db, collector.now()
    unplannable = []
    for plan in tasks.active_plans(db):
        if not tasks.finish(db, plan, now):
            continue
        if plan.error:  # the plan could get nothing (e.g. /leagues lists no such season): a failure
            unplannable.append(plan.error)
        else:
            log.info("backfill of league %d season %d is complete", plan.league, plan.season)
    report.pending = pending(db)
    report.calls = runs.totals(db, ctx.run_id).calls
    report.failures.extend(unplannable)
    if report.status == "ok" and (report.failed or unplannable):
        report.status = "failed"
        report.error = "; ".join(unplannable) if unplannable and not report.failed else \
            f"{report.failed + len(unplannable)} task(s) or plan(s) failed; see `afc backfill status`"
    runs.finish(db, ctx.run_id, report.status, now, report.error)
