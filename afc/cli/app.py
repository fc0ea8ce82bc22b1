"""The Typer application, the error boundary and the options every command shares."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import sys
import threading
from datetime import datetime
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from afc.errors import EXIT_FAILURE, EXIT_NOTHING_DONE, AfcError
from afc.redact import one_line


class AfcGroup(TyperGroup):
    """Turns afc's own errors into one line on stderr and their exit code; no traceback."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Outside a terminal, help and usage errors are plain whole lines, not a box cut at 80 columns."""
        if not (sys.stdout.isatty() and sys.stderr.isatty()):
            _plain(self)
        return super().main(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        _stop_on_sigterm()
        try:
            return self._reported(ctx)
        except BrokenPipeError as exc:  # click would exit 1 (its own handler)
            if output_gone():  # a line would go nowhere either
                pipe_closed()
            report_line(logging.ERROR, f"a connection closed while afc wrote to it ({exc.strerror or exc})")
            raise typer.Exit(1) from None

    def _reported(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except AfcError as exc:
            report_line(logging.WARNING if exc.exit_code == EXIT_NOTHING_DONE else logging.ERROR, one_line(str(exc)))
            raise typer.Exit(exc.exit_code) from None
        except Terminated:
            report_line(logging.WARNING, "terminated (SIGTERM)")
            _die_of(signal.SIGTERM)
            raise
        except KeyboardInterrupt:
            report_line(logging.WARNING, "interrupted")
            raise typer.Exit(130) from None


def report_line(level: int, message: str) -> None:
    """The command's last word: `afc: message` on stderr; in the journal, a log record like every other line (one
    JSON object, its priority set), so `journalctl -p err` finds it and `jq` does not stop at it."""
    from afc.cli.logs import under_journald

    if under_journald():
        logging.getLogger("afc").log(level, "%s", message)
    else:
        sys.stderr.write(f"afc: {message}\n")


class Terminated(KeyboardInterrupt):
    """SIGTERM (systemctl stop, a timeout): raised where the process is, like Ctrl-C, so that the transaction in
    flight rolls back and the run is closed as interrupted; the default action left it 'running' until the next
    run found its pid gone, and skipped the group's metrics and alerts."""


def _stop_on_sigterm() -> None:
    """Raise Terminated on SIGTERM, unless a command set its own handler (live-loop and notify stop at a sleep)."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_terminated)


def _raise_terminated(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    raise Terminated


def output_gone() -> bool:
    """Whether stdout or stderr is a pipe whose reader has gone (poll marks its write end with an error): a broken
    pipe from anything else (a socket) is an error to report, not the end of a pipeline."""
    import select

    poller = select.poll()
    for fd in (1, 2):
        poller.register(fd, select.POLLOUT)
    try:
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except OSError:
        return False


def pipe_closed() -> None:
    """Output into a pipe its reader closed early (`afc coverage report | head -1`): end as a coreutils program does,
    killed by SIGPIPE (141 in a shell; systemd counts it a clean exit), with nothing on stderr. Whatever is still
    buffered goes to /dev/null, so the interpreter's last flush has no "Exception ignored … BrokenPipeError" to say.
    A collecting command's run was closed (and the response in flight rolled back) as the error passed through it."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, stream.fileno())
    _die_of(signal.SIGPIPE)


def _die_of(signum: int) -> None:
    """End by the signal itself, as its default action would (status 143 in a shell; a clean stop for systemd)."""
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _plain(command: Any) -> None:
    """Every command's help plain: each sub-command renders its own `--help` (`afc db status --help`)."""
    command.rich_markup_mode = None
    for sub in getattr(command, "commands", {}).values():
        _plain(sub)


app = typer.Typer(
    cls=AfcGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    help="Collect API-Football v3 into SQLite or PostgreSQL without blowing your quota.\n\n"
    "Exit codes: 0 ok, 1 failure, 2 usage or configuration error, "
    "75 nothing done (quota exhausted or another run holds the lock).",
)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (sqlite:////abs/path.db or postgresql://...); default AFC_DATABASE_URL."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Write JSON to stdout instead of a table.")]


@app.callback()
def main_options(
    verbose: Annotated[int, typer.Option("-v", "--verbose", count=True, help="More log lines (-vv: debug).")] = 0,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Only warnings and errors.")] = False,
) -> None:
    """Collect API-Football v3 into SQLite or PostgreSQL without blowing your quota."""
    from afc.cli import logs

    level = logging.WARNING if quiet else logging.DEBUG if verbose > 1 else logging.INFO
    from afc.config.settings import read_credentials_key

    key = os.environ.get("API_FOOTBALL_KEY", "")
    credential = read_credentials_key(os.environ, check=False) or ""  # under systemd the key comes from LoadCredential=
    logs.setup(level, os.environ.get("AFC_LOG_FORMAT", "auto"), secrets=[key, credential])


def settings(db: str | None = None, **overrides: Any) -> Any:
    """Settings from the environment with this command's flags on top."""
    from afc.config.settings import load_settings

    return load_settings(database_url=db, **overrides)


def open_collector(db: str | None = None, *, create: bool = False, **overrides: Any) -> Any:
    """A Collector for this command (migrating the database). Only `db migrate` and the commands that collect pass
    `create`: a command that reads must not leave an empty database behind a mistyped --db (DatabaseMissing,
    exit 2)."""
    from afc.collect.collector import Collector

    return Collector.open(settings(db, **overrides), create=create)


def shown_at(moment: datetime, tz: str, *, seconds: bool = False) -> str:
    """A timestamp as a person reads it: in the display zone (AFC_DISPLAY_TZ) with its abbreviation,
    `2026-03-29 02:30 BST`; `2026-03-29 01:30 UTC` when none is set. --json output stays UTC."""
    from zoneinfo import ZoneInfo

    return f"{moment.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M{':%S' if seconds else ''} %Z}"


def write_json(value: Any) -> None:
    """Data to stdout as JSON, never through Rich's wrapping."""
    import json

    sys.stdout.write(json.dumps(value, default=str, indent=2) + "\n")


# Outside a terminal (cron mail, journald, a pipe) no screen limits a line: Rich's default of 80
# columns would cut table cells to `fixtu…` and break error lines mid-command.
UNBOUNDED_WIDTH = 1_000_000


def console(stderr: bool = False) -> Any:
    """The one Rich console every command prints through: terminal-sized on a terminal, never cutting elsewhere."""
    from rich.console import Console

    class ShownConsole(Console):
        def print(self, *objects: Any, **kwargs: Any) -> None:
            kwargs.setdefault("markup", False)  # messages quote the API's text: markup only where asked for
            super().print(*(shown(o) for o in objects), **kwargs)

        def on_broken_pipe(self) -> None:
            """Rich's own exits 1 at once; the error goes up instead, closing a collecting run on its way to
            `pipe_closed`."""
            self.quiet = True
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    if (sys.stderr if stderr else sys.stdout).isatty():
        return ShownConsole(stderr=stderr)

    class UncutConsole(ShownConsole):
        def print(self, *objects: Any, **kwargs: Any) -> None:
            super().print(*(uncut(o) for o in objects), **kwargs)

    return UncutConsole(stderr=stderr, width=UNBOUNDED_WIDTH, soft_wrap=True)


def shown(renderable: Any) -> Any:
    """A table whose text (cells, title) is shown as written: never read as Rich markup — a name from the API such
    as '[/x]' raised MarkupError — and with control characters escaped; anything else unchanged. A copy built with
    Rich's public API (`Column.copy`, `Table.add_row`), not by rewriting its private cell lists."""
    import copy

    from rich.table import Table
    from rich.text import Text

    if not isinstance(renderable, Table):
        return renderable
    safe = copy.copy(renderable)
    if isinstance(safe.title, str):
        safe.title = Text(one_line(safe.title))
    cells = zip(*(column.cells for column in renderable.columns), strict=True)
    safe.columns, safe.rows = [column.copy() for column in renderable.columns], []
    for row, values in zip(renderable.rows, cells, strict=True):
        safe.add_row(*(Text(one_line(v)) if isinstance(v, str) else v for v in values), style=row.style,
                     end_section=row.end_section)
    return safe


def uncut(renderable: Any) -> Any:
    """A table with every cell whole (no max width, ellipsis or fixed width); anything else unchanged."""
    from rich.table import Table

    if isinstance(renderable, Table):
        renderable.expand, renderable.width = False, None
        for column in renderable.columns:
            column.max_width, column.width, column.ratio = None, None, None
            column.overflow, column.no_wrap = "fold", True
    return renderable


def within(low: float, high: float) -> Any:
    """A Typer callback refusing a number outside [low, high] (NaN, infinity) in one line, exit 2, at parse."""
    from afc.config.bounds import check_number

    def check(param: typer.CallbackParam, value: Any) -> Any:
        return value if value is None else check_number(max(param.opts, key=len), value, low, high)

    return check


def fail_unless(ok: bool, code: int = EXIT_FAILURE) -> None:
    """Exit with `code` when `ok` is false."""
    if not ok:
        raise typer.Exit(code)
