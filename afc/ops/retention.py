"""Raw retention: drop archived responses older than a cut-off; core and marts are never touched.

PostgreSQL keeps raw.responses in monthly partitions: a month entirely older than the cut-off is
dropped whole (instant, no bloat); the rest (the cut-off's own month, the default partition) is
deleted in batches. SQLite deletes in batches, each its own short transaction so collectors keep
writing in between. Quarantine rows keep pointing at their pruned raw ids: they stay readable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from afc.config.bounds import MAX_SECONDS, option_duration
from afc.db import Database
from afc.db.ddl import bounded

PARTITIONS = """
SELECT c.relname FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_class p ON p.oid = i.inhparent
JOIN pg_namespace n ON n.oid = p.relnamespace
WHERE n.nspname = 'raw' AND p.relname = 'responses' ORDER BY c.relname"""
DELETE_BATCH = """
DELETE FROM raw.responses WHERE fetched_at < %(cutoff)s AND id IN (
    SELECT id FROM raw.responses WHERE fetched_at < %(cutoff)s ORDER BY id LIMIT %(batch)s)"""
COUNT_OLD = "SELECT COUNT(*) FROM raw.responses WHERE fetched_at < %(cutoff)s"
# What a prune deletes row by row: the old rows outside the partitions it drops whole.
COUNT_KEPT_PARTITIONS = COUNT_OLD + " AND tableoid <> ALL(CAST(%(dropped)s AS regclass[]))"
# The per-minute ledger rows are only needed for the current minute; keep two days for inspection.
OLD_MINUTES = "DELETE FROM ops.quota_minutes WHERE minute < %(before)s"
_MONTHLY = re.compile(r"^responses_(\d{4})_(\d{2})$")


@dataclass
class PruneResult:
    """What a prune removed."""

    cutoff: datetime
    partitions_dropped: list[str] = field(default_factory=list)
    rows_deleted: int = 0
    dry_run: bool = False
    partitioned: bool = False  # raw.responses has monthly partitions (PostgreSQL); SQLite has none to drop


def parse_age(text: str) -> timedelta:
    """`90d` → 90 days; at least one day (raw is what core is rebuilt from), at most a century."""
    seconds = option_duration("--raw-older-than", text, default_unit="", units="d", minimum=86400, maximum=MAX_SECONDS)
    return timedelta(seconds=seconds)


def _month_end(name: str) -> datetime | None:
    match = _MONTHLY.match(name)
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def droppable(db: Database, cutoff: datetime) -> list[str]:
    """Monthly partitions of raw.responses whose whole month lies before `cutoff` (PostgreSQL)."""
    if db.backend != "postgres":
        return []
    names = [r[0] for r in db.fetchall(PARTITIONS)]
    return [n for n in names if (end := _month_end(n)) is not None and end <= cutoff]


def _drop(db: Database, name: str) -> None:
    from psycopg import sql

    statement = sql.SQL("DROP TABLE raw.{}").format(sql.Identifier(name))
    bounded(db, f"dropping raw.{name}", ["raw.responses", f"raw.{name}"],
            lambda: db.execute(statement.as_string(db.conn)))  # type: ignore[attr-defined]


def prune(db: Database, older_than: timedelta, now: datetime, *, batch: int = 5000,
          dry_run: bool = False) -> PruneResult:
    """Remove raw responses fetched before `now - older_than`."""
    result = PruneResult(now - older_than, dry_run=dry_run, partitioned=db.backend == "postgres")
    result.partitions_dropped = droppable(db, result.cutoff)
    if dry_run:
        count = COUNT_KEPT_PARTITIONS if result.partitioned else COUNT_OLD
        row = db.fetchone(count, {"cutoff": result.cutoff,
                                  "dropped": [f"raw.{name}" for name in result.partitions_dropped]})
        result.rows_deleted = int(row[0]) if row else 0
        return result
    for name in result.partitions_dropped:
        _drop(db, name)
    while True:
        with db.transaction():
            deleted = db.execute(DELETE_BATCH, {"cutoff": result.cutoff, "batch": batch})
        result.rows_deleted += max(deleted, 0)
        if deleted < batch:
            break
    with db.transaction():
        db.execute(OLD_MINUTES, {"before": now - timedelta(days=2)})
    return result
