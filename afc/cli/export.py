"""`afc export`: core and mart tables (and raw bodies) to Parquet, CSV or JSON Lines files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from afc.cli.app import DbOption, JsonOption, app, console, open_collector, settings, within, write_json
from afc.config.bounds import FIRST_SEASON, LAST_SEASON, MAX_ID
from afc.words import plural


@app.command("export")
def export_cmd(
    tables: Annotated[list[str], typer.Argument(
        metavar="TABLE|all",
        help="Tables (core.fixtures, mart.daily_fixtures, raw.responses as jsonl) or all: every core and mart table.")],
    out: Annotated[Path, typer.Option("--out", metavar="DIR",
                                      help="Directory; each table's files go into DIR/<layer>_<table>/.")],
    fmt: Annotated[str, typer.Option("--format", help="parquet, csv or jsonl.")] = "parquet",
    since: Annotated[str | None, typer.Option(help="Only rows changed after this UTC time (2026-11-28T12:00:00Z), "
                                              "or `last`: after the previous export to this directory.")] = None,
    league: Annotated[int | None, typer.Option(callback=within(1, MAX_ID), help="Only this league.")] = None,
    season: Annotated[int | None, typer.Option(callback=within(FIRST_SEASON, LAST_SEASON),
                                               help="Only this season, e.g. 2024.")] = None,
    db: DbOption = None, as_json: JsonOption = False,
) -> None:
    """Write tables' rows to files, incrementally on updated_at; each file appears whole."""
    from afc.clock import parse_clock
    from afc.export.run import ExportRequest, export, parse_since
    from afc.ops.guard import job_group, tracked

    now = parse_clock(settings(db).clock).now()
    request = ExportRequest(tuple(tables), fmt, out, parse_since(since, now), league, season)
    collector = open_collector(db)
    # The group's lock, then metrics and alerts; the run in ops.job_runs as job `export` (last success per job).
    with job_group(collector, "export") as run, tracked(collector, run, "export", "export"):
        report = export(collector.db, request, collector.clock)
    if as_json:
        write_json(report.as_dict())
        return
    for table in report.tables:
        note = f" ({table.note})" if table.note else ""
        console().print(f"{table.table}: {plural(table.rows, 'row')} → {table.file or 'nothing changed'}{note}",
                        markup=False, highlight=False)
    console(stderr=True).print(f"exported {plural(report.rows, 'row')} ({report.format}) in {report.seconds:.2f}s")
