"""PostgreSQL pieces of the read-only runner: describe without planning, clip values inside
PostgreSQL, and cut a connection that outlives its budget."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
from collections.abc import Callable, Sequence
from typing import Any


class Watchdog:
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
        with sock, contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        """No cut after this (called before the connection is closed)."""
        self._timer.cancel()
        with self._lock:
            self._done = True


def lenient_dates(conn: Any) -> None:
    """Dates and timestamps Python cannot hold (`infinity`, years past 9999) load as PostgreSQL's text for them
    instead of failing the whole answer."""
    from psycopg.types import datetime as pg_datetime

    for name, base in (("date", pg_datetime.DateLoader), ("timestamp", pg_datetime.TimestampLoader),
                       ("timestamptz", pg_datetime.TimestamptzLoader)):
        conn.adapters.register_loader(name, _lenient(base))


def _lenient(base: Any) -> type:
    from psycopg import DataError

    def load(self: Any, data: Any) -> Any:
        try:
            return base.load(self, data)
        except DataError:
            return bytes(data).decode()

    return type(f"Lenient{base.__name__}", (base,), {"load": load})


# Types whose values are small whatever the query does; every other column is clipped server-side.
_PG_SMALL = {16, 20, 21, 23, 26, 700, 701, 790, 1082, 1083, 1114, 1184, 1186, 1266, 1700, 2950}
_PG_TEXT = {19, 25, 1042, 1043}  # name, text, bpchar, varchar
_PG_BYTEA = 17
_MARKER = "'…[clipped: ' || {length} || ' {unit}]'"


def describe(conn: Any, sql: str, params: Any) -> list[tuple[str, int]]:
    """The statement's column names and type oids, checked by PostgreSQL but not run."""
    import psycopg

    if params is None:  # an assistant's SQL
        try:
            with conn.transaction():  # a savepoint: a refused Parse leaves the transaction usable
                return _parse_and_describe(conn, sql)
        except psycopg.Error:
            pass  # DECLARE below refuses it again, in the words the tests and docs promise
    with conn.cursor(name="afc_probe") as probe:  # plans the statement (and folds its constants)
        probe.execute(sql, params)
        return [(d.name, d.type_code) for d in probe.description or ()]


def _parse_and_describe(conn: Any, sql: str) -> list[tuple[str, int]]:
    """Parse and Describe only: analysed but not planned, so the planner's constant folding
    (`repeat('x', 10^8)`) is paid once, by the wrapped query, not twice."""
    pgconn = conn.pgconn
    # DECLARE's own parse analysis first: one SELECT/VALUES/TABLE/WITH, no data-modifying WITH
    _raise_for(pgconn.prepare(b"", b"DECLARE afc_probe CURSOR FOR " + sql.encode()))
    _raise_for(pgconn.prepare(b"", sql.encode()))
    res = pgconn.describe_prepared(b"")
    _raise_for(res)
    encoding = conn.info.encoding
    return [(res.fname(i).decode(encoding, "replace"), res.ftype(i)) for i in range(res.nfields)]


def _raise_for(res: Any) -> None:
    """The psycopg error a failed low-level call would have raised."""
    from psycopg import errors, pq

    if res.status != pq.ExecStatus.COMMAND_OK:
        field = pq.DiagnosticField
        state = (res.error_field(field.SQLSTATE) or b"XX000").decode()
        message = (res.error_field(field.MESSAGE_PRIMARY) or b"error").decode(errors="replace")
        raise errors.lookup(state)(message)


def clipping(sql: str, oids: list[int], chars: int) -> tuple[str, Callable[[Sequence[Any]], list[Any]]]:
    """`sql` wrapped so that no value longer than `chars` characters leaves the server whole.

    Text stays text (clipped with the marker `afc.mcp.rows` uses); any other variable-size value comes
    as two columns: itself when short, else its text clipped. `merge` folds them back per row.
    Laterals compute each value's text (x) and character count (y) once; octet_length and
    pg_column_size are O(1), so short values skip both.
    """
    if not oids:
        return sql, list
    names = [f"c{i}" for i in range(len(oids))]
    columns, pairs, texts, counts = [], [], [], []
    for name, oid in zip(names, oids, strict=True):
        col, count = f"q.{name}", f"y.n{name}"
        if oid in _PG_SMALL:
            columns.append(col)
            pairs.append(False)
        elif oid == _PG_BYTEA:  # as afc.rows shows bytes: \\x and hex, two characters a byte
            size = f"(octet_length({col}) * 2 + 2)"
            clipped = (f"'\\x' || encode(substring({col} from 1 for {(chars - 2) // 2}), 'hex') || "
                       + _MARKER.format(length=size, unit="characters"))
            columns += [f"CASE WHEN {size} <= {chars} THEN {col} END", f"CASE WHEN {size} > {chars} THEN {clipped} END"]
            pairs.append(True)
        elif oid in _PG_TEXT:
            counts.append(_count(col, chars, name))
            columns.append(f"CASE WHEN {count} > {chars} THEN {_head(col, chars, count)} ELSE {col} END")
            pairs.append(False)
        else:  # jsonb, arrays, records, ...: text is at most ~40 times the stored size (NULL arrays)
            text = f"x.t{name}"
            texts.append(f"CASE WHEN pg_column_size({col}) <= {chars // 64} THEN NULL ELSE {col}::text END "
                         f"AS t{name}")
            counts.append(_count(text, chars, name))
            columns += [f"CASE WHEN {count} > {chars} THEN NULL ELSE {col} END",
                        f"CASE WHEN {count} > {chars} THEN {_head(text, chars, count)} END"]
            pairs.append(True)
    body = sql[:statement_end(sql)]
    # OFFSET 0 keeps the planner from pulling a subquery up into the wrapper, which would compute
    # each value once per reference (length, left, the value itself) instead of once.
    wrapped = (f"SELECT {', '.join(columns)} FROM (SELECT * FROM (\n{body}\n) AS i OFFSET 0) "
               f"AS q ({', '.join(names)})")
    if texts:
        wrapped += f" CROSS JOIN LATERAL (SELECT {', '.join(texts)} OFFSET 0) AS x"
    if counts:
        wrapped += f" CROSS JOIN LATERAL (SELECT {', '.join(counts)} OFFSET 0) AS y"

    def merge(row: Sequence[Any]) -> list[Any]:
        values, i = [], 0
        for pair in pairs:
            values.append((row[i] if row[i + 1] is None else row[i + 1]) if pair else row[i])
            i += 2 if pair else 1
        return values

    return wrapped, merge


_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def statement_end(sql: str) -> int:
    """Where the one statement in `sql` ends: its first `;` outside quotes and comments, else the end.

    PostgreSQL has already accepted `sql` as exactly one statement, so whatever follows that `;` is
    more semicolons, whitespace or comments (`SELECT 1; -- note`), which must not land inside the
    wrapping subquery. Knows '…' and E'…' strings, "…" names, $tag$…$tag$ bodies, -- and nested /* */.
    """
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c == ";":
            return i
        if c == "'":
            escapes = i > 0 and sql[i - 1] in "eE" and (i < 2 or not (sql[i - 2].isalnum() or sql[i - 2] == "_"))
            i = _quoted_end(sql, i, "'", escapes)
        elif c == '"':
            i = _quoted_end(sql, i, '"', False)
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif sql.startswith("/*", i):
            i = _comment_end(sql, i)
        elif c == "$" and (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] in "_$")) \
                and (tag := _DOLLAR_TAG.match(sql, i)):
            close = sql.find(tag.group(0), tag.end())
            i = n if close < 0 else close + len(tag.group(0))
        else:
            i += 1
    return n


def _quoted_end(sql: str, start: int, quote: str, escapes: bool) -> int:
    """Just past the quote closing the string or name opened at `start` (doubled quotes stay inside)."""
    i = start + 1
    while i < len(sql):
        if escapes and sql[i] == "\\":
            i += 2
        elif sql[i] == quote:
            if not sql.startswith(quote, i + 1):
                return i + 1
            i += 2
        else:
            i += 1
    return len(sql)


def _comment_end(sql: str, start: int) -> int:
    """Just past the end of the (nestable) block comment opened at `start`."""
    depth, i = 0, start
    while i < len(sql):
        if sql.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif sql.startswith("*/", i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    return len(sql)


def _count(text: str, chars: int, name: str) -> str:
    """A lateral column: the character count of a value that may be longer than `chars`, else NULL."""
    return f"CASE WHEN octet_length({text}) > {chars} THEN length({text}) END AS n{name}"


def _head(text: str, chars: int, count: str) -> str:
    """The first `chars` characters of a value and the marker saying how long it was."""
    return f"left({text}, {chars}) || " + _MARKER.format(length=count, unit="characters")
