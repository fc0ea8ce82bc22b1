"""Finished fixtures whose details are due: at full time, then once more for the API's silent corrections.

A row per fixture in ops.live_followups: `final` (fetch the details now, or at `due_at`), `recheck`
(fetch them again after the re-check delay), `done` (kept for two days so the same fixture is not
queued again, then deleted). The queue lives in the database, so a restarted loop carries on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from afc.config.live import LiveConfig
from afc.db import Database, as_datetime, marks

QUEUE = """
INSERT INTO ops.live_followups AS q (fixture_id, kind, due_at, attempts, created_at, updated_at)
VALUES (%(id)s, 'final', %(now)s, 0, %(now)s, %(now)s)
ON CONFLICT (fixture_id) DO UPDATE SET due_at = excluded.due_at, updated_at = excluded.updated_at
WHERE q.kind = 'final' AND q.due_at > excluded.due_at"""
DUE = """
SELECT fixture_id, kind, attempts FROM ops.live_followups
WHERE kind <> 'done' AND due_at <= %(now)s ORDER BY due_at, fixture_id LIMIT %(limit)s"""
NEXT_DUE = "SELECT due_at FROM ops.live_followups WHERE kind <> 'done' ORDER BY due_at LIMIT 1"
MOVE = """
UPDATE ops.live_followups SET kind = %(kind)s, due_at = %(due)s, attempts = %(attempts)s, updated_at = %(now)s
WHERE fixture_id = %(id)s"""
CLEAR = "DELETE FROM ops.live_followups WHERE kind = 'final' AND fixture_id IN ({ids})"
FORGET = "DELETE FROM ops.live_followups WHERE kind = 'done' AND updated_at < %(before)s"
KEEP_DONE = timedelta(days=2)


@dataclass(frozen=True)
class Followup:
    """One fixture whose details are due."""

    fixture_id: int
    kind: str  # final | recheck
    attempts: int


def queue(db: Database, fixture_ids: Iterable[int], now: datetime) -> int:
    """Ask for these fixtures' final details now (a pending request is brought forward, never pushed back)."""
    rows = [{"id": fixture_id, "now": now} for fixture_id in sorted(set(fixture_ids))]
    return max(0, db.executemany(QUEUE, rows)) if rows else 0


def clear(db: Database, live_ids: Iterable[int]) -> int:
    """Drop pending `final` requests of fixtures the live list shows in play again (a glitch, not an end)."""
    ids = sorted(set(live_ids))
    if not ids:
        return 0
    return max(0, db.execute(CLEAR.format(ids=marks(len(ids))), ids))


def due(db: Database, now: datetime, limit: int = 20) -> list[Followup]:
    """Up to `limit` follow-ups due at `now`, oldest first."""
    return [Followup(*row) for row in db.fetchall(DUE, {"now": now, "limit": limit})]


def next_due(db: Database) -> datetime | None:
    """When the next pending follow-up is due."""
    row = db.fetchone(NEXT_DUE)
    return as_datetime(row[0]) if row else None


def settle(db: Database, batch: list[Followup], groups: dict[int, str | None], now: datetime,
           live: LiveConfig) -> None:
    """After an ids= fetch: re-check finished fixtures later, retry unfinished ones, close the rest."""
    for item in batch:
        kind, delay, attempts = _next(item, groups.get(item.fixture_id), live)
        db.execute(MOVE, {"id": item.fixture_id, "kind": kind, "attempts": attempts, "now": now,
                          "due": now + timedelta(seconds=delay) if kind != "done" else None})


def _next(item: Followup, group: str | None, live: LiveConfig) -> tuple[str, int, int]:
    """(kind, delay, attempts) after one fetch of `item` that found the fixture in status `group`."""
    if item.kind == "recheck":
        return "done", 0, item.attempts + 1
    if group == "finished":
        return "recheck", live.recheck_delay, item.attempts + 1
    if group in ("postponed", "cancelled", "abandoned", "not_played"):
        return "done", 0, item.attempts + 1  # nothing more will happen to it today
    if item.attempts + 1 >= live.attempts:
        return "done", 0, item.attempts + 1  # the daily job's post-match sweep takes over
    return "final", live.retry_delay, item.attempts + 1


def forget(db: Database, now: datetime) -> int:
    """Delete follow-ups closed more than two days ago."""
    return max(0, db.execute(FORGET, {"before": now - KEEP_DONE}))
