"""The `afc` command line: each command parses options, calls one library function, renders."""

from __future__ import annotations

import errno
import logging
import os
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
from afc.cli.app import app, pipe_closed, report_line

# Writing the output failed: `afc quota > file` on a full disk or past a quota, not a bug of afc.
UNWRITABLE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}


def main() -> None:
    """Entry point of the `afc` console script."""
    # Under a non-UTF-8 locale (LANG=en_US.ISO-8859-1, PYTHONIOENCODING=ascii) a name or a dash the
    # terminal cannot show is escaped, not a UnicodeEncodeError traceback; stderr already does this.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    code: int | str | None = 0
    try:
        app()
    except SystemExit as done:
        code = done.code
    except OSError as exc:
        code = _unwritable(exc)
    try:
        sys.stdout.flush()  # what is still buffered fails here, not in a traceback at exit
    except OSError as exc:
        code = code or _unwritable(exc)
    sys.exit(code)


def _unwritable(exc: OSError) -> int:
    """One line for output that could not be written (the stream's buffer dropped, so exit stays quiet); a pipe
    whose reader has gone ends the process quietly by SIGPIPE."""
    if isinstance(exc, BrokenPipeError):
        pipe_closed()
    if exc.errno not in UNWRITABLE:
        raise exc
    report_line(logging.ERROR, f"cannot write {exc.filename or 'the output'}: {exc.strerror}")
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stays open to the end of the process
    return 1
