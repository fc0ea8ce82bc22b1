"""Read-only SQL for assistants: the database itself refuses anything but one read.

This module is the security boundary of the MCP server. It never inspects the SQL text for
safety; the guarantees come from the database:

- SQLite: the file is opened `mode=ro`; an authorizer allows only reads (no ATTACH, no PRAGMA
  except a few introspection ones, no writes to the temp schema, no dangerous functions);
  `execute()` takes exactly one statement; a progress handler enforces the time budget.
- PostgreSQL: a fresh connection per query, `BEGIN READ ONLY`, timeouts, optionally
  `SET LOCAL ROLE` to a SELECT-only role, then the query as a named cursor (`DECLARE … CURSOR
  FOR`, sent with the extended protocol: one SELECT/VALUES statement and nothing else), always
  rolled back, and the connection closed so no session state (advisory locks, settings) survives.

Results are capped in rows, bytes and time, and converted to JSON-safe values (`afc.mcp.rows`).
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from afc.errors import AfcError
from afc.mcp.rows import Collected, Limits, collect  # Limits is part of this module's interface

MAX_SQL_CHARS = 100_000
DEFAULT_LIMITS = Limits()  # the defaults, built once (a frozen value)
SQLITE_MAX_LENGTH = 16 * 1024 * 1024  # largest string or blob SQLite may build for a query

Params = Mapping[str, Any] | Sequence[Any] | None

# SQLite authorizer: reads only. json_each/json_tree and pragma_* table-valued functions declare
# their virtual table, which SQLite authorizes as an UPDATE of main.sqlite_master: harmless on a
# mode=ro file, and any real UPDATE of sqlite_master also needs PRAGMA writable_schema (denied).
_SQLITE_ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                   sqlite3.SQLITE_RECURSIVE}
_SQLITE_PRAGMAS = {"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo",
                   "foreign_key_list"}
_SQLITE_FUNCTIONS_DENIED = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer",
                            "sqlite_dbpage", "zipfile", "sqlar_compress", "sqlar_uncompress"}
_LAYER_NAME = re.compile(r"no such table: (raw|core|mart|ops)\.(\w+)")


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
    columns, collected = runner(target, sql, params, limits)
    elapsed = int((time.monotonic() - started) * 1000)
    notes = [collected.stopped] if collected.stopped else []
    if collected.clipped:
        notes.append(f"{collected.clipped} values clipped to {limits.value_chars} characters")
    return QueryResult(columns, collected.rows, len(collected.rows),
                       bool(collected.stopped or collected.clipped), elapsed, "; ".join(notes) or None)


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


def _authorize(action: int, arg1: str | None, arg2: str | None, db_name: str | None,
               _trigger: str | None) -> int:
    """Allow reads of the database and harmless functions; deny everything else."""
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_DENY if (arg2 or "").lower() in _SQLITE_FUNCTIONS_DENIED else sqlite3.SQLITE_OK
    if action in _SQLITE_ALLOWED:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in _SQLITE_PRAGMAS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master" and db_name == "main":
        return sqlite3.SQLITE_OK  # a table-valued function declaring its virtual table (see above)
    return sqlite3.SQLITE_DENY


def sqlite_connect(path: str, limits: Limits) -> sqlite3.Connection:
    """A read-only SQLite connection with the authorizer, the limits and the time budget armed."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=limits.seconds)
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, SQLITE_MAX_LENGTH)
    conn.execute("PRAGMA query_only = ON")
    conn.set_authorizer(_authorize)
    return conn


def _run_sqlite(target: ReadOnlyDb, sql: str, params: Params, limits: Limits) -> tuple[list[str], Collected]:
    deadline = time.monotonic() + limits.seconds
    try:
        conn = sqlite_connect(target.location, limits)
    except sqlite3.Error as exc:
        raise QueryError(f"sqlite: cannot open {target.label or target.location} read-only: {exc}") from None
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 2_000)
    try:
        cur = conn.execute(sql, params or ())
        columns = [d[0] for d in cur.description or ()]
        return columns, collect(cur.fetchmany, limits, deadline)
    except (sqlite3.Error, OverflowError, ValueError) as exc:
        raise _sqlite_error(exc, limits) from None
    finally:
        conn.close()


def _sqlite_error(exc: Exception, limits: Limits) -> QueryError:
    text = str(exc)
    if text == "interrupted":
        return QueryError(f"sqlite: query stopped at the time limit ({limits.seconds:g} s); "
                          "narrow it with WHERE or LIMIT")
    if "not authorized" in text or "authorization denied" in text:
        return QueryError(f"sqlite: {text}: only reads are allowed (one SELECT, WITH … SELECT or VALUES)")
    if "one statement at a time" in text:
        return QueryError("sqlite: send exactly one statement (no ';' followed by more SQL)")
    hint = _LAYER_NAME.search(text)
    if hint:
        return QueryError(f"sqlite: {text}; on SQLite the table is named {hint[1]}_{hint[2]}")
    return QueryError(f"sqlite: {text}")


# --- PostgreSQL -----------------------------------------------------------------------------


def _run_postgres(target: ReadOnlyDb, sql: str, params: Params, limits: Limits) -> tuple[list[str], Collected]:
    import psycopg
    from psycopg import sql as pgsql

    deadline = time.monotonic() + limits.seconds
    try:
        conn = psycopg.connect(target.location, connect_timeout=max(2, int(limits.seconds)),
                               application_name="afc-mcp")
    except psycopg.Error as exc:
        raise QueryError(f"postgresql: cannot connect to {target.label}: {_first_line(exc)}") from None
    conn.read_only = True  # every transaction starts BEGIN READ ONLY
    try:
        with conn.transaction(force_rollback=True):
            _arm(conn, target, limits, pgsql)

            def set_timeout(left: float) -> None:
                conn.execute(f"SET LOCAL statement_timeout = {max(1, int(left * 1000))}")

            with conn.cursor(name="afc_query") as cur:
                cur.execute(sql, params)
                columns = [d.name for d in cur.description or ()]
                return columns, collect(cur.fetchmany, limits, deadline, set_timeout)
    except psycopg.Error as exc:
        raise _postgres_error(exc, limits) from None
    finally:
        conn.close()


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
        return QueryError(f"postgresql: query stopped at the time limit ({limits.seconds:g} s); "
                          "narrow it with WHERE or LIMIT")
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
