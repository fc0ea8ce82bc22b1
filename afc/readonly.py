"""Read-only SQL for assistants: the database itself refuses anything but one read.

This module is the security boundary of the MCP server. It never inspects the SQL text for
safety; the guarantees come from the database:

- SQLite (`afc.readonly_sqlite`): in a worker process killed at the deadline, the file is opened
  `mode=ro`; an authorizer allows only reads (no ATTACH, no PRAGMA except a few introspection
  ones, no writes to the temp schema, no dangerous functions); `execute()` takes exactly one
  statement; length, column and heap limits bound what one query may build.
- PostgreSQL: a fresh connection per query, `BEGIN READ ONLY`, timeouts, optionally
  `SET LOCAL ROLE` to a SELECT-only role, then the query as a named cursor (`DECLARE … CURSOR
  FOR`, sent with the extended protocol: one SELECT/VALUES statement and nothing else), always
  rolled back, and the connection closed so no session state (advisory locks, settings) survives.

Results are capped in rows, bytes and time, and converted to JSON-safe values (`afc.rows`); long
PostgreSQL values are clipped inside PostgreSQL, so none reaches this process whole. At most
MAX_CONCURRENT queries run at once per process (SQLite workers, PostgreSQL connections).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from afc.errors import AfcError
from afc.rows import FETCH_BATCH, Collected, Limits, collect  # Limits is part of this module's interface

MAX_SQL_CHARS = 100_000

Params = Mapping[str, Any] | Sequence[Any] | None

MAX_CONCURRENT = 2  # queries one server (one MCP session) runs at once: SQLite workers, PostgreSQL backends
BUSY_WAIT_SECONDS = 2.0  # how long a further query waits for a free slot before it is answered "busy"
MAX_COLUMNS = 500  # result columns per query (both backends)
PG_GRACE_SECONDS = 0.5  # past the budget, the connection is cut (see _Watchdog)
PG_FETCH_BYTES = 16 * 1024 * 1024  # most bytes of clipped values one PostgreSQL fetch may bring
_TIME_LIMIT = "query stopped at the time limit ({:g} s); narrow it with WHERE or LIMIT"
_slots = threading.BoundedSemaphore(MAX_CONCURRENT)


class QueryError(AfcError):
    """The database refused a read-only query, or a limit stopped it."""


@dataclass(frozen=True)
class Target:
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


def run_query(target: Target, sql: str, params: Params = None, limits: Limits = Limits()) -> QueryResult:
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
        raise QueryError(f"busy: {MAX_CONCURRENT} queries are already running in this session; "
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


def _run_sqlite(target: Target, sql: str, params: Params, limits: Limits) -> tuple[list[str], Collected]:
    from afc.readonly_sqlite import run_in_worker

    if not Path(target.location).is_file():
        raise QueryError(f"sqlite: cannot open {target.label or target.location} read-only: no such file")
    answer = run_in_worker(target.location, sql, _plain(params), limits)
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


def _run_postgres(target: Target, sql: str, params: Params, limits: Limits) -> tuple[list[str], Collected]:
    import psycopg

    deadline = time.monotonic() + limits.seconds
    try:
        conn = psycopg.connect(target.location, connect_timeout=max(2, int(limits.seconds)),
                               application_name="afc-mcp")
    except psycopg.Error as exc:
        raise QueryError(f"postgresql: cannot connect to {target.label}: {_first_line(exc)}") from None
    conn.read_only = True  # every transaction starts BEGIN READ ONLY
    watchdog = _Watchdog(conn, limits.seconds + PG_GRACE_SECONDS)
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


def _query_postgres(conn: Any, target: Target, sql: str, params: Params, limits: Limits,
                    deadline: float) -> tuple[list[str], Collected]:
    from psycopg import sql as pgsql

    _arm(conn, target, limits, pgsql)

    def set_timeout(left: float) -> None:  # each statement may only use the time left
        if left <= 0:
            raise QueryError("postgresql: " + _TIME_LIMIT.format(limits.seconds))
        conn.execute(f"SET LOCAL statement_timeout = {max(1, int(left * 1000))}")

    described = _describe(conn, sql, params)
    if len(described) > MAX_COLUMNS:
        raise QueryError(f"postgresql: the query returns {len(described)} columns; at most {MAX_COLUMNS} per query")
    clipped_sql, merge = _clipping(sql, [oid for _, oid in described], limits.value_chars)
    width = max(1, len(described)) * limits.value_chars * 4  # UTF-8: up to 4 bytes a character
    set_timeout(deadline - time.monotonic())
    with conn.cursor(name="afc_query") as cur:
        cur.execute(clipped_sql, params)
        return [name for name, _ in described], collect(
            lambda n: [merge(row) for row in cur.fetchmany(n)], limits, deadline, set_timeout,
            batch=max(1, min(FETCH_BATCH, PG_FETCH_BYTES // width)))


class _Watchdog:
    """Cuts a PostgreSQL connection's socket at the deadline plus grace.

    statement_timeout acts only where the backend checks for interrupts; one long call without
    such checks (`jsonb` or array output of a huge value) runs on past it. Shutting the socket down
    makes the blocked client return at once; the backend ends at its next check or send.
    """

    def __init__(self, conn: Any, seconds: float):
        self.conn, self.fired, self._done, self._lock = conn, False, False, threading.Lock()
        self._timer = threading.Timer(seconds, self._sever)
        self._timer.daemon = True
        self._timer.start()

    def _sever(self) -> None:
        with self._lock:  # the socket is still open while we hold the lock (stop() waits)
            if self._done:
                return
            self.fired = True
            try:
                sock = socket.socket(fileno=os.dup(self.conn.pgconn.socket))
            except Exception:  # psycopg raises when the connection is already gone
                return
        with sock:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> None:
        """No cut after this (called before the connection is closed)."""
        self._timer.cancel()
        with self._lock:
            self._done = True


# Types whose values are small whatever the query does; every other column is clipped server-side.
_PG_SMALL = {16, 20, 21, 23, 26, 700, 701, 790, 1082, 1083, 1114, 1184, 1186, 1266, 1700, 2950}
_PG_TEXT = {19, 25, 1042, 1043}  # name, text, bpchar, varchar
_PG_BYTEA = 17
_MARKER = "'…[clipped: ' || {length} || ' {unit}]'"


def _describe(conn: Any, sql: str, params: Params) -> list[tuple[str, int]]:
    """The statement's column names and type oids, checked by PostgreSQL but not run."""
    if params is not None:  # afc's own SQL (templates): psycopg binds the parameters
        with conn.cursor(name="afc_probe") as probe:
            probe.execute(sql, params)
            return [(d.name, d.type_code) for d in probe.description or ()]
    # An assistant's SQL: Parse and Describe only, analysed but not planned, so the planner's
    # constant folding (`repeat('x', 10^8)`) is paid once, by the wrapped query, not twice.
    from psycopg import errors, pq

    for res in (conn.pgconn.prepare(b"", sql.encode()), conn.pgconn.describe_prepared(b"")):
        if res.status != pq.ExecStatus.COMMAND_OK:
            field = pq.DiagnosticField
            state = (res.error_field(field.SQLSTATE) or b"XX000").decode()
            message = (res.error_field(field.MESSAGE_PRIMARY) or b"error").decode(errors="replace")
            raise errors.lookup(state)(message)
    encoding = conn.info.encoding
    return [(res.fname(i).decode(encoding, "replace"), res.ftype(i)) for i in range(res.nfields)]


def _clipping(sql: str, oids: list[int], chars: int) -> tuple[str, Callable[[Sequence[Any]], list[Any]]]:
    """`sql` wrapped so that no value longer than `chars` characters leaves the server whole.

    Text stays text (clipped with the marker `afc.rows` uses); any other variable-size value comes
    as two columns: itself when short, else its text clipped. `merge` folds them back per row.
    """
    if not oids:
        return sql, list
    names = [f"c{i}" for i in range(len(oids))]
    columns, pairs, texts = [], [], []
    for name, oid in zip(names, oids, strict=True):
        col = f"q.{name}"
        if oid in _PG_SMALL:
            columns.append(col)
            pairs.append(False)
            continue
        if oid == _PG_BYTEA:  # as afc.rows shows bytes: \\x and hex, two characters a byte
            size = f"(octet_length({col}) * 2 + 2)"
            clipped = (f"'\\x' || encode(substring({col} from 1 for {(chars - 2) // 2}), 'hex') || "
                       + _MARKER.format(length=size, unit="characters"))
            columns += [f"CASE WHEN {size} <= {chars} THEN {col} END", f"CASE WHEN {size} > {chars} THEN {clipped} END"]
            pairs.append(True)
        elif oid in _PG_TEXT:
            columns.append(_clipped_text(col, chars))
            pairs.append(False)
        else:  # jsonb, arrays, records, ...: themselves when short, else their text clipped
            # their text is built once per value in a lateral (not at all when tiny: pg_column_size
            # is O(1), and text is at most ~40 times the stored size, e.g. an array of NULLs)
            text = f"x.t{name}"
            texts.append(f"CASE WHEN pg_column_size({col}) <= {chars // 64} THEN NULL ELSE {col}::text END "
                         f"AS t{name}")
            columns += [f"CASE WHEN {text} IS NULL OR octet_length({text}) <= {chars} THEN {col} END",
                        f"CASE WHEN octet_length({text}) > {chars} THEN {_clipped_text(text, chars)} END"]
            pairs.append(True)
    body = sql.rstrip().rstrip(";")
    # OFFSET 0 keeps the planner from pulling the query up into the wrapper, which would compute
    # each value once per reference (length, left, the value itself) instead of once.
    wrapped = (f"SELECT {', '.join(columns)} FROM (SELECT * FROM (\n{body}\n) AS i OFFSET 0) "
               f"AS q ({', '.join(names)})")
    if texts:
        wrapped += f" CROSS JOIN LATERAL (SELECT {', '.join(texts)} OFFSET 0) AS x"

    def merge(row: Sequence[Any]) -> list[Any]:
        values, i = [], 0
        for pair in pairs:
            values.append((row[i] if row[i + 1] is None else row[i + 1]) if pair else row[i])
            i += 2 if pair else 1
        return values

    return wrapped, merge


def _clipped_text(text: str, chars: int) -> str:
    """SQL for a text value cut to `chars` characters with the marker, whole when it is short.

    octet_length is O(1); counting characters is O(n) (slow on megabytes), so a value of more than
    4 bytes a character is reported in bytes.
    """
    octets = f"octet_length({text})"
    return (f"CASE WHEN {octets} <= {chars} THEN {text} "
            f"WHEN {octets} > {4 * chars} THEN left({text}, {chars}) || "
            + _MARKER.format(length=octets, unit="bytes")
            + f" WHEN length({text}) > {chars} THEN left({text}, {chars}) || "
            + _MARKER.format(length=f"length({text})", unit="characters")
            + f" ELSE {text} END")


def _arm(conn: Any, target: Target, limits: Limits, pgsql: Any) -> None:
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
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def run_afc_sql(target: Target, sql: str, params: Params = None, limits: Limits = Limits()) -> QueryResult:
    """Run afc's own SQL (PostgreSQL dialect, `core.x` names) through the same read-only path."""
    if target.backend == "sqlite":
        from afc.db.sqlite import translate  # also registers the datetime adapters

        sql = translate(sql)
    return run_query(target, sql, params, limits)


def as_dicts(result: QueryResult) -> list[dict[str, Any]]:
    """The rows of a result as dicts keyed by column name."""
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]
