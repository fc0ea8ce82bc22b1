"""Upserts that skip unchanged rows and say what they did: inserted, updated, unchanged, deleted."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import chain
from typing import Any

from afc.db import Database, among, dump_json, marks
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
def upsert_sql(table: str, columns: tuple[str, ...], key: tuple[str, ...], stub: bool) -> str:
    """INSERT … ON CONFLICT DO UPDATE … WHERE the row really changed (NULL-safe); positional parameters
    (`values`): both drivers bind a tuple several times faster than a dict of names."""
    return _conflict(f"VALUES ({marks(len(columns + META))})", table, columns, key, stub)


@lru_cache(maxsize=512)
def upsert_arrays_sql(table: str, columns: tuple[str, ...], types: tuple[str, ...], key: tuple[str, ...],
                      stub: bool) -> str:
    """PostgreSQL: the same upsert reading its rows from one binary array per column (`arrays`), each cast to
    its column's type (`types`; `text>numeric`: sent as text). The text is the same for any number of rows,
    so it is prepared once per connection."""
    cast = ", ".join(f"%b::{kind.replace('>', '[]::')}[]" for kind in types)
    return _conflict(f"SELECT * FROM unnest({cast})", table, columns, key, stub) + RETURNING


def _conflict(rows: str, table: str, columns: tuple[str, ...], key: tuple[str, ...], stub: bool) -> str:
    values = [c for c in columns if c not in key]
    cols = ", ".join(columns + META)
    head = f"INSERT INTO {table} AS t ({cols}) {rows} ON CONFLICT ({', '.join(key)})"
    if not values:
        return f"{head} DO NOTHING"
    # A stub only fills in what is unknown; the full record, when it arrives, decides the rest.
    new = [f"COALESCE(t.{c}, excluded.{c})" if stub else f"excluded.{c}" for c in values]
    sets = ", ".join(f"{c} = {n}" for c, n in zip(values, new, strict=True))
    sets += ", " + ", ".join(f"{m} = excluded.{m}" for m in META)
    old = ", ".join(f"t.{c}" for c in values)
    return f"{head} DO UPDATE SET {sets} WHERE ({old}) IS DISTINCT FROM ({', '.join(new)})"


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
    scopes = list({tuple(row[c] for c in batch.replace) for row in batch.rows})
    stale = _where_in(db, batch.table, batch.key, batch.replace, scopes) - new_keys
    match = " AND ".join(f"{c} = %s" for c in batch.key)
    return sum(db.execute(f"DELETE FROM {batch.table} WHERE {match}", key) for key in sorted(stale))


def encoded(batch: TableRows) -> TableRows:
    """The batch with its JSON columns as canonical text (what both backends store and compare)."""
    kinds = set(map(type, chain.from_iterable(map(dict.values, batch.rows))))  # one pass, in C
    if not any(issubclass(kind, Json) for kind in kinds):
        return batch
    return replace(batch, rows=[_encoded_row(row) for row in batch.rows])


def _encoded_row(row: Row) -> Row:
    return {k: dump_json(v.value) if isinstance(v, Json) else v for k, v in row.items()}


def apply(db: Database, batch: TableRows, meta: dict[str, Any]) -> Counts:
    """Write `batch` (inside the caller's transaction); `meta` gives updated_at and raw_id."""
    if batch.table in HISTORIES:  # append-only: a new version when it differs from the last kept
        kept, same = append_changed(db, batch, meta)
        return Counts(inserted=kept, unchanged=same)
    batch = encoded(batch)
    keys = [tuple(row[k] for k in batch.key) for row in batch.rows]
    deleted = _replace_stale(db, batch, set(keys)) if batch.replace else 0
    if db.backend == "postgres":
        written = _pg_upsert(db, batch, meta)
        inserted = sum(1 for (fresh,) in written if fresh)
        updated = len(written) - inserted
    else:
        before = _where_in(db, batch.table, batch.key, batch.key, keys)  # in-process: cheaper than anything else
        sql = upsert_sql(batch.table, batch.columns, batch.key, batch.stub)
        changed = db.executemany(sql, values(batch, meta))
        inserted = len(set(keys) - before)
        updated = max(0, changed - inserted)
    return Counts(inserted, updated, len(keys) - inserted - updated, deleted)


def values(batch: TableRows, meta: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Each row's values in `batch.columns` order, then the META values: the upsert's parameters."""
    tail = tuple(meta[m] for m in META)
    columns = batch.columns
    return [tuple([row[c] for c in columns]) + tail for row in batch.rows]


RETURNING = " RETURNING (xmax = 0)"  # PostgreSQL: true for an inserted row, false for an updated one
_EXACT = frozenset({"numeric", "double precision", "real"})
_NONE = type(None)


def _pg_upsert(db: Database, batch: TableRows, meta: dict[str, Any]) -> list[tuple[bool]]:
    """One statement whatever the number of rows: one flag per row written (unchanged rows return nothing)."""
    types = column_types(db, batch.table, batch.columns + META)
    columns, sent = arrays(values(batch, meta), types)
    return db.fetchall(upsert_arrays_sql(batch.table, batch.columns, sent, batch.key, batch.stub), columns)


def arrays(rows: list[tuple[Any, ...]], types: tuple[str, ...]) -> tuple[list[list[Any]], tuple[str, ...]]:
    """The rows as one list per column, and how each is sent. Numbers for numeric columns, and any column of
    values of several Python types (an array has one element type), travel as text, as single parameters did:
    exact (a float's shortest form, not 15 digits) and cast by the server."""
    found = [list(column) for column in zip(*rows, strict=True)]
    sent = list(types)
    for at, kind in enumerate(types):
        if kind.split("(")[0] in _EXACT or len(set(map(type, found[at])) - {_NONE}) > 1:
            found[at] = [None if v is None else str(v) for v in found[at]]
            sent[at] = f"text>{kind}"
    return found, tuple(sent)
