"""The `afc` command line: each command parses options, calls one library function, renders."""

from __future__ import annotations

import sys

# Each module adds its commands to `app` on import.
from afc.cli import (  # noqa: E402,F401
    admin,  # noqa: E402,F401
    backfill,
    collect,
    coverage,  # noqa: E402,F401
    daily,
    db,
    demo,  # noqa: E402,F401
    export,  # noqa: E402,F401
    history,  # noqa: E402,F401
    live,  # noqa: E402,F401
    mcp,  # noqa: E402,F401
    notify,  # noqa: E402,F401
    ops,
    rebuild,  # noqa: E402,F401
    rehearse,
    sandbox,
)
from afc.cli.app import app


def main() -> None:
    """Entry point of the `afc` console script."""
    # Under a non-UTF-8 locale (LANG=en_US.ISO-8859-1, PYTHONIOENCODING=ascii) a name or a dash the
    # terminal cannot show is escaped, not a UnicodeEncodeError traceback; stderr already does this.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    app()
