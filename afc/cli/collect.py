"""`afc bootstrap`: collection commands and their summaries."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from afc.cli.app import DbOption, JsonOption, app, console, open_collector, write_json
from afc.errors import EXIT_FAILURE, EXIT_NOTHING_DONE


def report_rows(reports: list[Any]) -> list[dict[str, Any]]:
    """Job reports as plain dicts."""
    return [{"job": r.job_id, "status": r.status, "requests": r.requests, "calls": r.calls,
             "inserted": r.counts.inserted, "updated": r.counts.updated, "unchanged": r.counts.unchanged,
             "quarantined": r.quarantined, "error": r.error, "resume_at": getattr(r, "resume_at", None)}
            for r in reports]


def render_reports(reports: list[Any], quota: Any, as_json: bool) -> None:
    """Print the summary (table or JSON), then exit 1 on failure, 75 when the quota stopped it."""
    from afc.jobs.run import exit_status

    rows = report_rows(reports)
    left = {"used_today": quota.used_today, "remaining_today": quota.remaining_today}
    if as_json:
        write_json({"jobs": rows, "quota": left})
    else:
        from rich.table import Table

        table = Table(box=None)
        table.add_column("job", no_wrap=True)
        for name in ("status", "requests", "calls", "new", "changed", "same", "bad"):
            table.add_column(name, justify="right" if name != "status" else "left")
        for row in rows:
            table.add_row(*(str(row[k]) for k in ("job", "status", "requests", "calls", "inserted", "updated",
                                                  "unchanged", "quarantined")))
        out = console()
        out.print(table)
        out.print(f"quota: {quota.used_today} used today, {quota.remaining_today} left")
        for row in rows:
            if row["error"]:
                sys.stderr.write(f"afc: {row['job']}: {row['error']}\n")
    status = exit_status(reports)
    if status != "ok":
        raise typer.Exit(EXIT_FAILURE if status == "failed" else EXIT_NOTHING_DONE)


@app.command()
def bootstrap(
    target: Annotated[str, typer.Argument(help="timezone, countries, leagues, teams, venues or all.")] = "all",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Collect static reference data (dependencies first)."""
    from afc.jobs.bootstrap import select
    from afc.jobs.run import run_jobs
    from afc.ops.guard import job_group

    collector = open_collector(db, create=True)
    jobs = select(collector, target)  # a usage error is exit 2 even while another run holds the lock
    with job_group(collector, "bootstrap") as group:  # lock (exit 75 if held), then metrics and alerts
        reports = group.record(run_jobs(collector, jobs, f"bootstrap {target}"))
    render_reports(reports, collector.ledger.status(), as_json)
