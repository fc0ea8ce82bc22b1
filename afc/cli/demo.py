"""`afc demo`: run the whole collector against the built-in sandbox, no key needed."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from afc.cli.app import DbOption, JsonOption, app, console, settings, write_json


@app.command()
def demo(
    db: DbOption = None,
    quick: Annotated[bool, typer.Option("--quick", help="A shorter run (CI smoke test).")] = False,
    as_json: JsonOption = False,
) -> None:
    """Serve the sandbox and collect from it: bootstrap, backfill, daily, live loop, coverage.

    Writes to demo.db in the data directory (never your collector's database) unless --db is given.
    """
    from afc.demo import default_demo_db, run_demo

    conf = settings(db)
    conf = settings(db or default_demo_db(conf))
    report = run_demo(conf, quick=quick, say=_say)
    if as_json:
        write_json({"database": report.database, "steps": dict(report.steps), "rows": report.rows,
                    "calls": report.calls, "seconds": round(report.seconds, 1)})
        return
    out = console()
    out.print(f"\nCollected into {report.database} in {report.seconds:.0f} s with {report.calls} sandbox calls:")
    for table, count in report.rows.items():
        out.print(f"  {table:28} {count:>8}")
    out.print(f"\nLook around:\n  afc coverage report --db {report.database}\n"
              f"  afc quota --db {report.database}\n  afc mcp stdio --db {report.database}   (for an AI assistant)")


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
