"""Upserts that skip unchanged rows and say what they did: inserted, updated, unchanged, deleted."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from afc.db import Database, dump_json
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


COPY_MIN = 100  # PostgreSQL: from this many rows, COPY into a scratch table and upsert from it at once


@lru_cache(maxsize=512)
def upsert_sql(table: str, columns: tuple[str, ...], key: tuple[str, ...], stub: bool) -> str:
    """INSERT … ON CONFLICT DO UPDATE … WHERE the row really changed (NULL-safe)."""
    marks = ", ".join(f"%({c})s" for c in columns + META)
    return _conflict(f"VALUES ({marks})", table, columns, key, stub)


@lru_cache(maxsize=512)
def upsert_from_sql(table: str, source: str, columns: tuple[str, ...], key: tuple[str, ...], stub: bool) -> str:
    """The same upsert reading its rows from `source` (a staging table)."""
    cols = ", ".join(columns + META)
    return _conflict(f"SELECT {cols} FROM {source}", table, columns, key, stub)


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


def _existing(db: Database, table: str, key: tuple[str, ...], keys: list[tuple[Any, ...]]) -> set:
    found: set[tuple[Any, ...]] = set()
    cols = ", ".join(key)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        if len(key) == 1:
            marks = ", ".join(["%s"] * len(chunk))
            params = [k[0] for k in chunk]
        else:
            marks = "VALUES " + ", ".join("(" + ", ".join(["%s"] * len(key)) + ")" for _ in chunk)
            params = [v for k in chunk for v in k]
        sql = f"SELECT {cols} FROM {table} WHERE ({cols}) IN ({marks})"
        found.update(tuple(r) for r in db.fetchall(sql, params))
    return found


def _replace_stale(db: Database, batch: TableRows, new_keys: set[tuple[Any, ...]]) -> int:
    """Delete rows in each replaced scope that the new set no longer has."""
    scope = batch.replace
    scopes = {tuple(row[c] for c in scope) for row in batch.rows}
    where = " AND ".join(f"{c} = %s" for c in scope)
    deleted = 0
    for values in scopes:
        rows = db.fetchall(f"SELECT {', '.join(batch.key)} FROM {batch.table} WHERE {where}", values)
        for stale in {tuple(r) for r in rows} - new_keys:
            match = " AND ".join(f"{c} = %s" for c in batch.key)
            deleted += db.execute(f"DELETE FROM {batch.table} WHERE {match}", stale)
    return deleted


def encoded(batch: TableRows) -> TableRows:
    """The batch with its JSON columns as canonical text (what both backends store and compare)."""
    if not any(isinstance(value, Json) for row in batch.rows for value in row.values()):
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
        before = _existing(db, batch.table, batch.key, keys)  # in-process: cheaper than anything else
        sql = upsert_sql(batch.table, batch.columns, batch.key, batch.stub)
        changed = db.executemany(sql, [row | meta for row in batch.rows])
        inserted = len(set(keys) - before)
        updated = max(0, changed - inserted)
    return Counts(inserted, updated, len(keys) - inserted - updated, deleted)


RETURNING = " RETURNING (xmax = 0)"  # PostgreSQL: true for an inserted row, false for an updated one


def _pg_upsert(db: Database, batch: TableRows, meta: dict[str, Any]) -> list[tuple[bool]]:
    """One flag per row written (unchanged rows return nothing), without a separate lookup."""
    if len(batch.rows) < COPY_MIN:
        sql = upsert_sql(batch.table, batch.columns, batch.key, batch.stub) + RETURNING
        return db.executemany_returning(sql, [row | meta for row in batch.rows])  # type: ignore[attr-defined]
    # Many rows: COPY them into a session scratch table, then one upsert from it.
    stage = "afc_stage_" + batch.table.replace(".", "_")
    columns = batch.columns + META
    tail = tuple(meta[m] for m in META)
    db.copy_stage(stage, batch.table, columns,  # type: ignore[attr-defined]
                  (tuple(row[c] for c in batch.columns) + tail for row in batch.rows))
    written = db.fetchall(upsert_from_sql(batch.table, stage, batch.columns, batch.key, batch.stub) + RETURNING)
    db.execute(f"DELETE FROM {stage}")  # cheaper than TRUNCATE for a few hundred rows
    return written
