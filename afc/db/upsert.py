"""Upserts that skip unchanged rows and say what they did: inserted, updated, unchanged, deleted."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from typing import Any

from afc.db import Database, among, dump_json, jsonb_param, marks, rows_document, rows_in_document
from afc.db.history import HISTORIES, append_changed
from afc.transform.model import Json, Row, TableRows

META = ("updated_at", "raw_id")  # written when a row changes, never compared


@dataclass
class Counts:
    """What a write did to the rows it was given."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def __iadd__(self, other: Counts) -> Counts:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.deleted += other.deleted
        return self

    @property
    def written(self) -> int:
        return self.inserted + self.updated + self.deleted


@lru_cache(maxsize=512)
def upsert_sql(table: str, columns: tuple[str, ...], key: tuple[str, ...], stub: bool,
               first: tuple[str, ...] = (), texts: tuple[str, ...] = ()) -> str:
    """INSERT … ON CONFLICT DO UPDATE … WHERE the row really changed (NULL-safe); positional parameters
    (`values`): both drivers bind a tuple several times faster than a dict of names. `first`: columns only an
    inserted row takes (see TableRows.first); `texts`: columns sent as UTF-8 bytes, cast to text (SQLite)."""
    cells = ", ".join("CAST(%s AS TEXT)" if c in texts else "%s" for c in columns)
    return _conflict(f"VALUES ({cells}, {marks(len(META))})", table, columns, key, stub, first=first)


@dataclass(frozen=True)
class Source:
    """The items a batch was transformed from, as archived (jsonb) in raw.responses: on PostgreSQL, a JSON
    column whose value is an item's member of the same name is read from the archive, not sent again as
    text (the server parses a detailed response's parts once, not twice)."""

    raw_id: int
    fetched_at: datetime
    items: list[Any]


# The archived items, read once per statement (an InitPlan: not once per row) and picked from by index. A row of
# its own (OFFSET 0: not pulled up) that every row joins: each sees the InitPlan's value, where a CTE scanned once
# per row copied the whole `response` array every time.
ARCHIVED = ("(SELECT (SELECT body -> 'response' FROM raw.responses WHERE id = %s AND fetched_at = %s) AS items "
            "OFFSET 0) AS archived")


@lru_cache(maxsize=512)
def upsert_arrays_sql(table: str, columns: tuple[str, ...], types: tuple[str, ...], key: tuple[str, ...],
                      stub: bool, picked: tuple[str, ...] = (), first: tuple[str, ...] = ()) -> str:
    """PostgreSQL: the same upsert reading its rows from one binary array per column (`arrays`), each cast to
    its column's type (`types`; `text>numeric`: sent as text), then one item index per `picked` column (its
    value, when the text is NULL, is that archived item's member). The text is the same for any number of
    rows, so it is prepared once per connection."""
    names = columns + META
    cast = ", ".join(f"%b::{kind.replace('>', '[]::')}[]" for kind in types + ("integer",) * len(picked))
    alias = ", ".join(names + tuple(f"{c}__item" for c in picked))
    image = any(kind.endswith("jsonb") for kind, c in zip(types, columns, strict=False) if c not in key + first)
    if not picked:
        return _conflict(f"SELECT * FROM unnest({cast})", table, columns, key, stub, image, first) + RETURNING
    # `#>` walks to the member and copies it alone, where `-> n -> 'c'` copied the whole item first
    select = ", ".join(f"COALESCE(s.{c}, archived.items #> ARRAY[CAST(s.{c}__item AS text), '{c}'])"
                       if c in picked else f"s.{c}" for c in names)
    rows = f"SELECT {select} FROM unnest({cast}) AS s ({alias}) LEFT JOIN {ARCHIVED} ON true"
    return _conflict(rows, table, columns, key, stub, image, first) + RETURNING


@lru_cache(maxsize=512)
def upsert_json_sql(table: str, columns: tuple[str, ...], types: tuple[str, ...], key: tuple[str, ...],
                    stub: bool, first: tuple[str, ...] = ()) -> str:
    """PostgreSQL: the same upsert reading its rows from one JSON document, an array of one array per row with
    the values in `columns` order (`document`), each cast to its column's SQL type (`types`, META's last); the
    META values follow as two parameters of their own."""
    meta = "".join(f", CAST(%s AS {kind})" for kind in types[len(columns):])
    # A row's values by place cost the server a quarter less than json_populate_recordset of objects, which
    # hashed every row's keys.
    rows = rows_in_document(types[: len(columns)], meta)
    return _conflict(rows, table, columns, key, stub, first=first) + RETURNING


def _conflict(rows: str, table: str, columns: tuple[str, ...], key: tuple[str, ...], stub: bool,
              image: bool = False, first: tuple[str, ...] = ()) -> str:
    """The upsert of `rows`; `image` (PostgreSQL, rows with jsonb values): an unchanged row is first recognised
    by its values' bytes, which costs a memcmp where comparing large jsonb documents walks both of them. The
    `first` columns are written by the INSERT only: an existing row keeps its own."""
    values = [c for c in columns if c not in key and c not in first]
    cols = ", ".join(columns + META)
    head = f"INSERT INTO {table} AS t ({cols}) {rows} ON CONFLICT ({', '.join(key)})"
    if not values:
        return f"{head} DO NOTHING"
    # A stub only fills in what is unknown; the full record, when it arrives, decides the rest.
    new = [f"COALESCE(t.{c}, excluded.{c})" if stub else f"excluded.{c}" for c in values]
    sets = ", ".join(f"{c} = {n}" for c, n in zip(values, new, strict=True))
    sets += ", " + ", ".join(f"{m} = excluded.{m}" for m in META)
    old = ", ".join(f"t.{c}" for c in values)
    changed = f"({old}) IS DISTINCT FROM ({', '.join(new)})"
    if image:  # equal bytes are equal values; unequal bytes may still be equal jsonb (1.0, 1.00): then compare
        changed = f"NOT record_image_eq(ROW({old}), ROW({', '.join(new)})) AND {changed}"
    return f"{head} DO UPDATE SET {sets} WHERE {changed}"


def _where_in(db: Database, table: str, columns: tuple[str, ...], match: tuple[str, ...],
              values: list[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
    """`columns` of the rows whose `match` columns are one of `values`: one statement per 500 values."""
    found: set[tuple[Any, ...]] = set()
    cols, where = ", ".join(columns), ", ".join(match)
    types = column_types(db, table, match) if len(match) > 1 else ()
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        test, params = among(db, [k[0] for k in chunk] if len(match) == 1 else chunk, types)
        found.update(tuple(r) for r in db.fetchall(f"SELECT {cols} FROM {table} WHERE ({where}) {test}", params))
    return found


TYPES = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
WHERE a.attrelid = CAST(%s AS regclass) AND a.attnum > 0 AND NOT a.attisdropped"""
_types: dict[tuple[str, str], dict[str, str]] = {}  # (database, table) → column → SQL type, read once


def column_types(db: Database, table: str, columns: tuple[str, ...]) -> tuple[str, ...]:
    """The SQL types of `columns` of `table`, for arrays of their values (SQLite has none: blanks)."""
    if db.backend != "postgres":
        return ("",) * len(columns)
    known = _types.get((db.url, table))
    if known is None:
        known = _types[(db.url, table)] = dict(db.fetchall(TYPES, (table,)))
    return tuple(known[c] for c in columns)


def _replace_stale(db: Database, batch: TableRows, new_keys: set[tuple[Any, ...]]) -> int:
    """Delete rows in each replaced scope that the new set no longer has (one look-up for every scope)."""
    if db.backend == "postgres":
        sql, params, _ = _stale_statement(db, batch)
        return len(db.fetchall(sql, params))
    scopes = list({tuple(row[c] for c in batch.replace) for row in batch.rows})
    stale = _where_in(db, batch.table, batch.key, batch.replace, scopes) - new_keys
    match = " AND ".join(f"{c} = %s" for c in batch.key)
    return sum(db.execute(f"DELETE FROM {batch.table} WHERE {match}", key) for key in sorted(stale))


@lru_cache(maxsize=128)
def stale_sql(table: str, replace: tuple[str, ...], scope_types: tuple[str, ...], key: tuple[str, ...],
              key_types: tuple[str, ...]) -> str:
    """PostgreSQL: one DELETE of the rows in the replaced scopes whose key the new rows do not have, one row
    returned per row deleted; scopes and keys as one array per column (the same text for any number)."""
    scopes = ", ".join(f"%b::{kind.replace('>', '[]::')}[]" for kind in scope_types)
    keys = ", ".join(f"%b::{kind.replace('>', '[]::')}[]" for kind in key_types)
    # One scope column: `= ANY`, which the server plans in a third less time than a join to unnest. Keys are
    # primary keys (never NULL), so NOT IN (a hashed subplan) is NOT EXISTS.
    scope = f"t.{replace[0]} = ANY({scopes})" if len(replace) == 1 else \
        f"({', '.join(f't.{c}' for c in replace)}) IN (SELECT * FROM unnest({scopes}))"
    return (f"DELETE FROM {table} AS t WHERE {scope} AND ({', '.join(f't.{c}' for c in key)}) NOT IN "
            f"(SELECT * FROM unnest({keys})) RETURNING true")


def _stale_statement(db: Database, batch: TableRows) -> Statement:
    """The replaced scopes' DELETE (`stale_sql`) for `batch` and its parameters."""
    scopes = sorted({tuple(row[c] for c in batch.replace) for row in batch.rows})
    keys = [tuple(row[c] for c in batch.key) for row in batch.rows]
    scope_columns, scope_types = arrays(scopes, column_types(db, batch.table, batch.replace))
    key_columns, key_types = arrays(keys, column_types(db, batch.table, batch.key))
    sql = stale_sql(batch.table, batch.replace, scope_types, batch.key, key_types)
    return sql, [*scope_columns, *key_columns], 0


def encoded(batch: TableRows, picked: dict[str, list[int | None]] | None = None) -> TableRows:
    """The batch with its JSON columns as canonical text (what both backends store and compare); a value
    `picked` from the archive becomes None (the server reads it there)."""
    kinds = set(map(type, chain.from_iterable(map(dict.values, batch.rows))))  # one pass, in C
    if not any(issubclass(kind, Json) for kind in kinds):
        return batch
    if not picked:
        return replace(batch, rows=[_encoded_row(row) for row in batch.rows])
    return replace(batch, rows=[_encoded_row(row, {c: at[n] for c, at in picked.items()})
                                for n, row in enumerate(batch.rows)])


def _encoded_row(row: Row, picked: dict[str, int | None] | None = None) -> Row:
    if picked:
        return {k: None if picked.get(k) is not None else dump_json(v.value) if isinstance(v, Json) else v
                for k, v in row.items()}
    return {k: dump_json(v.value) if isinstance(v, Json) else v for k, v in row.items()}


def picks(batch: TableRows, source: Source | None) -> dict[str, list[int | None]]:
    """Per JSON column, the index of the archived item whose same-named member each row's value is (the very
    object the transform was given, which transforms never change in place), or None; only columns where
    some row's value is."""
    if source is None or not batch.rows:
        return {}
    found: dict[str, list[int | None]] = {}
    for column, value in batch.rows[0].items():
        if not isinstance(value, Json):
            continue
        members = {id(item[column]): n for n, item in enumerate(source.items)
                   if isinstance(item, dict) and isinstance(item.get(column), (list, dict))}
        at = [_member(row.get(column), members) for row in batch.rows]
        if any(n is not None for n in at):
            found[column] = at
    return found


def _member(value: Any, members: dict[int, int]) -> int | None:
    # The item is alive (the source holds it), so an equal id is the same object: no comparison of contents.
    return members.get(id(value.value)) if isinstance(value, Json) else None


def apply(db: Database, batch: TableRows, meta: dict[str, Any], source: Source | None = None) -> Counts:
    """Write `batch` (inside the caller's transaction); `meta` gives updated_at and raw_id; `source`, where
    its items are archived (PostgreSQL reads JSON members from there)."""
    if batch.table in HISTORIES:  # append-only: a new version when it differs from the last kept
        kept, same = append_changed(db, batch, meta)
        return Counts(inserted=kept, unchanged=same)
    # SQLite's JSON columns are encoded with its parameters (sqlite.parameters), PostgreSQL's by `_pg_sql`
    picked = picks(batch, source) if db.backend == "postgres" else {}
    keys = [tuple(row[k] for k in batch.key) for row in batch.rows]
    deleted = _replace_stale(db, batch, set(keys)) if batch.replace else 0
    if db.backend == "postgres":
        written = _pg_upsert(db, batch, meta, picked, source)
        inserted = sum(1 for (fresh,) in written if fresh)
        updated = len(written) - inserted
    else:
        from afc.db.sqlite import parameters  # here: a PostgreSQL process need not load sqlite3

        before = _where_in(db, batch.table, batch.key, batch.key, keys)  # in-process: cheaper than anything else
        rows, texts = parameters(batch.rows, batch.columns, tuple(meta[m] for m in META))
        changed = db.executemany(upsert_sql(batch.table, batch.columns, batch.key, batch.stub, batch.first, texts),
                                 rows)
        inserted = len(set(keys) - before)
        updated = max(0, changed - inserted)
    return Counts(inserted, updated, len(keys) - inserted - updated, deleted)


def apply_all(db: Database, batches: list[TableRows], meta: dict[str, Any], source: Source | None = None) -> Counts:
    """`apply` each batch in order; on PostgreSQL the plain upserts (no scope to replace, no history) go to
    the server together, in one round trip."""
    counts = Counts()
    if db.backend != "postgres":
        for batch in batches:
            counts += apply(db, batch, meta, source)
        return counts
    waiting: list[Statement] = []
    for batch in batches:
        if batch.table in HISTORIES:  # these read before they write: send what waits first
            counts += _flags(db, waiting)
            counts += apply(db, batch, meta, source)
            continue
        if batch.replace:  # the scope's stale rows go first, in the same round trip
            waiting.append(_stale_statement(db, batch))
        waiting.append(_pg_statement(db, batch, meta, source))
    counts += _flags(db, waiting)
    return counts


def _flags(db: Database, statements: list[Statement]) -> Counts:
    """Send the waiting statements and count what they say: an upsert, a flag per row written; a scope's
    DELETE, a row per row deleted (the list is emptied)."""
    counts = Counts()
    if statements:
        sent = db.fetchall_pipelined([(sql, params) for sql, params, _ in statements])
        for (sql, _, rows), written in zip(statements, sent, strict=True):
            if sql.startswith("DELETE"):
                counts.deleted += len(written)
                continue
            inserted = sum(1 for (fresh,) in written if fresh)
            counts += Counts(inserted, len(written) - inserted, rows - len(written))
        statements.clear()
    return counts


def values(batch: TableRows, meta: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Each row's values in `batch.columns` order, then the META values: the upsert's parameters."""
    tail = tuple(meta[m] for m in META)
    columns = batch.columns
    return [tuple([row[c] for c in columns]) + tail for row in batch.rows]


RETURNING = " RETURNING (xmax = 0)"  # PostgreSQL: true for an inserted row, false for an updated one
_NONE = type(None)


def _pg_upsert(db: Database, batch: TableRows, meta: dict[str, Any], picked: dict[str, list[int | None]],
               source: Source | None) -> list[tuple[bool]]:
    """One statement whatever the number of rows: one flag per row written (unchanged rows return nothing)."""
    sql, params, _ = _pg_sql(db, batch, meta, picked, source)
    return db.fetchall(sql, params)


Statement = tuple[str, list[Any], int]  # an upsert's SQL, its parameters and how many rows it carries


def _pg_statement(db: Database, batch: TableRows, meta: dict[str, Any], source: Source | None) -> Statement:
    """A batch's PostgreSQL upsert and its parameters (JSON members of archived items picked from the archive)."""
    return _pg_sql(db, batch, meta, picks(batch, source), source)


def _pg_sql(db: Database, batch: TableRows, meta: dict[str, Any], picked: dict[str, list[int | None]],
            source: Source | None) -> Statement:
    types = column_types(db, batch.table, batch.columns + META)
    count = len(batch.rows)
    # A JSON value is not a kind `document` takes: rows it takes have none to encode (nor a look at every value for one)
    if not picked and (rows := document(batch, types[: -len(META)])) is not None:
        sql = upsert_json_sql(batch.table, batch.columns, types, batch.key, batch.stub, batch.first)
        return sql, [*(meta[m] for m in META), jsonb_param(rows)], count
    batch = encoded(batch, picked)
    columns, sent = arrays(values(batch, meta), types)
    sql = upsert_arrays_sql(batch.table, batch.columns, sent, batch.key, batch.stub, tuple(picked), batch.first)
    if not picked or source is None:
        return sql, columns, count
    return sql, [*columns, *picked.values(), source.raw_id, source.fetched_at], count


# What a column of each SQL type may hold for its values to travel as one JSON document: kinds whose JSON text
# the server reads back to the very value the binary arrays carry. Anything else (floats, numerics, JSON columns,
# a column of mixed kinds) goes as arrays.
_AS_JSON: dict[str, frozenset[type]] = {
    "integer": frozenset({int}), "bigint": frozenset({int}), "smallint": frozenset({int}),
    "text": frozenset({str}), "boolean": frozenset({bool}),
    "timestamp with time zone": frozenset({datetime}), "date": frozenset({date})}


def document(batch: TableRows, types: tuple[str, ...]) -> bytes | None:
    """The rows as one JSON array of arrays, each row's values in `batch.columns` order (orjson: the client's cost is
    a fraction of dumping binary arrays: `afc.db.rows_document`), when every column's values are of a kind `_AS_JSON`
    allows for its type; None otherwise."""
    if not batch.rows:
        return None
    columns = batch.columns
    pick = itemgetter(*columns)
    table = [pick(row) for row in batch.rows] if len(columns) > 1 else [(pick(row),) for row in batch.rows]
    for kind, column in zip(types, zip(*table, strict=True), strict=True):
        if not set(map(type, column)) - {_NONE} <= _AS_JSON.get(kind, frozenset()):
            return None
    return rows_document(table)


def arrays(rows: list[tuple[Any, ...]], types: tuple[str, ...]) -> tuple[list[list[Any]], tuple[str, ...]]:
    """The rows as one list per column, and how each is sent (an array has one element type). A column of ints
    and floats goes as floats (a float8 parameter cast to the column, as a single float parameter was); one of
    other mixed types as text, cast by the server."""
    found = [list(column) for column in zip(*rows, strict=True)]
    sent = list(types)
    for at, kind in enumerate(types):
        kinds = set(map(type, found[at])) - {_NONE}
        if len(kinds) < 2:
            continue
        if kinds <= {int, float}:
            found[at] = [None if v is None else float(v) for v in found[at]]
        else:
            found[at] = [None if v is None else str(v) for v in found[at]]
            sent[at] = f"text>{kind}"
    return found, tuple(sent)

