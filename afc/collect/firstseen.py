"""When a fixture's confirmed lineups were first seen, relative to its kickoff (core.fixture_details).

A transform cannot know when its response was fetched, so the mark is set here, in the response's
transaction, from the response's fetch time: the first answer with both starting elevens sets it and
later ones leave it as it is. A rebuild replays raw in fetch order and so sets the same marks. A details
row the response inserts takes its mark with the INSERT (`marked`); one that existed already gets it by UPDATE.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from afc.db import Database, among, as_datetime
from afc.transform.model import TableRows

KICKOFFS = """
SELECT d.fixture_id, f.kickoff_at FROM core.fixture_details d JOIN core.fixtures f ON f.id = d.fixture_id
WHERE d.lineups_seen_at IS NULL AND d.fixture_id {keys}"""
# PostgreSQL: every first sight marked in one statement; the minutes as Python's `_minutes_before` computes
# them (a double divided by 60, rounded half to even: rint, as Python's round).
MARK_ALL = """
UPDATE core.fixture_details d SET lineups_seen_at = %(at)s,
    lineups_before_kickoff_min = round(CAST(extract(epoch FROM f.kickoff_at - %(at)s) AS double precision) / 60)
FROM core.fixtures f
WHERE f.id = d.fixture_id AND d.lineups_seen_at IS NULL AND d.fixture_id = ANY(%(ids)s)"""
MARK = """
UPDATE core.fixture_details SET lineups_seen_at = %(at)s, lineups_before_kickoff_min = %(before)s
WHERE fixture_id = %(id)s AND lineups_seen_at IS NULL"""
MARKS = ("lineups_seen_at", "lineups_before_kickoff_min")


def mark_lineups(db: Database, fixture_ids: Iterable[int], at: datetime) -> int:
    """Mark the fixtures whose lineups `at` is the first sight of; returns how many were marked."""
    ids = sorted(set(fixture_ids))
    if not ids:
        return 0
    if db.backend == "postgres":
        return db.execute(MARK_ALL, {"at": at, "ids": ids})
    test, params = among(db, ids)
    rows = db.fetchall(KICKOFFS.format(keys=test), params)
    seen = [{"id": fixture_id, "at": at, "before": _minutes_before(as_datetime(kickoff), at)}
            for fixture_id, kickoff in rows]
    return max(0, db.executemany(MARK, seen)) if seen else 0


def send_lineup_marks(db: Database, fixture_ids: Iterable[int], at: datetime) -> None:
    """`mark_lineups` without waiting for its count: PostgreSQL sends the UPDATE with the response's next statement
    that waits (no round trip of its own)."""
    ids = sorted(set(fixture_ids))
    if ids and db.backend == "postgres":
        db.send(MARK_ALL, {"at": at, "ids": ids})
    elif ids:
        mark_lineups(db, ids, at)


def marked(tables: list[TableRows], fixture_ids: Iterable[int], at: datetime) -> list[TableRows]:
    """`tables` with the details rows of `fixture_ids` (confirmed lineups) carrying their mark as columns only an
    INSERT writes: a row inserted and then marked is written twice (SQLite rewrites the whole row, parts and all).
    Only where the batch holds the fixture's full row, whose kickoff core holds once it is written; an existing
    row keeps its mark, or gets one from `mark_lineups` after the upsert, as before."""
    ids = set(fixture_ids)
    if not ids:
        return tables
    kickoffs = {row["id"]: row["kickoff_at"] for t in tables if t.table == "core.fixtures" and not t.stub
                for row in t.rows if row["id"] in ids and "kickoff_at" in row}
    return [_with_marks(t, kickoffs, at) if t.table == "core.fixture_details" and kickoffs else t for t in tables]


def _with_marks(rows: TableRows, kickoffs: dict[int, Any], at: datetime) -> TableRows:
    if not any(row["fixture_id"] in kickoffs for row in rows.rows):
        return rows
    blank = dict.fromkeys(MARKS)
    return replace(rows, first=rows.first + MARKS, rows=[
        row | ({MARKS[0]: at, MARKS[1]: _minutes_before(as_datetime(kickoffs[row["fixture_id"]]), at)}
               if row["fixture_id"] in kickoffs else blank) for row in rows.rows])


def _minutes_before(kickoff: datetime | None, at: datetime) -> int | None:
    """Whole minutes from `at` to kickoff (negative once the match has started)."""
    return None if kickoff is None else round((kickoff - at).total_seconds() / 60)
