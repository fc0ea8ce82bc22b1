"""Every view of "in play" agrees with the live panel's bound: a fixture left in a live status past
kick-off + SETTLE_AFTER is at most "unsettled", never in play (MCP template, health, schedule, panel)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from afc.db import Database
from afc.marts.live import SETTLE_AFTER
from afc.mcp.readonly import ReadOnlyDb
from afc.mcp.templates import run_template

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _fixture(db: Database, fixture_id: int, kickoff: datetime) -> None:
    db.execute("INSERT INTO core.fixtures (id, league_id, kickoff_at, status_short, status_group, elapsed, "
               "updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)", (fixture_id, 39, kickoff, "2H", "live", 70, NOW))


def _target(url: str) -> ReadOnlyDb:
    if url.startswith("sqlite:"):
        path = url.split(":///", 1)[1]
        return ReadOnlyDb("sqlite", path, None, path)
    return ReadOnlyDb("postgres", url, None, "test")


def test_live_fixtures_status_lists_a_stuck_fixture_as_unsettled(db: Database, db_url: str) -> None:
    with db.transaction():
        _fixture(db, 1, NOW - timedelta(hours=1))
        _fixture(db, 2, NOW - SETTLE_AFTER - timedelta(minutes=1))
        _fixture(db, 3, NOW - timedelta(days=400))  # an old recording replayed
    out = run_template(_target(db_url), "live_fixtures_status", {"stale_minutes": 60}, NOW)
    rows = [dict(zip(out.columns, r, strict=True)) for r in out.rows]
    assert [(r["fixture_id"], r["state"], r["stale"]) for r in rows] == [
        (1, "in_play", 0), (3, "unsettled", 1), (2, "unsettled", 1)]
