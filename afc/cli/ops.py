"""`afc quota` and `afc jobs`: look at the ledger and the job registry."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from afc.cli.app import DbOption, JsonOption, app, console, open_collector, settings, shown_at, write_json
from afc.words import count_calls

jobs_app = typer.Typer(no_args_is_help=True, help="List, validate and plan the jobs in jobs/*.yaml.")
app.add_typer(jobs_app, name="jobs")
JobsDirOption = Annotated[str | None, typer.Option("--jobs-dir", help="Jobs directory; default AFC_JOBS_DIR.")]


@app.command()
def quota(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show today's quota: used, left, this minute, the priority floors, the reset time."""
    collector = open_collector(db)
    status, tz = collector.ledger.status(), collector.settings.display_tz
    if as_json:
        write_json(asdict(status))
        return
    out = console()
    out.print(f"account {status.account}, {status.day} (UTC): {status.used_today}/{status.daily_limit} used, "
              f"{status.remaining_today} left" + (" — exhausted" if status.exhausted else "")
              + (f" — parked until {shown_at(status.parked_until, tz, seconds=True)} (a \"spent\" answer just "
                 "after midnight)" if status.parked_until else ""))
    out.print(f"this minute: {status.used_this_minute}/{status.minute_limit}")
    out.print("floors: " + ", ".join(f"{p} {n}" for p, n in status.floors.items()))
    out.print(f"resets at {shown_at(status.resets_at, tz)}")


@jobs_app.command("list")
def jobs_list(jobs_dir: JobsDirOption = None, as_json: JsonOption = False) -> None:
    """List every job with its type, endpoint, priority and schedule."""
    from afc.config.jobs import load

    config = load(settings(jobs_dir=jobs_dir).jobs_dir)
    rows = [j.model_dump(include={"job_id", "type", "enabled", "priority", "endpoint", "for_each", "schedule"})
            for j in config.ordered()]
    if as_json:
        write_json(rows)
        return
    from rich.table import Table

    table = Table("job", "type", "enabled", "priority", "endpoint", "for each", "schedule")
    for r in rows:
        table.add_row(r["job_id"], r["type"], str(r["enabled"]), r["priority"], "/" + r["endpoint"],
                      r["for_each"] or "", r["schedule"] or "")
    console().print(table)


@jobs_app.command("validate")
def jobs_validate(jobs_dir: JobsDirOption = None) -> None:
    """Check every job file and section; one line naming file, job and field on the first error."""
    from afc.config.jobs import load
    from afc.config.validate import validate

    config = load(settings(jobs_dir=jobs_dir).jobs_dir)
    validate(config)
    console(stderr=True).print(f"{config.directory}: {len(config.jobs)} jobs, "
                               f"{len(config.tracked)} tracked leagues: ok")


@jobs_app.command("plan")
def jobs_plan(job: Annotated[str, typer.Argument(help="A job_id from `afc jobs list`, or live_loop (today's "
                                                   "match day: calls per kind).")],
              db: DbOption = None, as_json: JsonOption = False) -> None:
    """Print the requests a job would make now and the calls they cost, without making them."""
    from afc.jobs.dry_run import dry_run
    from afc.live.loop import JOB_ID

    if job == JOB_ID:
        from afc.cli.live import show_plan

        show_plan(db, None, None, as_json)
        return

    plan = dry_run(open_collector(db), job)
    if as_json:
        write_json(asdict(plan))
        return
    out = console()
    for line in plan.requests:
        out.print(f"  {line.request}  ~{line.calls} call{'s' if line.calls != 1 else ''}"
                  + (" (paged; estimated from the last run)" if line.paged else ""), markup=False)
    out.print(f"{plan.job_id}: {len(plan.requests)} requests, ~{count_calls(plan.calls)} at {plan.priority}; "
              f"{count_calls(plan.available)} available to {plan.priority} today")
    if plan.note:
        out.print(plan.note, markup=False)
