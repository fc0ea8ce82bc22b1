"""The `afc` command line: each command parses options, calls one library function, renders."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sys
from typing import Any, TextIO, cast

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

# Writing the output failed: `afc quota > file` on a full disk or past a quota, or stdout closed (`>&-`, held
# read-only by _hold_closed), not a bug of afc.
UNWRITABLE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EBADF}
STREAMS = (("stdin", os.O_RDONLY, "r"), ("stdout", os.O_RDONLY, "w"), ("stderr", os.O_WRONLY, "w"))


def main() -> None:
    """Entry point of the `afc` console script."""
    _hold_closed()
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


def _hold_closed() -> None:
    """A standard stream closed at start (`afc quota 2>&-`, `>&-`) is None in Python, and its descriptor went to the
    next file afc opened (the SQLite database, where a diagnostic would then be written). Each is held on /dev/null:
    lines for a closed stderr go nowhere, as a coreutils program's do; a closed stdout is held read-only, so writing
    output fails as unwritable (one line, exit 1) and a command that writes none is unaffected."""
    for fd, (name, flags, mode) in enumerate(STREAMS):
        if getattr(sys, name) is None:
            held = os.open(os.devnull, flags)
            if held != fd:
                os.dup2(held, fd)
                os.close(held)
            setattr(sys, name, open(fd, mode, closefd=False))  # noqa: SIM115 - the process's own stream
    sys.stderr = cast(TextIO, Diagnostics(sys.stderr))


class Diagnostics:
    """stderr whose lines that cannot be written (`2>/dev/full`) are lost, as a coreutils program's are: the exit
    code still tells the outcome (a usage error's 2, a held lock's 75), not 1 for the failed write."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        with contextlib.suppress(OSError):
            return self.stream.write(text)  # line-buffered: the line is flushed, and fails, here
        return len(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError):
            self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


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
