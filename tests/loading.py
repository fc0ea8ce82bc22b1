"""Loading recorded responses through the transforms into a test database, one transaction each."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from afc import transform
from afc.collect.step import write_batch
from afc.db import Database
from afc.db.upsert import Counts

AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def load(db: Database, endpoint: str, params: dict[str, str], items: list[Any], *, at: datetime = AT,
         raw_id: int = 1) -> Counts:
    """Transform `items` as an answer to `endpoint?params` and write them like the pipeline does."""
    items = items if isinstance(items, list) else [items]  # an object answer, as Response.items gives it
    batch = transform.run(endpoint, params, items)
    assert batch.quarantined == [], batch.quarantined
    with db.transaction():
        return write_batch(db, batch, raw_id, at, endpoint)


def one(db: Database, sql: str, params: Any = ()) -> dict[str, Any]:
    """The single row `sql` returns, as a dict."""
    rows = db.fetch_dicts(sql, params)
    assert len(rows) == 1, rows
    return rows[0]
