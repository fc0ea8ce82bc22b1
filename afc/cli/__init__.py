"""The `afc` command line: each command parses options, calls one library function, renders."""

from __future__ import annotations

from afc.cli.app import app

# Each module adds its commands to `app` on import.
from afc.cli import backfill, collect, daily, db, ops, sandbox  # noqa: E402,F401
from afc.cli import coverage  # noqa: E402,F401
from afc.cli import mcp  # noqa: E402,F401
from afc.cli import live  # noqa: E402,F401
from afc.cli import admin  # noqa: E402,F401
from afc.cli import rebuild  # noqa: E402,F401
from afc.cli import demo  # noqa: E402,F401
from afc.cli import rehearse  # noqa: E402,F401


def main() -> None:
    """Entry point of the `afc` console script."""
    app()
