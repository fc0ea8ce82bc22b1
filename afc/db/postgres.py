"""PostgreSQL backend: schemas raw, core, mart, ops; psycopg 3 in autocommit with explicit transactions."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from afc.db import Backend, Params, redact_url
from afc.errors import DatabaseError, DatabaseUnavailable
from afc.redact import sanitize

_UNAVAILABLE = (psycopg.OperationalError, psycopg.errors.AdminShutdown, psycopg.errors.CannotConnectNow)


def _wrap(exc: psycopg.Error, sql: str) -> DatabaseError:
    text = sanitize(str(exc).strip().splitlines()[0]) if str(exc).strip() else type(exc).__name__
    if isinstance(exc, _UNAVAILABLE):
        return DatabaseUnavailable(f"postgresql: {text}")
    return DatabaseError(f"postgresql: {text} (in: {' '.join(sql.split())[:120]})")


def _last_line(exc: psycopg.Error) -> str:
    """libpq's connection failure reason (its last line), without anything secret in it."""
    lines = str(exc).strip().splitlines()
    return sanitize(lines[-1]) if lines else type(exc).__name__


class PostgresDatabase:
    """A PostgreSQL connection speaking afc's SQL."""

    backend: Backend = "postgres"

    def __init__(self, conn: psycopg.Connection, url: str, display_tz: str = "UTC"):
        self.conn = conn
        self.url = redact_url(url)
        self.display_tz = display_tz
        self._raw_url = url

    @classmethod
    def open(cls, url: str, *, read_only: bool = False, display_tz: str = "UTC") -> PostgresDatabase:
        """Connect; read-only connections open every transaction READ ONLY."""
        try:
            conn = psycopg.connect(url, autocommit=True, connect_timeout=10,
                                   application_name=f"afc[{os.getpid()}]")  # which process, for operators
        except psycopg.Error as exc:
            raise DatabaseUnavailable(
                f"postgresql: cannot connect to {redact_url(url)}: {_last_line(exc)}"
            ) from None
        if read_only:
            conn.read_only = True  # transactions afc opens: BEGIN READ ONLY
            conn.execute("SET default_transaction_read_only = on")  # and statements in autocommit
        return cls(conn, url, display_tz)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        try:
            with self.conn.transaction():
                yield
        except psycopg.Error as exc:
            raise _wrap(exc, "COMMIT") from None

    def _cursor(self, sql: str, params: Any, many: bool = False) -> psycopg.Cursor:
        try:
            cur = self.conn.cursor()
            if many:
                cur.executemany(sql, params)
            else:
                cur.execute(sql, params or None)
        except psycopg.Error as exc:
            raise _wrap(exc, sql) from None
        return cur

    def execute(self, sql: str, params: Params = ()) -> int:
        with self._cursor(sql, params) as cur:
            return cur.rowcount

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        with self._cursor(sql, rows, many=True) as cur:
            return cur.rowcount

    def fetchall(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        with self._cursor(sql, params) as cur:
            return cur.fetchall()

    def fetchall_pipelined(self, statements: list[tuple[str, Params]]) -> list[list[tuple[Any, ...]]]:
        """Each statement's rows, all sent at once (pipeline mode): one round trip, and the server runs each
        while the client still prepares the next."""
        try:
            with self.conn.pipeline():
                cursors = [self.conn.cursor() for _ in statements]
                for cur, (sql, params) in zip(cursors, statements, strict=True):
                    cur.execute(sql, params or None)
            return [cur.fetchall() for cur in cursors]
        except psycopg.Error as exc:
            raise _wrap(exc, " / ".join(sql.split(" AS t ")[0] for sql, _ in statements)) from None

    def fetchall_binary(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """Rows read in the binary format: a bytea column arrives as its bytes, without the text format's hex
        (rebuild reads archived bodies so, as UTF-8 for its parser)."""
        try:
            with self.conn.cursor(binary=True) as cur:
                cur.execute(sql, params or None)
                return cur.fetchall()
        except psycopg.Error as exc:
            raise _wrap(exc, sql) from None

    def fetchone(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        with self._cursor(sql, params) as cur:
            return cur.fetchone()

    @contextmanager
    def fetchone_meanwhile(self, sql: str, params: Params = ()) -> Iterator[list[tuple[Any, ...]]]:
        found: list[tuple[Any, ...]] = []
        try:
            with self.conn.cursor() as cur:
                with self.conn.pipeline():
                    cur.execute(sql, params or None)
                    yield found  # the server works on the statement while the caller's block runs
                row = cur.fetchone()
        except psycopg.Error as exc:
            raise _wrap(exc, sql) from None
        if row is not None:
            found.append(row)

    def fetch_dicts(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        with self._cursor(sql, params) as cur:
            names = [d.name for d in cur.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def stream(self, sql: str, params: Params = (), size: int = 500) -> Iterator[tuple[Any, ...]]:
        # A server-side cursor needs a transaction; join the caller's or open a read-only one.
        with self.transaction(), self.conn.cursor(name="afc_stream") as cur:
            try:
                cur.execute(sql, params or None)
                while batch := cur.fetchmany(size):
                    yield from batch
            except psycopg.Error as exc:
                raise _wrap(exc, sql) from None

    def run_script(self, script: str) -> None:
        try:
            self.conn.execute(script.encode())  # bytes: no placeholder parsing, several statements
        except psycopg.Error as exc:
            raise _wrap(exc, script) from None

    def close(self) -> None:
        self.conn.close()
