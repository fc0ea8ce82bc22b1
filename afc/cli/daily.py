"""`afc daily`: today's fixtures, details, standings, injuries, odds and a sweep of stale fixtures."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer

from afc.cli.app import DbOption, JsonOption, app, console, open_collector, write_json
from afc.cli.collect import render_reports
from afc.words import count_calls


def render_plans(plans: list[Any], as_json: bool) -> None:
    """The dry run: each job's requests and estimated calls."""
    if as_json:
        write_json({"jobs": [asdict(p) for p in plans], "calls": sum(p.calls for p in plans)})
        return
    out = console()
    for plan in plans:
        out.print(f"{plan.job_id}: {len(plan.requests)} requests, ~{count_calls(plan.calls)} at {plan.priority} "
                  f"({plan.available} available)", markup=False)
        for line in plan.requests:
            out.print(f"  {line.request}  ~{line.calls} call{'s' if line.calls != 1 else ''}", markup=False)
        if plan.note:
            out.print(f"  {plan.note}", markup=False)
    out.print(f"total: ~{count_calls(sum(p.calls for p in plans))}", markup=False)


@app.command()
def daily(
    db: DbOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the requests and calls it would make.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Collect today's work: fixtures by date, finished details, standings, injuries, odds, a sweep."""
    from afc.jobs.daily import daily as run
    from afc.jobs.daily import plan

    collector = open_collector(db, create=True)
    if dry_run:
        render_plans(plan(collector), as_json)
        return
    from afc.ops.guard import job_group

    with job_group(collector, "daily") as group:  # the group lock, then metrics and alerts
        reports = group.record(run(collector))
    render_reports(reports, collector.ledger.status(), as_json)
