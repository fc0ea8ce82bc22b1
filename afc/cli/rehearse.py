"""`afc rehearse`: the installed schedule for simulated days against the sandbox; which plan do I need?"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from afc.cli.app import JsonOption, app, console, fail_unless, settings, write_json

RehearsalDb = Annotated[str | None, typer.Option("--db", help="Database to rehearse into (default: a throwaway "
                                                "SQLite file in the data directory, printed at the end).")]


@app.command()
def rehearse(
    days: Annotated[int, typer.Option("--days", help="Simulated days to run.")] = 7,
    plan: Annotated[str, typer.Option("--plan", help="free, pro, ultra or mega.")] = "pro",
    jobs: Annotated[Path | None, typer.Option(
        "--jobs", help="Jobs directory (default: AFC_JOBS_DIR, else the shipped jobs).")] = None,
    leagues: Annotated[str | None, typer.Option("--leagues", help="League ids to track instead, e.g. 39,140.")] = None,
    start: Annotated[str, typer.Option("--start", help="Simulated start, UTC.")] = "2026-08-15T00:00Z",
    faults: Annotated[str, typer.Option("--faults", help="none, typical or harsh.")] = "none",
    skew: Annotated[str, typer.Option(
        "--skew", help="Host clocks off by this much, e.g. 30s (hosts alternate +/-).")] = "0s",
    hosts: Annotated[int, typer.Option("--hosts", help="Collector hosts sharing one ledger.")] = 1,
    db: RehearsalDb = None,
    as_json: JsonOption = False,
) -> None:
    """Run the rendered schedule for N simulated days against the sandbox and say whether the plan suffices.

    Exit 0 when every day kept within the limit, no day was lost, nothing crashed and coverage reached
    its target; 1 otherwise, with the reasons.
    """
    from afc.rehearse import Options
    from afc.rehearse import rehearse as run
    from afc.rehearse.options import parse_leagues, parse_skew, parse_start

    options = Options(days=days, plan=plan, jobs_dir=jobs, leagues=parse_leagues(leagues), start=parse_start(start),
                      faults=faults, skew=parse_skew(skew), hosts=hosts, db_url=db)
    with _progress(days) as advance:
        report = run(options, settings(), progress=advance)
    if as_json:
        write_json(report.as_dict())
    else:
        _render(report)
    fail_unless(report.ok)


def _progress(days: int) -> Any:
    """A Rich progress bar on a terminal; one line per day otherwise (both on stderr)."""
    from contextlib import contextmanager

    @contextmanager
    def bar() -> Any:
        if not sys.stderr.isatty():
            yield lambda i, n, day: sys.stderr.write(f"afc rehearse: day {i}/{n} {day.day}: {day.calls} calls, "
                                                     f"coverage {day.coverage_pct:.1f} %\n")
            return
        from rich.progress import Progress

        with Progress(console=console(stderr=True), transient=True) as progress:
            task = progress.add_task("rehearsing", total=days)
            yield lambda i, n, day: progress.update(task, completed=i, description=f"{day.day}")

    return bar()


def _render(report: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    count = len(report.days)
    table = Table(title=f"afc rehearse: {report.plan}, {count} day{'' if count == 1 else 's'}")
    for name in ("day", "calls", "limit", "peak min", "sandbox", "by group", "failures", "coverage", "lost"):
        table.add_column(name, justify="left" if name in ("day", "by group", "failures") else "right",
                         no_wrap=name not in ("by group", "failures"))
    for day in report.days:
        table.add_row(str(day.day), f"{day.calls:,}", f"{day.limit:,}", str(day.peak_minute), f"{day.sandbox_calls:,}",
                      _pairs(day.by_group), _pairs(day.failures) or "-", f"{day.coverage_pct:.1f} %",
                      "LOST" if day.lost else "")
    out = console()
    out.print(table)
    totals = report.totals()
    out.print(f"total {totals['calls']:,} calls (sandbox {totals['sandbox_calls']:,}); peak RSS "
              f"{report.peak_rss_mb:.0f} MB; {report.wall_seconds:.0f} s ({report.cpu_seconds:.0f} s CPU)",
              markup=False)
    for reason in report.reasons:
        out.print(f"  - {reason}", markup=False)
    out.print(("[green]" if report.ok else "[bold red]") + escape(report.verdict), markup=True)
    out.print(f"database: {report.database}  (afc quota / afc coverage report / afc mcp stdio --db …)", markup=False)


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
