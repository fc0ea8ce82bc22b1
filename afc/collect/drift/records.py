"""ops.drift: one row per endpoint, path, kind and seen type, with first/last seen and a count of responses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from afc.collect.drift.observer import Difference
from afc.db import Database, among, as_datetime

# The example is the latest response that showed the difference: it outlives raw retention longest.
RECORD = """
INSERT INTO ops.drift AS d (endpoint, path, kind, expected_type, seen_type, first_seen_at, last_seen_at,
                            example_raw_id, count)
VALUES (%(endpoint)s, %(path)s, %(kind)s, %(expected)s, %(seen)s, %(now)s, %(now)s, %(raw_id)s, 1)
ON CONFLICT (endpoint, path, kind, seen_type) DO UPDATE SET
    count = d.count + 1,
    expected_type = excluded.expected_type,
    first_seen_at = CASE WHEN excluded.first_seen_at < d.first_seen_at
                         THEN excluded.first_seen_at ELSE d.first_seen_at END,
    example_raw_id = CASE WHEN excluded.last_seen_at >= d.last_seen_at
                          THEN excluded.example_raw_id ELSE d.example_raw_id END,
    last_seen_at = CASE WHEN excluded.last_seen_at > d.last_seen_at
                        THEN excluded.last_seen_at ELSE d.last_seen_at END"""
LIST = """
SELECT id, endpoint, path, kind, expected_type, seen_type, first_seen_at, last_seen_at, example_raw_id,
       count, acknowledged_at
FROM ops.drift {where} ORDER BY endpoint, path, kind, seen_type"""
ACK_ALL = "UPDATE ops.drift SET acknowledged_at = %(now)s WHERE acknowledged_at IS NULL"
ACK_ONE = "UPDATE ops.drift SET acknowledged_at = %(now)s WHERE acknowledged_at IS NULL AND id = %(id)s"
KNOWN_IDS = "SELECT id FROM ops.drift WHERE id {keys}"
OPEN = "SELECT count(*) FROM ops.drift WHERE acknowledged_at IS NULL"


@dataclass(frozen=True)
class Drift:
    """One recorded difference between what the API sent and what afc knows."""

    id: int
    endpoint: str
    path: str
    kind: str
    expected_type: str | None
    seen_type: str
    first_seen_at: datetime
    last_seen_at: datetime
    example_raw_id: int | None
    count: int
    acknowledged_at: datetime | None


PATH_MAX = 300  # an answer's key is the API's text: PostgreSQL's unique index refuses one of a few kB


def _shown(path: str) -> str:
    return "(item)" if not path else path if len(path) <= PATH_MAX else path[:PATH_MAX] + "…"


def record(db: Database, endpoint: str, found: Iterable[Difference], raw_id: int | None, now: datetime) -> int:
    """Add one response's differences (inside the caller's transaction); returns how many there were."""
    rows = [{"endpoint": endpoint, "path": _shown(path), "kind": kind, "expected": expected,
             "seen": seen, "now": now, "raw_id": raw_id}
            for path, kind, expected, seen in sorted(found, key=lambda d: (d[0], d[1], d[3]))]
    if rows:
        db.executemany(RECORD, rows)
    return len(rows)


def listing(db: Database, *, include_acknowledged: bool = True) -> list[Drift]:
    """Every drift record (or only the unacknowledged ones), by endpoint and path."""
    where = "" if include_acknowledged else "WHERE acknowledged_at IS NULL"
    drifts = []
    for row in db.fetch_dicts(LIST.format(where=where)):
        row.update((k, as_datetime(row[k])) for k in ("first_seen_at", "last_seen_at", "acknowledged_at"))
        drifts.append(Drift(**row))
    return drifts


def acknowledge(db: Database, ids: Sequence[int] | None, now: datetime) -> int:
    """Mark drift as seen by a person (`ids=None`: all of it); returns rows newly acknowledged."""
    with db.transaction():
        if ids is None:
            return max(0, db.execute(ACK_ALL, {"now": now}))
        return sum(max(0, db.execute(ACK_ONE, {"now": now, "id": i})) for i in ids)


def unknown_ids(db: Database, ids: Sequence[int]) -> list[int]:
    """Those of `ids` that name no drift record."""
    if not ids:
        return []
    test, params = among(db, list(ids))
    found = {r[0] for r in db.fetchall(KNOWN_IDS.format(keys=test), params)}
    return [i for i in ids if i not in found]


def unacknowledged(db: Database) -> int:
    """How many drift records nobody has acknowledged yet (for `afc health`)."""
    row = db.fetchone(OPEN)
    return int(row[0]) if row else 0
