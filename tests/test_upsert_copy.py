"""PostgreSQL upserts a batch of any size in one statement from binary arrays: the same semantics as row by row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from afc.db.upsert import apply
from afc.transform.model import TableRows

AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
COPY_MIN = 100  # a size that once took another path (COPY); both sides of it still checked


def teams(count: int, **extra) -> list[dict]:
    return [{"id": i, "name": f"Team {i}", **extra} for i in range(1, count + 1)]


@pytest.mark.parametrize("count", [COPY_MIN - 1, COPY_MIN + 50])
def test_counts_and_delta_detection_match_on_both_paths(db, count):
    meta = {"updated_at": AT, "raw_id": 1}
    with db.transaction():
        first = apply(db, TableRows("core.teams", ("id",), teams(count)), meta)
    assert (first.inserted, first.updated, first.unchanged) == (count, 0, 0)
    changed = teams(count)
    changed[0]["name"] = "Renamed"
    with db.transaction():
        second = apply(db, TableRows("core.teams", ("id",), changed), meta | {"raw_id": 2})
    assert (second.inserted, second.updated, second.unchanged) == (0, 1, count - 1)
    assert db.fetchall("SELECT id FROM core.teams WHERE raw_id = 2") == [(1,)]


def test_stubs_fill_only_unknown_values_in_large_batches(db):
    meta = {"updated_at": AT, "raw_id": 1}
    full = [{"id": i, "name": f"Team {i}", "code": None} for i in range(1, COPY_MIN + 11)]
    stubs = [{"id": i, "name": "Stub", "code": "STB"} for i in range(1, COPY_MIN + 21)]
    with db.transaction():
        apply(db, TableRows("core.teams", ("id",), full), meta)
        counts = apply(db, TableRows("core.teams", ("id",), stubs, stub=True), meta | {"raw_id": 2})
    assert counts.inserted == 10 and counts.updated == COPY_MIN + 10
    assert db.fetchone("SELECT name, code FROM core.teams WHERE id = 1") == ("Team 1", "STB")
    assert db.fetchone("SELECT name FROM core.teams WHERE id = %s", (COPY_MIN + 20,)) == ("Stub",)


def test_numbers_of_mixed_python_types_land_exactly(db):
    """An array has one element type: a numeric column fed ints and floats gets each value, and an unchanged
    re-send writes nothing."""
    meta = {"updated_at": AT, "raw_id": 1}
    rows = [{"fixture_id": 1, "team_id": t, "expected_goals": v}
            for t, v in enumerate([1, 1.87, 2.5, 45.0, None], start=1)]
    with db.transaction():
        apply(db, TableRows("core.fixtures", ("id",), [{"id": 1}]), meta)
        apply(db, TableRows("core.teams", ("id",), teams(5)), meta)
        first = apply(db, TableRows("core.fixture_team_stats", ("fixture_id", "team_id"), rows), meta)
        again = apply(db, TableRows("core.fixture_team_stats", ("fixture_id", "team_id"), rows), meta)
    assert (first.inserted, again.unchanged) == (5, 5)
    stored = [float(v) if v is not None else None for (v,) in db.fetchall(
        "SELECT expected_goals FROM core.fixture_team_stats ORDER BY team_id")]
    assert stored == [1.0, 1.87, 2.5, 45.0, None]
