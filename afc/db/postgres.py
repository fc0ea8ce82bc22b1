"""PostgreSQL backend: schemas raw, core, mart, ops; psycopg 3 in autocommit with explicit transactions."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from typing import Any

import psycopg

from afc.db import Backend, Params, redact_url
from afc.errors import ConfigError, DatabaseError, DatabaseMissing, DatabaseUnavailable, LockTimeout
from afc.redact import sanitize

# What must still hold before each unit of work on any connection of this thread (afc.ops.lock: a group's advisory
# lock confirmed, else taken again, else LockLost). A context variable, not an argument: a reconnect, a Collector
# opened again, a connection any helper opens all meet it, and each simulated host of `afc rehearse` (a thread)
# only its own.
before_work: ContextVar[tuple[Callable[[], None], ...]] = ContextVar("afc_before_work", default=())

_UNAVAILABLE = (psycopg.OperationalError, psycopg.errors.AdminShutdown, psycopg.errors.CannotConnectNow)


def _wrap(exc: psycopg.Error, sql: str) -> DatabaseError:
    text = sanitize(str(exc).strip().splitlines()[0]) if str(exc).strip() else type(exc).__name__
    if isinstance(exc, psycopg.errors.LockNotAvailable):  # an OperationalError, but the server is there
        return LockTimeout(f"postgresql: {text} (in: {' '.join(sql.split())[:120]})")
    if isinstance(exc, _UNAVAILABLE) and not isinstance(exc, psycopg.errors.ProgramLimitExceeded):  # the statement's
        return DatabaseUnavailable(f"postgresql: {text}")
    return DatabaseError(f"postgresql: {text} (in: {' '.join(sql.split())[:120]})")


def _last_line(exc: psycopg.Error) -> str:
    """libpq's connection failure reason (its last line), without anything secret in it."""
    lines = str(exc).strip().splitlines()
    return sanitize(lines[-1]) if lines else type(exc).__name__


def _text(sql: str | bytes) -> str:
    return sql.decode() if isinstance(sql, bytes) else sql


# libpq reports a missing database only in its message (no SQLSTATE on a failed connection)
_NO_DATABASE = re.compile(r'FATAL:\s+database "([^"\n]{1,63})" does not exist')
# The server refused this login for good (a wrong user or password, a host pg_hba.conf does not admit): waiting and
# asking again would never bring it, so it is a configuration error, not an outage.
_REFUSED = re.compile(r'FATAL:\s+(password authentication failed for user "[^"\n]{1,63}"|role "[^"\n]{1,63}" does '
                      r'not exist|no pg_hba\.conf entry for [^\n]{1,300}|[a-zA-Z]+ authentication failed for user '
                      r'"[^"\n]{1,63}"|permission denied for database "[^"\n]{1,63}")')


def _connect(url: str, read_only: bool, name: str | None = None) -> psycopg.Connection:
    """A connection in autocommit, named for operators (`name`, else afc[pid]); a missing database or a refused
    login is a configuration error (DatabaseMissing, ConfigError), anything else DatabaseUnavailable."""
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10,
                               application_name=name or f"afc[{os.getpid()}]")  # which process, for operators
    except psycopg.Error as exc:
        missing = _NO_DATABASE.search(str(exc))
        if missing:  # not "unreachable yet": waiting for it (a service's back-off) would wait forever
            shown = redact_url(url)
            raise DatabaseMissing(f"postgresql: database {missing[1]} does not exist on {shown}; create it "
                                  f"(createdb {missing[1]}), then run `afc db migrate --db {shown}`") from None
        refused = _REFUSED.search(str(exc))
        if refused:
            raise ConfigError(f"postgresql: {redact_url(url)} refused the login: {sanitize(refused[1])}; check the "
                              "URL's user and password (or the server's pg_hba.conf)") from None
        raise DatabaseUnavailable(f"postgresql: cannot connect to {redact_url(url)}: {_last_line(exc)}") from None
    if read_only:
        conn.read_only = True  # transactions afc opens: BEGIN READ ONLY
        conn.execute("SET default_transaction_read_only = on")  # and statements in autocommit
    return conn


def _confirm() -> None:
    for check in before_work.get():
        check()


class PostgresDatabase:
    """A PostgreSQL connection speaking afc's SQL."""

    backend: Backend = "postgres"

    def __init__(self, conn: psycopg.Connection, url: str, display_tz: str = "UTC"):
        self.conn = conn
        self.url = redact_url(url)
        self.display_tz = display_tz
        self._raw_url = url
        self._queued: list[tuple[str | bytes, Params]] = []  # held for the next statement that waits (`send`)
        self._open: ExitStack | None = None  # a pipeline whose writes went out unanswered (`send(at_once=True)`)
        self._sent: list[str] = []  # their texts, for messages
        self._in_transaction = False
        self._savepoints = 0

    @classmethod
    def open(cls, url: str, *, read_only: bool = False, display_tz: str = "UTC") -> PostgresDatabase:
        """Connect; read-only connections open every transaction READ ONLY."""
        return cls(_connect(url, read_only), url, display_tz)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """afc's transaction: BEGIN is held for the block's first statement and the COMMIT goes with the writes
        the block still holds (`send`), so neither costs a round trip of its own; a nested block is a savepoint."""
        self._flush()  # what was held before the block is not the block's to roll back
        if self._in_transaction:
            yield from self._savepoint()
            return
        _confirm()
        self._ready()
        self._in_transaction = True
        self._queued.append((b"BEGIN READ ONLY" if self.conn.read_only else b"BEGIN", ()))
        try:
            yield
            self._queued.append((b"COMMIT", ()))
            self._flush()
        except BaseException:
            self._discard()  # the block's held and sent writes go with it
            if self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                self._rollback()
            raise
        finally:
            self._in_transaction = False

    def _savepoint(self) -> Iterator[None]:
        self._savepoints += 1
        try:
            with self.conn.transaction():
                yield
                self._flush()
        except psycopg.Error as exc:
            raise _wrap(exc, "RELEASE SAVEPOINT") from None
        finally:
            self._savepoints -= 1
            self._queued.clear()  # the block failed (it was flushed otherwise): its held writes went with it

    def _rollback(self) -> None:
        # A connection that is gone was rolled back by the server; the block's own error is the one to raise.
        try:
            self.conn.execute(b"ROLLBACK")
        except psycopg.Error:
            if not self.conn.closed:
                self._reconnect()

    def _ready(self) -> None:
        """Outside a transaction, a connection still busy with a command nobody will collect (Ctrl-C or SIGTERM raised
        inside libpq's exchange, anywhere) is replaced before the next statement, which would fail on it ('another
        command is already in progress') — the statement that closes the interrupted run first."""
        if self._open is None and self.conn.pgconn.transaction_status == psycopg.pq.TransactionStatus.ACTIVE:
            self._reconnect()

    def _reconnect(self) -> None:
        """A connection left mid-statement (Ctrl-C or SIGTERM raised inside a pipeline: 'another command is already in
        progress') is of no more use: a new one, and the server rolls back what the old session held as it closes.
        If none can be made, the old one stays, and the next statement says why."""
        with contextlib.suppress(psycopg.Error, DatabaseUnavailable):
            conn = _connect(self._raw_url, bool(self.conn.read_only))
            with contextlib.suppress(psycopg.Error):
                self.conn.close()
            self.conn = conn

    def send(self, sql: str, params: Params = (), *, at_once: bool = False) -> None:
        """Hold a write whose outcome nobody reads until the next statement that waits: both go to the server in one
        round trip (pipeline mode). `at_once` (in the outermost block), it goes now with what is held, in a pipeline
        left open, and the caller goes on while the server runs it; the next statement that waits collects it and
        raises its error. Outside a transaction it runs at once."""
        if not self._in_transaction:
            self.execute(sql, params)
            return
        self._queued.append((sql, params))
        if at_once and not self._savepoints:  # a savepoint's writes are held: a failed block drops them
            self._push()

    def _push(self) -> None:
        queued, self._queued = self._queued, []
        try:
            if self._open is None:
                self._open = self._pipeline()
            for sql, params in queued:
                self._sent.append(_text(sql))
                self.conn.execute(sql, params or None)
        except psycopg.Error as exc:
            texts = self._sent[-4:]
            self._discard()
            raise _wrap(exc, " / ".join(texts)) from None

    def _pipeline(self) -> ExitStack:
        stack = ExitStack()
        stack.enter_context(self.conn.pipeline())
        return stack

    def _discard(self) -> None:
        """Drop the held writes and close the open pipeline (its errors are the failed block's own)."""
        self._queued.clear()
        self._sent.clear()
        stack, self._open = self._open, None
        if stack is not None:
            with contextlib.suppress(psycopg.Error):
                stack.close()

    def _flush(self) -> None:
        if self._queued or self._open is not None:
            with self._sending():
                pass

    @contextmanager
    def _sending(self, then: str = "") -> Iterator[None]:
        """A pipeline (the open one, if writes went out unanswered) that sends the held statements, then the block's
        (`then`, for messages); an error of any of them is raised when it ends."""
        queued, self._queued = self._queued, []
        texts, self._sent = [*self._sent, *(_text(sql) for sql, _ in queued)], []
        stack, self._open = self._open or self._pipeline(), None
        try:
            with stack:
                for sql, params in queued:
                    self.conn.execute(sql, params or None)
                yield
        except psycopg.Error as exc:
            raise _wrap(exc, " / ".join([*texts, then][-4:])) from None

    def _cursor(self, sql: str, params: Any, many: bool = False, binary: bool = False) -> psycopg.Cursor:
        if not self._in_transaction:
            _confirm()
            self._ready()
        try:
            cur = self.conn.cursor(binary=binary)
            if self._queued or self._open is not None:
                with self._sending(sql):
                    self._run(cur, sql, params, many)
            else:
                self._run(cur, sql, params, many)
        except psycopg.Error as exc:
            raise _wrap(exc, sql) from None
        return cur

    @staticmethod
    def _run(cur: psycopg.Cursor, sql: str, params: Any, many: bool) -> None:
        if many:
            cur.executemany(sql, params)
        else:
            cur.execute(sql, params or None)

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
        with self._sending(" / ".join(sql.split(" AS t ")[0] for sql, _ in statements)):
            cursors = [self.conn.cursor() for _ in statements]
            for cur, (sql, params) in zip(cursors, statements, strict=True):
                cur.execute(sql, params or None)
        return [cur.fetchall() for cur in cursors]

    def fetchall_binary(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """Rows read in the binary format: a bytea column arrives as its bytes, without the text format's hex
        (rebuild reads archived bodies so, as UTF-8 for its parser)."""
        with self._cursor(sql, params, binary=True) as cur:
            return cur.fetchall()

    def fetchone(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        with self._cursor(sql, params) as cur:
            return cur.fetchone()

    @contextmanager
    def prepared_early(self) -> Iterator[None]:
        # Not for every connection: psycopg forgets what it prepared after a DROP or a ROLLBACK, which afc's held
        # statements (`send`) can meet in one pipeline with a statement prepared before.
        threshold, self.conn.prepare_threshold = self.conn.prepare_threshold, 0
        try:
            yield
        finally:
            self.conn.prepare_threshold = threshold

    @contextmanager
    def fetchone_meanwhile(self, sql: str, params: Params = ()) -> Iterator[list[tuple[Any, ...]]]:
        found: list[tuple[Any, ...]] = []
        try:
            with self.conn.cursor() as cur:
                with self._sending(sql):
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
            self._flush()  # a BEGIN still held: DECLARE needs the transaction begun
            try:
                cur.execute(sql, params or None)
                while batch := cur.fetchmany(size):
                    yield from batch
            except psycopg.Error as exc:
                raise _wrap(exc, sql) from None

    def run_script(self, script: str) -> None:
        self._flush()
        try:
            self.conn.execute(script.encode())  # bytes: no placeholder parsing, several statements
        except psycopg.Error as exc:
            raise _wrap(exc, script) from None

    def close(self) -> None:
        self._discard()
        self.conn.close()
