"""Read-only SQL for assistants: the database itself refuses anything but one read.

This module is the security boundary of the MCP server. It never inspects the SQL text for
safety; the guarantees come from the database:

- SQLite (`afc.mcp.readonly_sqlite`): in a worker process killed at the deadline, the file is opened
  `mode=ro`; an authorizer allows only reads (no ATTACH, no PRAGMA except a few introspection
  ones, no writes to the temp schema, no dangerous functions); `execute()` takes exactly one
  statement; length, column and heap limits bound what one query may build.
- PostgreSQL: a fresh connection per query, `BEGIN READ ONLY`, timeouts, optionally
  `SET LOCAL ROLE` to a SELECT-only role, then the query as a named cursor (`DECLARE … CURSOR
  FOR`, sent with the extended protocol: one SELECT/VALUES statement and nothing else), always
  rolled back, and the connection closed so no session state (advisory locks, settings) survives.

Results are capped in rows, bytes and time, and converted to JSON-safe values (`afc.mcp.rows`); long
PostgreSQL values are clipped inside PostgreSQL, so none reaches this process whole. At most
MAX_CONCURRENT queries run at once per process (SQLite workers, PostgreSQL connections).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from afc.errors import AfcError
from afc.mcp.readonly_pg import Watchdog, clipping, describe, lenient_dates
from afc.mcp.rows import FETCH_BATCH, Collected, Limits, collect  # Limits is part of this module's interface

MAX_SQL_CHARS = 100_000
DEFAULT_LIMITS = Limits()  # the defaults, built once (a frozen value)

Params = Mapping[str, Any] | Sequence[Any] | None

MAX_CONCURRENT = 2  # queries one server process runs at once, all its sessions together: SQLite workers, PG backends
BUSY_WAIT_SECONDS = 2.0  # how long a further query waits for a free slot before it is answered "busy"
MAX_COLUMNS = 500  # result columns per query (both backends)
PG_GRACE_SECONDS = 0.5  # past the budget, the connection is cut (see afc.mcp.readonly_pg.Watchdog)
PG_FETCH_BYTES = 16 * 1024 * 1024  # most bytes of clipped values one PostgreSQL fetch may bring
_TIME_LIMIT = "query stopped at the time limit ({:g} s); narrow it with WHERE or LIMIT"
_slots = threading.BoundedSemaphore(MAX_CONCURRENT)


class QueryError(AfcError):
    """The database refused a read-only query, or a limit stopped it."""


@dataclass(frozen=True)
class ReadOnlyDb:
    """Where read-only queries go: an SQLite file, or a PostgreSQL URL and the role to run as."""

    backend: Literal["sqlite", "postgres"]
    location: str  # SQLite: the file path; PostgreSQL: the connection URL (may hold a password)
    role: str | None = None  # PostgreSQL: SET LOCAL ROLE to this before the query
    label: str = ""  # safe to print


@dataclass(frozen=True)
class QueryResult:
    """Columns and rows as JSON values, and whether a limit cut the result short."""

    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    truncated: bool
    elapsed_ms: int
    note: str | None = None


def run_query(target: ReadOnlyDb, sql: str, params: Params = None, limits: Limits = DEFAULT_LIMITS) -> QueryResult:
    """Run one read-only statement and return at most `limits` of its result."""
    _check_text(sql)
    started = time.monotonic()
    runner = _run_sqlite if target.backend == "sqlite" else _run_postgres
    with query_slot():
        columns, collected = runner(target, sql, params, limits)
    elapsed = int((time.monotonic() - started) * 1000)
    notes = [collected.stopped] if collected.stopped else []
    if collected.clipped:
        notes.append(f"{collected.clipped} values clipped to {limits.value_chars} characters")
    return QueryResult(columns, collected.rows, len(collected.rows),
                       bool(collected.stopped or collected.clipped), elapsed, "; ".join(notes) or None)


@contextmanager
def query_slot() -> Iterator[None]:
    """One of the server's few query slots; waits briefly, then answers "busy"."""
    if not _slots.acquire(timeout=BUSY_WAIT_SECONDS):
        raise QueryError(f"busy: {MAX_CONCURRENT} queries are already running on this server; "
                         "wait for one to finish and ask again")
    try:
        yield
    finally:
        _slots.release()


def _check_text(sql: str) -> None:
    """Input hygiene (not a safety check): size, NUL bytes and encodability."""
    if not sql.strip():
        raise QueryError("empty SQL: send one SELECT, WITH … SELECT, TABLE or VALUES statement")
    if len(sql) > MAX_SQL_CHARS:
        raise QueryError(f"SQL is {len(sql)} characters long; the limit is {MAX_SQL_CHARS}")
    if "\x00" in sql:
        raise QueryError("SQL contains a NUL character; remove it")
    try:
        sql.encode("utf-8")
    except UnicodeEncodeError:
        raise QueryError("SQL is not valid Unicode text (lone surrogate); resend it as UTF-8") from None


# --- SQLite ---------------------------------------------------------------------------------


def _run_sqlite(target: ReadOnlyDb, sql: str, params: Params, limits: Limits) -> tuple[list[str], Collected]:
    from afc.mcp.readonly_sqlite import run_in_worker

    path = Path(target.location).resolve()  # the worker runs in / : a relative path would miss
    if not path.is_file():
        raise QueryError(f"sqlite: cannot open {target.label or target.location} read-only: no such file")
    answer = run_in_worker(str(path), sql, _plain(params), limits)
    if "error" in answer:
        raise QueryError(answer["error"])
    return answer["columns"], Collected(answer["rows"], answer["stopped"], answer["clipped"])


def _plain(params: Params) -> Any:
    """Parameters as plain values for the worker (the same text SQLite's adapters would store)."""
    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        return value.isoformat() if isinstance(value, date) else value

    if params is None:
        return None
    if isinstance(params, Mapping):
        return {k: plain(v) for k, v in params.items()}
    return [plain(v) for v in params]


# --- PostgreSQL -----------------------------------------------------------------------------


def _run_postgres(target: ReadOnlyDb, sql: str, params: Params, limits: Limits) -> tuple[list[str], Collected]:
    import psycopg

    deadline = time.monotonic() + limits.seconds
    try:
        conn = psycopg.connect(target.location, connect_timeout=max(2, int(limits.seconds)),
                               application_name="afc-mcp")
    except psycopg.Error as exc:
        raise QueryError(f"postgresql: cannot connect to {target.label}: {_first_line(exc)}") from None
    conn.read_only = True  # every transaction starts BEGIN READ ONLY
    lenient_dates(conn)
    watchdog = Watchdog(conn, limits.seconds + PG_GRACE_SECONDS)
    try:
        with conn.transaction(force_rollback=True):
            return _query_postgres(conn, target, sql, params, limits, deadline)
    except psycopg.Error as exc:
        if watchdog.fired:
            raise QueryError("postgresql: " + _TIME_LIMIT.format(limits.seconds)) from None
        raise _postgres_error(exc, limits) from None
    finally:
        watchdog.stop()
        conn.close()


def _query_postgres(conn: Any, target: ReadOnlyDb, sql: str, params: Params, limits: Limits,
                    deadline: float) -> tuple[list[str], Collected]:
    from psycopg import sql as pgsql

    _arm(conn, target, limits, pgsql)

    def set_timeout(left: float) -> None:  # each statement may only use the time left
        if left <= 0:
            raise QueryError("postgresql: " + _TIME_LIMIT.format(limits.seconds))
        conn.execute(f"SET LOCAL statement_timeout = {max(1, int(left * 1000))}")

    described = describe(conn, sql, params)
    if len(described) > MAX_COLUMNS:
        raise QueryError(f"postgresql: the query returns {len(described)} columns; at most {MAX_COLUMNS} per query")
    clipped_sql, merge = clipping(sql, [oid for _, oid in described], limits.value_chars)
    width = max(1, len(described)) * limits.value_chars * 4  # UTF-8: up to 4 bytes a character
    set_timeout(deadline - time.monotonic())
    with conn.cursor(name="afc_query") as cur:
        cur.execute(clipped_sql, params)
        return [name for name, _ in described], collect(
            lambda n: [merge(row) for row in cur.fetchmany(n)], limits, deadline, set_timeout,
            batch=max(1, min(FETCH_BATCH, PG_FETCH_BYTES // width)))


def _arm(conn: Any, target: ReadOnlyDb, limits: Limits, pgsql: Any) -> None:
    """Timeouts, the restricted role, and a check that the transaction really is read-only."""
    ms = max(1, int(limits.seconds * 1000))
    setup = [f"SET LOCAL statement_timeout = {ms}", f"SET LOCAL lock_timeout = {min(ms, 1000)}",
             f"SET LOCAL idle_in_transaction_session_timeout = {ms + 5000}"]
    if target.role:
        setup.append(pgsql.SQL("SET LOCAL ROLE {}").format(pgsql.Identifier(target.role)).as_string(conn))
    conn.execute("; ".join(setup))  # our own text only; one round trip
    read_only, user = conn.execute("SELECT current_setting('transaction_read_only'), current_user").fetchone()
    if read_only != "on" or (target.role and user != target.role):
        raise QueryError(f"postgresql: refusing to run: transaction_read_only={read_only}, role={user}")


def _postgres_error(exc: Exception, limits: Limits) -> QueryError:
    import psycopg.errors as pe

    text = _first_line(exc)
    if isinstance(exc, pe.QueryCanceled):
        return QueryError("postgresql: " + _TIME_LIMIT.format(limits.seconds))
    if isinstance(exc, pe.SyntaxError):
        return QueryError(f"postgresql: {text} (db_query runs exactly one read-only SELECT, "
                          "WITH … SELECT, TABLE or VALUES statement)")
    return QueryError(f"postgresql: {text}")


def _first_line(exc: Exception) -> str:
    from afc.redact import sanitize

    text = str(exc).strip()
    return sanitize(text.splitlines()[0]) if text else type(exc).__name__


def run_afc_sql(target: ReadOnlyDb, sql: str, params: Params = None, limits: Limits = DEFAULT_LIMITS) -> QueryResult:
    """Run afc's own SQL (PostgreSQL dialect, `core.x` names) through the same read-only path."""
    if target.backend == "sqlite":
        from afc.db.sqlite import translate  # also registers the datetime adapters

        sql = translate(sql)
    return run_query(target, sql, params, limits)


def as_dicts(result: QueryResult) -> list[dict[str, Any]]:
    """The rows of a result as dicts keyed by column name."""
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]
