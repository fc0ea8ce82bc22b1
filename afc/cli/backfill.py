"""`afc backfill`: plan what whole seasons cost, then collect them resumably; `afc backfill status`."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Annotated, Any

import typer

from afc.cli.app import DbOption, JsonOption, app, console, open_collector, shown_at, write_json
from afc.errors import EXIT_FAILURE, EXIT_NOTHING_DONE, ConfigError
from afc.words import count_calls

backfill_app = typer.Typer(
    help="Fill whole league seasons with the cheapest calls, resumably.\n\n"
    "Exit codes: 0 done, 1 a task or the run failed, 2 bad options, "
    "75 stopped at the priority's quota floor (the message says when it resumes).",
)
app.add_typer(backfill_app, name="backfill")
PLAN_COLUMNS = ("needed", "done", "held", "skipped", "failed")
log = logging.getLogger("afc.backfill")


@backfill_app.callback(invoke_without_command=True)
def backfill(
    ctx: typer.Context,
    league: Annotated[list[str] | None, typer.Option(
        "--league", "-l", help="League id; repeat or comma-separate.")] = None,
    season: Annotated[list[str] | None, typer.Option(
        "--season", "-s", help="Season start year or range (2020-2022).")] = None,
    what: Annotated[str | None, typer.Option(
        "--what", help="Kinds: fixtures,details,standings,teams,players,injuries,"
                       "topscorers,topassists,topcards (default: all the coverage flags allow).")] = None,
    plan: Annotated[bool, typer.Option("--plan", help="Print the plan and its cost; call nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    priority: Annotated[str, typer.Option("--priority", help="Quota priority: CRITICAL, HIGH, MEDIUM or LOW.")] = "LOW",
    refresh: Annotated[bool, typer.Option("--refresh", help="Fetch again what the database already holds.")] = False,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Continue every planned backfill (what the timer runs).")] = False,
    from_gaps: Annotated[bool, typer.Option("--from-gaps", help="Plan what `afc coverage` finds missing or stale "
                                            "(tracked league seasons, or --league/--season).")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fill whole league seasons: plan the cost, then collect resumably with the cheapest calls."""
    if ctx.invoked_subcommand is not None:
        return
    from afc import backfill as lib

    collector = open_collector(db, create=True)
    level = lib.check_priority(priority)
    request = lib.prepare(collector, league or [], season or [], what, refresh=refresh, resume=resume,
                          from_gaps=from_gaps, priority=level)
    if plan:
        render_preview(request.preview, as_json)
        return
    confirm(request.preview, yes or not (request.targets or request.gaps))
    with progress() as listener:
        report = lib.execute(collector, request, priority=level, listener=listener)
    render_report(report, collector.ledger.status(), as_json)


@backfill_app.command("status")
def status(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Recent backfill plans: tasks pending, done, skipped and failed, and calls spent."""
    from afc.backfill import tasks

    collector = open_collector(db)
    plans, counts = tasks.recent_plans(collector.db), tasks.counts(collector.db)
    rows = [plan_status(p, counts.get(p.id, {})) for p in plans]
    if as_json:
        write_json({"plans": rows, "quota": asdict(collector.ledger.status())})
        return
    render_status(rows, collector.settings.display_tz)


def plan_status(plan: Any, counts: dict[str, tuple[int, int]]) -> dict[str, Any]:
    """One plan as a status row."""
    from afc.backfill.tasks import outcome

    row = {"plan": plan.id, "league": plan.league, "season": plan.season, "status": outcome(plan, counts),
           "kinds": ",".join(plan.kinds), "created_at": plan.created_at, "finished_at": plan.finished_at,
           "error": plan.error}
    row.update({name: counts.get(name, (0, 0))[0] for name in ("pending", "done", "skipped", "failed")})
    row["calls"] = sum(calls for _, calls in counts.values())
    return row


def render_status(rows: list[dict[str, Any]], tz: str) -> None:
    """The status table (or a line saying there is nothing)."""
    from rich.table import Table

    if not rows:
        console().print("no backfill planned yet; start one with `afc backfill --league L --season S`", markup=False)
        return
    table = Table(box=None)
    for name in ("plan", "league", "season", "status", "pending", "done", "skipped", "failed", "calls", "created_at"):
        table.add_column(name, justify="left" if name in ("status", "created_at") else "right")
    for row in rows:
        created = shown_at(row["created_at"], tz) if row["created_at"] else ""
        table.add_row(*(str(row[k]) for k in ("plan", "league", "season", "status", "pending", "done", "skipped",
                                              "failed", "calls")), created)
    console().print(table)
    for row in rows:
        if row["error"]:
            sys.stderr.write(f"afc: plan {row['plan']}: {row['error']}\n")


def render_preview(preview: Any, as_json: bool, *, stderr: bool = False) -> None:
    """The plan: calls per kind, today's quota after the floor, and the days the rest takes."""
    days = preview.days
    if as_json:
        write_json({"rows": [asdict(r) for r in preview.rows], "needed": preview.needed, "days": days,
                    "priority": preview.priority, "available_today": preview.available_today,
                    "daily_budget": preview.daily_budget, "notes": preview.notes})
        return
    from rich.table import Table

    table = Table(box=None)
    for name in ("league", "season", "kind", "endpoint", *PLAN_COLUMNS):
        table.add_column(name, justify="right" if name in PLAN_COLUMNS or name in ("league", "season") else "left")
    for row in preview.rows:
        needed = f"~{row.needed}" if row.estimated else str(row.needed)
        table.add_row(str(row.league), str(row.season), row.kind, "/" + row.endpoint, needed,
                      *(str(getattr(row, k)) for k in PLAN_COLUMNS[1:]))
    out = console(stderr=stderr)
    out.print(table)
    when = "nothing to do" if days == 0 else "never: the floor leaves no daily budget" if days is None else \
        f"{days} UTC day{'s' if days != 1 else ''}"
    out.print(f"{count_calls(preview.needed)} needed; {preview.available_today} available today at {preview.priority} "
              f"(then {preview.daily_budget} a day); takes {when}", markup=False, highlight=False)
    for note in preview.notes:
        out.print(f"note: {note}", markup=False, highlight=False)


def confirm(preview: Any, yes: bool) -> None:
    """Ask before spending (a terminal is needed to ask; --yes skips the question)."""
    if yes or preview.needed == 0:
        return
    if not sys.stdin.isatty():
        raise ConfigError(f"backfill: this plan needs {preview.needed} calls; add --yes to spend them without "
                          "a terminal, or --plan to only print the plan")
    render_preview(preview, False, stderr=True)
    typer.confirm(f"Spend up to {preview.needed} calls?", abort=True, err=True)


@contextmanager
def progress() -> Iterator[Any]:
    """A Rich progress bar on stderr when it is a terminal; else the library's log line per task."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn("backfill"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                  console=console(stderr=True), transient=True) as bar:
        task_id = bar.add_task("backfill", total=None, info="")
        state = {"done": 0, "rows": 0}

        def listen(event: Any) -> None:
            state["done"] += 1
            state["rows"] += event.rows
            bar.update(task_id, completed=state["done"], total=state["done"] + event.pending,
                       info=f"{event.calls} calls · {state['rows']} rows · {event.quota_left} quota left")

        yield listen


def render_report(report: Any, quota: Any, as_json: bool) -> None:
    """The run's summary; exit 75 at the quota floor (with when it resumes), 1 when a task failed."""
    summary = {"status": report.status, "done": report.done, "failed": report.failed, "calls": report.calls,
               "inserted": report.counts.inserted, "updated": report.counts.updated,
               "unchanged": report.counts.unchanged, "pending": report.pending,
               "resume_at": report.resume_at, "quota_remaining_today": quota.remaining_today,
               "error": report.error, "failures": report.failures}
    if as_json:
        write_json(summary)
    else:
        console().print(f"backfill {report.status}: {report.done} tasks done, {report.failed} failed, "
                        f"{report.calls} calls, {report.counts.inserted} rows new, {report.counts.updated} changed, "
                        f"{report.pending} tasks left; {count_calls(quota.remaining_today)} left today",
                        markup=False, highlight=False)
    err = console(stderr=True)
    for failure in report.failures[:10]:
        err.print(f"afc: backfill: {failure}", markup=False, highlight=False)
    if report.status == "quota":
        err.print(f"afc: backfill stopped: {report.error}; {report.pending} tasks left for "
                  "`afc backfill --resume`", markup=False, highlight=False)
        raise typer.Exit(EXIT_NOTHING_DONE)
    if report.status != "ok":
        raise typer.Exit(EXIT_FAILURE)
