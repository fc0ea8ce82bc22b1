"""The Typer application and the options every command shares."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    help="Collect API-Football v3 into SQLite or PostgreSQL without blowing your quota.\n\n"
    "Exit codes: 0 ok, 1 failure, 2 usage or configuration error, "
    "75 nothing done (quota exhausted or another run holds the lock).",
)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (sqlite:///path or postgresql://...); default AFC_DATABASE_URL."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Write JSON to stdout instead of a table.")]
