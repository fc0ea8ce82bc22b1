"""`afc coverage report` and `afc coverage gaps`: what the database holds versus what exists."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from afc.cli.app import DbOption, JsonOption, app, console, fail_unless, open_collector, shown_at, within, write_json
from afc.config.bounds import FIRST_SEASON, LAST_SEASON, MAX_ID
from afc.words import count_calls, plural

coverage_app = typer.Typer(no_args_is_help=True, help="What the database holds versus what exists.")
app.add_typer(coverage_app, name="coverage")

LeagueOption = Annotated[int | None, typer.Option("--league", callback=within(1, MAX_ID),
                                                  help="Only this league (a tracked one, "
                                                  "or any league together with --season).")]
SeasonOption = Annotated[int | None, typer.Option("--season", callback=within(FIRST_SEASON, LAST_SEASON),
                                                  help="Only this season (4-digit start year).")]
if TYPE_CHECKING:
    from rich.table import Table

    from afc.coverage import Coverage, CoverageReport, Gap

STYLES = {"ok": "green", "warning": "yellow", "critical": "bold red", "not_applicable": "dim"}


@coverage_app.command("report")
def report(league: LeagueOption = None, season: SeasonOption = None, db: DbOption = None,
           as_json: JsonOption = False) -> None:
    """Coverage per tracked league season and endpoint, worst first.

    Recomputes mart.coverage_status. Exits 1 when anything is below the critical threshold.
    """
    from afc.coverage import coverage_config, select
    from afc.marts.coverage import report as compute_report
    from afc.ops.guard import job_group, tracked

    collector = open_collector(db)
    coverage_config(collector.config)  # bad config or options are usage errors, not a failed run
    select(collector.config, collector.db, collector.now(), league, season)
    with job_group(collector, "coverage") as run, tracked(collector, run, "coverage_report", "coverage report"):
        result = compute_report(collector.db, collector.config, collector.now(), league, season)
    if as_json:
        write_json(result.as_dict())
    else:
        console().print(report_table(result, collector.settings.display_tz))
    fail_unless(not result.critical)


@coverage_app.command("gaps")
def gaps(league: LeagueOption = None, season: SeasonOption = None, db: DbOption = None,
         as_json: JsonOption = False) -> None:
    """What is missing, as the cheapest calls that would fill it and what they cost.

    `afc backfill --from-gaps` makes these calls.
    """
    from afc.coverage import gaps as find_gaps

    collector = open_collector(db)
    found = find_gaps(collector, collector.config, collector.now(), league, season)
    calls, available = sum(g.calls for g in found), collector.ledger.available("LOW")
    if as_json:
        write_json({"gaps": [g.as_dict() for g in found], "calls": calls, "available_low": available})
        return
    if found:
        console().print(gaps_table(found))
    console(stderr=True).print(f"{plural(len(found), 'gap')}, {count_calls(calls)}; {count_calls(available)} "
                               "available to LOW priority today", markup=False)


def _pct(value: float | None, figures: str = "") -> str:
    text = "—" if value is None else f"{value:.1f}%"
    return f"{text} {figures}".strip()


def _cells(row: Coverage) -> list[str]:
    from afc.coverage.gaps import minutes

    expected = "?" if row.expected is None else str(row.expected)
    if row.status == "not_applicable":
        return ["n/a", "", row.detail.get("reason", ""), "", ""]
    lag = f"{minutes(row.lag_minutes)}/{minutes(row.detail['max_lag_minutes'])}"
    raw = row.detail.get("raw_items")
    reached = f"{raw - row.detail['quarantined']}/{raw}" if raw is not None else ""
    return [row.status, _pct(row.overall_pct), _pct(row.count_pct, f"{row.held}/{expected}"),
            _pct(row.freshness_pct, lag if row.freshness_pct is not None else ""), _pct(row.pipeline_pct, reached)]


def report_table(result: CoverageReport, tz: str) -> Table:
    """The report as a Rich table coloured by status, with the figures behind each percentage."""
    from rich.table import Column, Table

    table = Table(Column("league", no_wrap=True, max_width=22, overflow="ellipsis"), "season", "endpoint",
                  "status", "overall", Column("count", min_width=16), "freshness", "pipeline",
                  title=f"coverage at {shown_at(result.computed_at, tz)}, worst first",
                  caption="count: held/expected · freshness: lag/allowed · pipeline: items in core/items in raw")
    for row in result.rows:
        name = result.league_names.get(row.league_id)
        league = f"{row.league_id} {name}" if name else str(row.league_id)
        table.add_row(league, str(row.season), row.endpoint, *_cells(row), style=STYLES[row.status])
    return table


def gaps_table(found: list[Gap]) -> Table:
    """Gaps as a Rich table: the calls each one needs and why."""
    from rich.table import Table

    table = Table("league", "season", "endpoint", "calls", "reason", "requests")
    for gap in found:
        shown = ", ".join(str(r) for r in gap.requests[:2]) or "planned from the fixture list"
        more = f" (+{len(gap.requests) - 2} more)" if len(gap.requests) > 2 else ""
        table.add_row(str(gap.league_id), str(gap.season), gap.endpoint, str(gap.calls), gap.reason, shown + more)
    return table
