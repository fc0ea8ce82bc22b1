"""What the mart refreshers share: key chunks and an upsert that writes only rows that changed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from afc.db import Database, among, marks

CHUNK = 500  # keys per statement: well under both backends' parameter limits


def chunks(keys: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    """Sorted keys in lists of at most `size` (sorted so that runs are deterministic)."""
    ordered = sorted(keys)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


@lru_cache(maxsize=32)
def upsert_sql(table: str, key: tuple[str, ...], columns: tuple[str, ...]) -> str:
    """INSERT … ON CONFLICT DO UPDATE only when a value differs; updated_at is never compared. Positional
    parameters: both drivers bind a tuple several times faster than a dict of names."""
    values = [c for c in columns if c not in key]
    cols = ", ".join(columns + ("updated_at",))
    placeholders = marks(len(columns) + 1)
    sets = ", ".join(f"{c} = excluded.{c}" for c in values + ["updated_at"])
    old = ", ".join(f"t.{c}" for c in values)
    new = ", ".join(f"excluded.{c}" for c in values)
    return (f"INSERT INTO {table} AS t ({cols}) VALUES ({placeholders}) ON CONFLICT ({', '.join(key)}) "
            f"DO UPDATE SET {sets} WHERE ({old}) IS DISTINCT FROM ({new})")


def upsert(db: Database, table: str, key: tuple[str, ...], rows: Sequence[dict[str, Any]], now: datetime) -> int:
    """Write `rows` into a mart table; returns how many were inserted or changed."""
    if not rows:
        return 0
    columns = tuple(rows[0])
    sql = upsert_sql(table, key, columns)
    return max(0, db.executemany(sql, [(*[row[c] for c in columns], now) for row in rows]))


def delete(db: Database, table: str, column: str, keys: Sequence[Any]) -> int:
    """Delete the rows of `table` whose `column` is one of `keys`."""
    deleted = 0
    for chunk in chunks(keys):
        test, params = among(db, chunk)
        deleted += max(0, db.execute(f"DELETE FROM {table} WHERE {column} {test}", params))
    return deleted
