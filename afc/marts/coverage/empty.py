"""Detail parts answered empty: counted per finished fixture and part, for coverage's re-check schedule.

A transform touches `detail_empty` with `(fixture_id, part)` for every part an answer carried as `[]`;
this refresher adds one to those parts' counts, in the transaction that stores the answer. Its cost
follows the fixtures of that one answer (at most 20 for an `ids=` call), never the season's size.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from afc.db import Database

PARTS = ("events", "lineups", "statistics", "players")
# Only a finished fixture's empty part means anything (a match in play has no statistics yet). An
# answer older than the last one counted changes nothing, so a rebuild replaying raw counts each once.
RECORD = """
INSERT INTO mart.coverage_empty_details AS t (fixture_id, events, lineups, statistics, players, last_empty_at)
SELECT f.id, %(events)s, %(lineups)s, %(statistics)s, %(players)s, %(now)s FROM core.fixtures f
WHERE f.id = %(fixture)s AND f.status_group = 'finished'
ON CONFLICT (fixture_id) DO UPDATE SET events = t.events + excluded.events,
    lineups = t.lineups + excluded.lineups, statistics = t.statistics + excluded.statistics,
    players = t.players + excluded.players, last_empty_at = excluded.last_empty_at
WHERE t.last_empty_at < excluded.last_empty_at"""


def record_empty_details(db: Database, keys: set[Any], now: datetime) -> int:
    """Count one more empty answer for each touched `(fixture_id, part)`; returns rows written."""
    empty: dict[int, set[str]] = {}
    for fixture_id, part in keys:
        empty.setdefault(int(fixture_id), set()).add(str(part))
    rows = [{"fixture": fixture_id, "now": now} | {p: int(p in parts) for p in PARTS}
            for fixture_id, parts in sorted(empty.items())]
    return db.executemany(RECORD, rows) if rows else 0
