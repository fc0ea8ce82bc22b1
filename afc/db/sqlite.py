"""SQLite backend: one file, WAL, writers serialised with BEGIN IMMEDIATE."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import lru_cache
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from afc.db import Backend, Params, json_bytes
from afc.errors import ConfigError, DatabaseError, DatabaseMissing, DatabaseUnavailable
from afc.transform.model import Json

LAYERS = ("raw", "core", "mart", "ops")
WAL_CHECKPOINT_PAGES = 10_000
_QUALIFIED = re.compile(r"\b(raw|core|mart|ops)\.([a-z_][a-z0-9_]*)\b")
_NAMED = re.compile(r"%\((\w+)\)s")


def utc_text(moment: datetime) -> str:
    """How a datetime is stored: ISO 8601 text in UTC (text order is time order)."""
    return moment.astimezone(UTC).isoformat()


_last: tuple[datetime | None, str] = (None, "")


def _adapt(moment: datetime) -> str:
    # A statement's rows mostly repeat one datetime object (the response's time in every row it writes): the
    # text of the last one adapted is kept. The very object, so the very value (a datetime never changes).
    global _last
    last = _last
    if last[0] is moment:
        return last[1]
    text = utc_text(moment)
    _last = (moment, text)
    return text


sqlite3.register_adapter(datetime, _adapt)
sqlite3.register_adapter(date, lambda d: d.isoformat())


def parameters(rows: list[dict[str, Any]], columns: tuple[str, ...], tail: tuple[Any, ...]
               ) -> tuple[list[tuple[Any, ...]], tuple[str, ...]]:
    """An executemany's parameters, and the columns sent as UTF-8 bytes of text (the statement casts them to text:
    `afc.db.upsert.upsert_sql`): each row's `columns`, then `tail`; a JSON column's values as the bytes of canonical
    text (what `afc.db.upsert.encoded` makes of them: a str would only be encoded again by the driver, a tenth of
    writing a detailed answer's parts) and every datetime as the text the adapter would make of it,
    each datetime object formatted once (the tail's once for all rows; a transform's rows share one object per
    instant, see Batch.moment). The adapter runs once per value, from C: four per fixture row made a third of
    the upsert's time. One look at each column's types finds both."""
    texts: dict[int, str] = {}  # id → text: the objects stay alive in `rows` and `tail`, so ids are not reused
    tail = tuple(utc_text(value) if type(value) is datetime else value for value in tail)
    pick = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
    found: list[Any] = list(zip(*map(pick, rows), strict=True))
    as_bytes = []
    for at, column in enumerate(found):
        kinds = set(map(type, column))
        if any(issubclass(kind, Json) for kind in kinds):
            found[at] = column = [json_bytes(value.value) if isinstance(value, Json) else value for value in column]
            as_bytes.append(columns[at])
        if datetime in kinds:
            found[at] = column = [_text(value, texts) if type(value) is datetime else value for value in column]
        if _NONE in kinds or bool in kinds or as_bytes and as_bytes[-1] == columns[at]:
            found[at] = _cells(column)
    count = len(rows)
    return list(zip(*found, *(repeat(value, count) for value in tail), strict=True)), tuple(as_bytes)


# The driver binds an exact int, float, str or bytearray at once; any other value (None, a bool) first goes through
# its adapter look-up (a key tuple, a dict probe, two attribute look-ups): ~230 ns, where binding an int costs ~35. A
# fixture row holds five Nones and one or two bools: a fifth of its upsert. SQLite binds a NaN as NULL
# (sqlite3_bind_double stores no NaN), and a bool's int is the value the driver would bind for it.
NULL = float("nan")
_NONE = type(None)
_CELLS: dict[Any, Any] = {None: NULL, False: 0, True: 1}
# Kinds a dict look-up takes at no more than the value's own binding costs: not a float (1.0 == True), not bytes (a
# detail part's JSON, tens of kB hashed byte by byte; a str keeps its hash once made).
_LOOKED_UP = frozenset({_NONE, bool, int, str})


def _cells(column: Any) -> list[Any]:
    """A column's values as the driver binds them fastest: None as NULL (NaN), a bool as its int."""
    kinds = set(map(type, column))
    if kinds <= _LOOKED_UP:
        return list(map(_CELLS.get, column, column))
    return [NULL if value is None else value for value in column]


def _text(moment: datetime, texts: dict[int, str]) -> str:
    text = texts.get(id(moment))
    if text is None:
        text = texts[id(moment)] = utc_text(moment)
    return text


# Texts up to this length are remembered. Longer ones are the lists SQLite builds by count (`IN (?, …)` of a key
# list, `VALUES` of a row set: a new text for every count, up to 150 kB each), which a cache by text would keep by
# the thousand in a long-running process (a 30-day rehearsal: 856 texts, ~1.6 MB and rising); translating such a
# text again costs microseconds next to running it.
CACHED_TEXT = 2_000


def translate(sql: str) -> str:
    """PostgreSQL-flavoured afc SQL → SQLite: `core.fixtures` → `core_fixtures`, `%(x)s` → `:x`."""
    return _cached(sql) if len(sql) <= CACHED_TEXT else _translate(sql)


def _translate(sql: str) -> str:
    sql = _QUALIFIED.sub(r"\1_\2", sql)
    sql = _NAMED.sub(r":\1", sql)
    return sql.replace("%s", "?").replace("%%", "%")


_cached = lru_cache(maxsize=2048)(_translate)


def table_name(qualified: str) -> str:
    """The SQLite name of a logical table: the layer becomes a prefix (`core.teams` → `core_teams`)."""
    return qualified.replace(".", "_", 1)


# A response's fixtures share kickoffs (the 380 of an EPL season have 235): the daily mart asks for each row's local
# date, and parsing and converting the text cost about 4 µs a row (a fifth of that statement). A season's kickoffs,
# remembered.
@lru_cache(maxsize=1024)
def local_date(timestamp: str | None, zone: str) -> str | None:
    """SQL function `afc_local_date(ts, zone)`: the calendar date of a stored UTC timestamp in an IANA
    zone (SQLite has no time zones; PostgreSQL says `CAST(ts AT TIME ZONE zone AS date)`)."""
    if timestamp is None:
        return None
    return datetime.fromisoformat(timestamp).astimezone(ZoneInfo(zone)).date().isoformat()


BUSY_TIMEOUT = 30  # seconds a writer waits for another's write lock

def _path_from_url(url: str) -> str:
    """The file path of an sqlite URL, as SQLAlchemy reads it: three slashes relative, four absolute."""
    rest = url.removeprefix("sqlite:").removeprefix("//")
    path = rest[1:] if rest.startswith("/") else rest
    if not path:
        raise ConfigError(f"database URL {url!r}: no file path; use sqlite:////absolute/path/afc.db")
    return path


def _wrap(exc: sqlite3.Error, sql: str, path: str = "") -> DatabaseError:
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and "locked" in text:
        return DatabaseUnavailable(f"sqlite: {path or 'the database'} is locked: another process held its write lock "
                                   f"for {BUSY_TIMEOUT} s; try again when it is done")
    if isinstance(exc, sqlite3.OperationalError) and "unable to open" in text:
        return DatabaseUnavailable(f"sqlite: {text}")
    name = getattr(exc, "sqlite_errorname", "")
    if name == "SQLITE_FULL":
        return DatabaseError(f"sqlite: {path or 'the database'}: the disk is full or a file-size limit was reached; "
                             f"nothing of this transaction was written; free space and run again")
    if name.startswith("SQLITE_IOERR"):
        return DatabaseError(f"sqlite: {path or 'the database'}: disk I/O error ({name}); nothing of this transaction "
                             f"was written; check the disk, its free space and any file-size limit (ulimit -f, "
                             f"LimitFSIZE=)")
    if name.startswith("SQLITE_READONLY"):
        return DatabaseError(f"sqlite: {path or 'the database'} is read-only ({text}); afc needs to write the file "
                             f"and its -wal and -shm beside it")
    return DatabaseError(f"sqlite: {text} (in: {' '.join(sql.split())[:120]})")


def _no_database_there(path: str, url: str, create: bool) -> str | None:
    """Why no database can be opened at `path` however long one waits (DatabaseMissing, exit 2: the services do not
    wait for it as for a database not reachable yet), or None."""
    file = Path(path)
    if not create and not file.exists():
        return f"{path} does not exist; create it with `afc db migrate --db {url}`"
    if file.is_dir():
        return f"{path} is a directory, not a database file; name a file in it (sqlite:///{file / 'afc.db'})"
    if file.is_symlink() and not file.exists() and not file.resolve().parent.is_dir():
        return f"{path} is a symlink to {os.readlink(file)}, whose directory does not exist"
    nearest = next((folder for folder in file.parents if folder.exists()), None)
    if nearest is not None and not nearest.is_dir():
        return f"{nearest} is a file, not a directory: {path} cannot be made there"
    return None


def _read_only_dir(path: str) -> str:
    """Why a WAL database could not be opened, when its directory is read-only: SQLite must create the -shm and -wal
    files beside it even to read ("unable to open database file" said nothing of that)."""
    folder = Path(path).parent
    if path == ":memory:" or not folder.is_dir() or os.access(folder, os.W_OK):
        return ""
    return f" (its directory {folder} is read-only: SQLite writes {Path(path).name}-wal and -shm there even to read)"


def read_only_uri(path: str | Path) -> str:
    """The `file:` URI opening `path` read-only; percent-encoded, since a `#`, `?` or `%` in a file name would
    otherwise end the path (`afc#2.db` opened `afc`)."""
    return Path(path).resolve().as_uri() + "?mode=ro"


class SqliteDatabase:
    """An SQLite connection speaking afc's SQL."""

    backend: Backend = "sqlite"

    def __init__(self, conn: sqlite3.Connection, url: str, path: str, display_tz: str = "UTC"):
        self.conn = conn
        self.url = url
        self.path = path
        self.display_tz = display_tz
        self._depth = 0

    @classmethod
    def open(cls, url: str, *, read_only: bool = False, display_tz: str = "UTC", create: bool = True
             ) -> SqliteDatabase:
        """Open (and create, unless read-only or `create` is False) the file named by an sqlite:/// URL."""
        path = _path_from_url(url)
        absent = _no_database_there(path, url, create) if path != ":memory:" else None
        if absent is not None:
            raise DatabaseMissing(f"sqlite: {absent}")
        try:
            if read_only:
                target = read_only_uri(path) if path != ":memory:" else ":memory:"
                conn = sqlite3.connect(target, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT,
                                       check_same_thread=False)
            else:
                if path != ":memory:":
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                # A checkpoint copies each page the WAL holds back into the file, once however often it was
                # written since the last. A 380-fixture answer dirties 200-800 pages, many of them the same index
                # leaves as the answer before (kickoff, status, the daily mart's dates): SQLite's 1,000 pages made
                # a checkpoint every few answers; 10,000 (a WAL of up to 40 MB) make ten times fewer, each copying
                # a hot page once for several answers.
                conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA schema_version")  # reads the header: a file that is no database fails here
            conn.create_function("afc_local_date", 2, local_date, deterministic=True)
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_NOTADB:
                raise DatabaseMissing(f"sqlite: {path} is not a SQLite database; check --db or AFC_DATABASE_URL"
                                      ) from None
            raise DatabaseUnavailable(f"sqlite: cannot open {path}: {exc}{_read_only_dir(path)}") from None
        except OSError as exc:
            raise DatabaseUnavailable(f"sqlite: cannot open {path}: {exc.strerror}") from None
        return cls(conn, url, path, display_tz)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _wrap(exc, "BEGIN IMMEDIATE", self.path) from None
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self.conn.rollback()
            raise
        self._depth = 0
        try:
            self.conn.commit()
        except sqlite3.Error as exc:
            self.conn.rollback()
            raise _wrap(exc, "COMMIT", self.path) from None

    def _run(self, method: str, sql: str, params: Any) -> sqlite3.Cursor:
        try:
            return getattr(self.conn, method)(translate(sql), params)
        except sqlite3.Error as exc:
            raise _wrap(exc, sql, self.path) from None

    def execute(self, sql: str, params: Params = ()) -> int:
        return self._run("execute", sql, params).rowcount

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        return self._run("executemany", sql, rows).rowcount

    def fetchall(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        return self._run("execute", sql, params).fetchall()

    def fetchone(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        return self._run("execute", sql, params).fetchone()

    def send(self, sql: str, params: Params = (), *, at_once: bool = False) -> None:
        self.execute(sql, params)  # in-process: no round trip to save

    def fetchall_binary(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        return self.fetchall(sql, params)  # blobs arrive as bytes

    def fetchall_pipelined(self, statements: list[tuple[str, Params]]) -> list[list[tuple[Any, ...]]]:
        return [self.fetchall(sql, params) for sql, params in statements]

    @contextmanager
    def prepared_early(self) -> Iterator[None]:
        yield  # sqlite3 keeps the statements it compiled (its cache of 128): nothing to change

    @contextmanager
    def fetchone_meanwhile(self, sql: str, params: Params = ()) -> Iterator[list[tuple[Any, ...]]]:
        row = self.fetchone(sql, params)  # in-process: nothing to overlap
        yield [row] if row is not None else []

    def fetch_dicts(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        cur = self._run("execute", sql, params)
        names = [d[0] for d in cur.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def stream(self, sql: str, params: Params = (), size: int = 500) -> Iterator[tuple[Any, ...]]:
        cur = self._run("execute", sql, params)
        while batch := cur.fetchmany(size):
            yield from batch

    def run_script(self, script: str) -> None:
        for statement in split_statements(script):
            self._run("execute", statement, ())

    def close(self) -> None:
        self.conn.close()


def split_statements(script: str) -> list[str]:
    """Split a .sql file into statements, using SQLite's own notion of a complete statement."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip().strip(";").strip():
                statements.append(current.strip())
            current = ""
    if any(line.strip() and not line.strip().startswith("--") for line in current.splitlines()):
        statements.append(current.strip())
    return statements
