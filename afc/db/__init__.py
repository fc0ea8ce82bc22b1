"""Two backends behind one small interface, chosen by URL.

SQL is written once, in PostgreSQL's dialect with schema-qualified names (`core.fixtures`) and
psycopg placeholders (`%(name)s`); the SQLite backend translates names and placeholders in one
place (`afc.db.sqlite.translate`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from typing import Any, Literal, Protocol

import orjson

from afc.api.body import has_nul, without_nul
from afc.errors import ConfigError

Params = Mapping[str, Any] | Sequence[Any]
Backend = Literal["sqlite", "postgres"]


class Database(Protocol):
    """A connection to the afc database."""

    backend: Backend
    url: str  # safe to print: no password
    display_tz: str  # the IANA zone of the marts' local dates (AFC_DISPLAY_TZ); storage stays UTC

    def transaction(self) -> AbstractContextManager[None]:
        """A writer transaction (SQLite: BEGIN IMMEDIATE); nested calls join the outer one."""
        ...

    def execute(self, sql: str, params: Params = ()) -> int: ...

    def executemany(self, sql: str, rows: Iterable[Params]) -> int: ...

    def fetchall(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]: ...

    def fetchone(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None: ...

    def send(self, sql: str, params: Params = (), *, at_once: bool = False) -> None:
        """A write whose outcome nobody reads, inside a transaction: PostgreSQL holds it until the next statement
        that waits (a read, or the commit) and sends both in one round trip, raising its error then; `at_once`, it
        goes now, in a pipeline left open, and the server runs it while the caller does Python work (that next
        statement still collects it). SQLite, and PostgreSQL outside a transaction, run it at once."""
        ...

    def fetchall_binary(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """`fetchall` with bytea columns as their bytes: PostgreSQL reads in the binary format (no hex text to
        decode); SQLite's blobs are bytes already."""
        ...

    def fetchall_pipelined(self, statements: list[tuple[str, Params]]) -> list[list[tuple[Any, ...]]]:
        """Each statement's rows; PostgreSQL sends them all at once (one round trip), SQLite runs each in turn."""
        ...

    def fetch_dicts(self, sql: str, params: Params = ()) -> list[dict[str, Any]]: ...

    def prepared_early(self) -> AbstractContextManager[None]:
        """Inside the block, PostgreSQL prepares a statement at its first run, not its sixth (for a long run of the
        same statements: a rebuild); SQLite keeps its statement cache as it is."""
        ...

    def fetchone_meanwhile(self, sql: str, params: Params = ()) -> AbstractContextManager[list[tuple[Any, ...]]]:
        """Send `sql`, let the block do Python work (no statements) while the server runs it, then put its
        first row into the yielded list. PostgreSQL overlaps the two (pipeline mode); SQLite just runs it."""
        ...

    def stream(self, sql: str, params: Params = (), size: int = 500) -> Iterator[tuple[Any, ...]]: ...

    def run_script(self, script: str) -> None:
        """Run a migration file's statements inside the current transaction."""
        ...

    def close(self) -> None: ...


def connect(url: str, *, read_only: bool = False, display_tz: str = "UTC", create: bool = True) -> Database:
    """Open the database at `url` (sqlite:///path, sqlite:///:memory:, postgresql://...); marts written
    through it give local dates in `display_tz`. `create` False: a SQLite file that does not exist is
    DatabaseMissing, not a new empty file (PostgreSQL databases are never created here)."""
    if url.startswith("sqlite:"):
        from afc.db.sqlite import SqliteDatabase

        return SqliteDatabase.open(url, read_only=read_only, display_tz=display_tz, create=create)
    if url.startswith(("postgresql:", "postgres:")):
        from afc.db.postgres import PostgresDatabase

        return PostgresDatabase.open(url, read_only=read_only, display_tz=display_tz)
    raise ConfigError(
        f"database URL {redact_url(url)!r}: use sqlite:///path/to/afc.db or postgresql://user@host/db"
    )


def redact_url(url: str) -> str:
    """The URL (or conninfo string) with every password replaced, fit for logs and messages."""
    from afc.redact import redact_url as redact

    return redact(url)


def marks(count: int, width: int = 1) -> str:
    """Placeholders: `%s, %s` for single keys, `VALUES (%s, %s), (...)` for composite ones."""
    if width == 1:
        return ", ".join(["%s"] * count)
    return "VALUES " + ", ".join("(" + ", ".join(["%s"] * width) + ")" for _ in range(count))


def among(db: Database, keys: Sequence[Any], types: tuple[str, ...] = ()) -> tuple[str, list[Any]]:
    """A key-list test and its parameters: `x {test}` with single keys, `(x, y) {test}` with tuples, whose
    columns' SQL types `types` names. PostgreSQL gets one array per column, so the statement's text is the same
    whatever the count: psycopg parses it once and prepares it (an IN list of hundreds of placeholders was
    parsed anew every time, a tenth of a response's step). SQLite, without arrays, gets placeholders."""
    if db.backend == "postgres":
        if not types:
            return "= ANY(%b)", [list(keys)]
        arrays = ", ".join(f"%b::{kind}[]" for kind in types)
        return f"IN (SELECT * FROM unnest({arrays}))", _columns(keys, len(types))
    if not types:
        return f"IN ({marks(len(keys))})", list(keys)
    return f"IN ({marks(len(keys), len(types))})", [v for key in keys for v in key]


def rows_of(db: Database, rows: Sequence[Sequence[Any]], types: tuple[str, ...]) -> tuple[str, list[Any]]:
    """Rows as a statement's source (`INSERT … {source}`, `… FROM ({source}) AS s`) and its parameters; a `jsonb`
    column's values are JSON values (dicts, lists, …), not text. PostgreSQL gets one JSON document of the rows (the
    same text for any number of rows; the client's cost is one orjson call, the server parses it once); SQLite gets
    `VALUES (…), (…)`."""
    jsonb = [n for n, kind in enumerate(types) if kind == "jsonb"]
    if db.backend == "postgres":
        document = rows_document(rows)
        if document is not None:
            return rows_in_document(types), [jsonb_param(document)]
        rows = [_dumped(row, jsonb) for row in rows]  # a value JSON cannot carry as it is: one array per column
        arrays = ", ".join(f"%b::{kind}[]" for kind in types)
        return f"SELECT * FROM unnest({arrays})", _columns(rows, len(types))
    values = marks(len(rows), len(types)) if len(types) > 1 else "VALUES " + ", ".join(["(%s)"] * len(rows))
    return values, [v for row in rows for v in _dumped(row, jsonb)]


def rows_in_document(types: tuple[str, ...], more: str = "") -> str:
    """PostgreSQL: a source of rows read from one jsonb parameter, an array of one array per row, each value cast to
    its column's type (`types`); `more`: further columns of the SELECT, before that parameter. `->> n` is a look-up
    on jsonb (on json text it lexes the row again for every column)."""
    # a JSON null in a jsonb column is SQL NULL, as dump_json(None) gives
    select = ", ".join(f"NULLIF(r -> {n}, 'null')" if kind == "jsonb" else f"CAST(r ->> {n} AS {kind})"
                       for n, kind in enumerate(types))
    return f"SELECT {select}{more} FROM jsonb_array_elements(%s) AS r"


def rows_document(rows: Sequence[Sequence[Any]]) -> bytes | None:
    """The rows as one JSON array of arrays (for `rows_in_document`), or None when JSON cannot carry a value as it
    is: an integer past 64 bits, a lone surrogate, a NUL (which jsonb refuses and dump_json drops)."""
    try:
        document = orjson.dumps(rows, option=orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS)
    except TypeError:  # orjson.JSONEncodeError
        return None
    return None if has_nul(document) else document


def _dumped(row: Sequence[Any], jsonb: list[int]) -> Sequence[Any]:
    """The row with its jsonb columns' values as canonical JSON text."""
    if not jsonb:
        return row
    return [dump_json(v) if n in jsonb else v for n, v in enumerate(row)]


def jsonb_param(document: bytes) -> Any:
    """A JSON document as a psycopg `jsonb` parameter, sent as it is (no str copy of it)."""
    from psycopg.types.json import Jsonb

    return Jsonb(document, dumps=bytes)


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[Any]:
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def dump_json(value: Any) -> str | None:
    """Canonical JSON text: the same value always gives the same string (delta detection)."""
    data = json_bytes(value)
    return None if data is None else data.decode()


def json_bytes(value: Any) -> bytes | None:
    """`dump_json`'s text as UTF-8 bytes (SQLite reads them as that text without a str made and encoded again)."""
    if value is None:
        return None
    data = _canonical(value)
    # PostgreSQL's jsonb cannot hold NUL: drop it from strings and keys. Backslashes are rare in orjson's
    # text and a one-byte search runs at memory speed: the six-byte one only runs when there is one.
    if has_nul(data):
        data = _canonical(without_nul(value))
    return data


# orjson writes what `_reference` writes (sorted keys, no spaces, UTF-8 kept), several times faster, except
# for floats in exponent form (1e-05 vs 0.00001): those, and values orjson refuses, go to `_reference`.
_FAST = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
         | orjson.OPT_PASSTHROUGH_SUBCLASS)
_SMALL_FLOAT = re.compile(rb"(?:^|[\[:,])-?0\.0000\d")


def _canonical(value: Any) -> bytes:
    try:
        data = orjson.dumps(value, option=_FAST)
    except TypeError:  # orjson.JSONEncodeError: integers past 64 bits, keys that are not strings, …
        return _reference(value)
    return _reference(value) if _float_forms(data) else data


def _float_forms(data: bytes) -> bool:
    """Whether orjson's text may hold a float written unlike json.dumps: an exponent after a digit, or a
    number below 1e-4. Each sign byte is found with a one-byte search (memchr, far faster than looking for
    `e-` itself, since `e` is everywhere in text), then the bytes before it are checked."""
    for sign in b"-+":
        at = data.find(sign, 2)
        while at > 0:
            if data[at - 1] == 101 and 48 <= data[at - 2] <= 57:  # `e` after a digit
                return True
            at = data.find(sign, at + 1)
    return b"0.0000" in data and _SMALL_FLOAT.search(data) is not None


def _reference(value: Any) -> bytes:
    """The canonical form, as the standard library writes it."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def load_json(value: Any) -> Any:
    """A JSON column as Python: PostgreSQL returns objects, SQLite returns text."""
    if isinstance(value, (str, bytes)):
        return json.loads(value)
    return value


def as_datetime(value: Any) -> datetime | None:
    """A timestamp column as an aware UTC datetime, whichever backend returned it."""
    if value is None or isinstance(value, datetime):
        return value.astimezone(UTC) if isinstance(value, datetime) else None
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def as_date(value: Any) -> date | None:
    """A date column as a `date`."""
    if value is None or type(value) is date:
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    return date.fromisoformat(str(value)[:10])
