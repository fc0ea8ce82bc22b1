"""Large batches on PostgreSQL go through COPY + one upsert: the same semantics as row by row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from afc.db.upsert import COPY_MIN, apply
from afc.transform.model import TableRows

AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


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


def test_stubs_fill_only_unknown_values_through_copy(db):
    meta = {"updated_at": AT, "raw_id": 1}
    full = [{"id": i, "name": f"Team {i}", "code": None} for i in range(1, COPY_MIN + 11)]
    stubs = [{"id": i, "name": "Stub", "code": "STB"} for i in range(1, COPY_MIN + 21)]
    with db.transaction():
        apply(db, TableRows("core.teams", ("id",), full), meta)
        counts = apply(db, TableRows("core.teams", ("id",), stubs, stub=True), meta | {"raw_id": 2})
    assert counts.inserted == 10 and counts.updated == COPY_MIN + 10
    assert db.fetchone("SELECT name, code FROM core.teams WHERE id = 1") == ("Team 1", "STB")
    assert db.fetchone("SELECT name FROM core.teams WHERE id = %s", (COPY_MIN + 20,)) == ("Stub",)
