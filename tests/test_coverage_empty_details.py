"""Fixture detail parts answered `[]` where the league season's flags promise them: gaps, re-checked on the
season lists' schedule (1, 3, 7 days for a current season; 7 days once for a finished one), then empty at source.

The answers go through the real path: the /fixtures?ids= transform, the upsert and the mart refreshers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest

from afc import transform
from afc.api.client import Request
from afc.collect.collector import Collector
from afc.collect.step import write_batch
from afc.config.jobs import load
from afc.coverage import compute, coverage_config, gaps
from afc.marts.coverage import report
from tests import coverage_data as data
from tests.coverage_data import LEAGUE, NOW

KICKOFF = NOW - timedelta(days=5)
EVENT = [{"time": {"elapsed": 10}, "type": "Goal", "team": {"id": 1}}]
STATS = [{"team": {"id": 1, "name": "A"}, "statistics": [{"type": "Fouls", "value": 3}]}]


@pytest.fixture
def config(tmp_path):
    return load(data.jobs_dir(tmp_path / "jobs"))


def item(fixture_id: int, status: str = "FT", season: int = 2026, **parts: Any) -> dict[str, Any]:
    """A /fixtures?ids= item: every part held unless given (`lineups=[]`: answered empty)."""
    return {"fixture": {"id": fixture_id, "timestamp": int(KICKOFF.timestamp()), "status": {"short": status}},
            "league": {"id": LEAGUE, "season": season}, "goals": {"home": 1, "away": 0}, "score": {},
            "teams": {"home": {"id": 1, "name": "A"}, "away": {"id": 2, "name": "B"}},
            **({"events": EVENT, "lineups": [{"team": {"id": 1}}], "statistics": STATS,
                "players": [{"team": {"id": 1}}]} | parts)}


def answer(db, at: datetime, *items: dict[str, Any]) -> None:
    """Store one /fixtures?ids= answer as the collector does (transform, upsert, mart refreshers)."""
    ids = "-".join(str(i["fixture"]["id"]) for i in items)
    batch = transform.run("fixtures", {"ids": ids}, list(items))
    with db.transaction():
        raw_id = data.add_raw(db, "fixtures", {"ids": ids}, at, len(items))
        write_batch(db, batch, raw_id, at, "fixtures")


def season(db, year: int = 2026, current: bool = True, **flags: Any) -> None:
    with db.transaction():
        data.league(db, LEAGUE, year, current=current, **flags)


def row(db, config, endpoint: str, year: int = 2026, now: datetime = NOW):
    return next(r for r in compute(db, coverage_config(config), [(LEAGUE, year)], now) if r.endpoint == endpoint)


def details_gap(db, config, year: int = 2026, now: datetime = NOW):
    return next((g for g in gaps(db, config, now, LEAGUE, year) if g.endpoint == "details"), None)


def counted(db, fixture_id: int) -> tuple[Any, ...] | None:
    return db.fetchone("SELECT events, lineups, statistics, players FROM mart.coverage_empty_details "
                       "WHERE fixture_id = %s", (fixture_id,))


@pytest.mark.parametrize("part, endpoint", [("lineups", "lineups"), ("events", "events"),
                                            ("statistics", "statistics"), ("players", "fixture_players")])
def test_an_empty_part_the_flags_promise_is_not_held(db, config, part, endpoint):
    season(db, cov_statistics_players=True)
    empty: dict[str, Any] = {part: []}
    answer(db, NOW - timedelta(hours=2), item(1), item(2, **empty))
    found = row(db, config, endpoint)
    assert (found.held, found.expected, found.count_pct) == (1, 2, 50.0)  # not "100% 2/2 ok"
    assert found.status != "ok" and found.detail["empty"] == 1 and found.detail["empty_at_source"] == 0
    gap = details_gap(db, config)
    assert gap is not None and gap.calls == 0 and gap.requests == []  # the re-check is due in a day
    assert "re-check due 2026-11-29 10:00 UTC" in gap.reason
    later = NOW + timedelta(days=1)
    gap = details_gap(db, config, now=later)
    assert gap is not None and [str(r) for r in gap.requests] == ["/fixtures?ids=2"] and gap.rechecks == (2,)


def test_the_mart_refreshed_per_response_agrees(db, config, tmp_path):
    season(db)
    report(db, config, NOW - timedelta(hours=3))  # the league season is measured: responses refresh it
    answer(db, NOW - timedelta(hours=2), item(1), item(2, lineups=[]))
    held, count = db.fetchone("SELECT held, count_pct FROM mart.coverage_status WHERE endpoint = 'lineups'")
    assert (held, float(count)) == (1, 50.0)
    assert counted(db, 2) == (0, 1, 0, 0) and counted(db, 1) is None


def test_current_season_rechecks_after_1_3_7_days_then_empty_at_source(db, config):
    season(db)
    at = NOW - timedelta(days=30)
    for delay in (1, 3, 7):
        answer(db, at, item(2, lineups=[]))
        gap = details_gap(db, config, now=at + timedelta(days=delay) - timedelta(minutes=1))
        assert gap is not None and gap.calls == 0, delay  # not due yet
        gap = details_gap(db, config, now=at + timedelta(days=delay))
        assert gap is not None and gap.rechecks == (2,) and gap.calls == 1, delay
        at += timedelta(days=delay)
    answer(db, at, item(2, lineups=[]))  # the 4th empty answer: the re-checks are spent
    assert counted(db, 2) == (0, 4, 0, 0)
    found = row(db, config, "lineups", now=at + timedelta(days=30))
    assert found.status == "not_applicable" and found.detail["empty_at_source"] == 1
    assert found.detail["reason"].startswith("empty at source: 1 finished fixtures answered lineups empty 4 times")
    assert details_gap(db, config, now=at + timedelta(days=30)) is None


def test_a_finished_season_is_rechecked_once_after_7_days(db, config):
    season(db, 2019, current=False)
    at = NOW - timedelta(days=20)
    answer(db, at, item(1, season=2019), item(2, season=2019, statistics=[]))
    assert details_gap(db, config, 2019, now=at + timedelta(days=6)).calls == 0
    assert details_gap(db, config, 2019, now=at + timedelta(days=7)).rechecks == (2,)
    answer(db, at + timedelta(days=7), item(2, season=2019, statistics=[]))
    found = row(db, config, "statistics", 2019)
    # one fixture held, one empty at source: expected shrinks to what the API can still give
    assert (found.held, found.expected, found.count_pct) == (1, 1, 100.0) and found.detail["empty_at_source"] == 1
    assert details_gap(db, config, 2019) is None


def test_an_answer_with_the_part_ends_it(db, config):
    season(db)
    answer(db, NOW - timedelta(days=3), item(2, events=[]))
    answer(db, NOW - timedelta(days=1), item(2))
    found = row(db, config, "events")
    assert (found.held, found.count_pct) == (1, 100.0) and details_gap(db, config) is None


def test_without_a_promise_an_empty_part_is_held(db, config):
    """Flags unknown (no /leagues yet) keep the old rule; a flag that says false makes the part n/a."""
    answer(db, NOW - timedelta(hours=2), item(2, lineups=[]))  # the league season is a stub: flags unknown
    with db.transaction():
        data.add_raw(db, "fixtures", {"league": LEAGUE, "season": 2026}, NOW - timedelta(hours=3), 1)
    assert row(db, config, "lineups").held == 1
    with db.transaction():
        db.execute("UPDATE core.league_seasons SET cov_lineups = %s WHERE league_id = %s", (False, LEAGUE))
    assert row(db, config, "lineups").status == "not_applicable"


def test_an_empty_answer_without_a_count_is_rechecked_at_once(db, config):
    """`[]` stored before empty answers were counted (or counts pruned): re-checked now, once counted."""
    season(db)
    with db.transaction():
        data.fixture(db, 2, KICKOFF, True, 1, 2)
        data.details(db, 2, "events", "statistics", "players")
        db.execute("UPDATE core.fixture_details SET lineups = '[]' WHERE fixture_id = 2")
    assert row(db, config, "lineups").held == 0
    gap = details_gap(db, config)
    assert gap is not None and gap.rechecks == (2,) and str(gap.requests[0]) == "/fixtures?ids=2"


def test_a_replayed_answer_is_counted_once(db):
    """A rebuild replays raw in order: an answer no newer than the last one counted changes nothing."""
    season(db)
    at = NOW - timedelta(days=2)
    answer(db, at, item(2, lineups=[], players=[]))
    answer(db, at, item(2, lineups=[], players=[]))
    assert counted(db, 2) == (0, 1, 0, 1)


def test_a_match_in_play_is_not_counted(db):
    season(db)
    answer(db, NOW - timedelta(hours=1), item(2, status="2H", statistics=[], lineups=[]))
    assert counted(db, 2) is None


def test_ids_batches_of_20_mix_missing_and_due_rechecks(db, config):
    season(db, cov_lineups=True, cov_statistics_fixtures=False)
    old = NOW - timedelta(days=10)
    answer(db, old, *[item(i, lineups=[]) for i in range(1, 31)])  # 30 due a re-check
    with db.transaction():
        for fid in range(31, 36):
            data.fixture(db, fid, KICKOFF, True, 1, 2)  # 5 never fetched
    gap = details_gap(db, config)
    assert gap is not None and [len(r.query["ids"].split("-")) for r in gap.requests] == [20, 15]
    assert gap.calls == 2 and len(gap.rechecks) == 30
    lineups = row(db, config, "lineups")
    assert (lineups.held, lineups.expected, lineups.detail["empty"]) == (0, 35, 30)  # 5 missing, 30 empty
    assert gap.reason == "5 finished fixtures lack events, lineups; 30 answered an empty part the flags promise: " \
                         "re-check now"


def test_backfill_from_gaps_asks_only_when_due(db, config):
    from afc.backfill.gaps import find

    season(db)
    answer(db, NOW - timedelta(hours=5), item(2, lineups=[]))
    with db.transaction():  # the season's fixture list is held and fresh
        data.add_raw(db, "fixtures", {"league": LEAGUE, "season": 2026}, NOW - timedelta(hours=1), 1)
    collector = SimpleNamespace(db=db, config=config, now=lambda: NOW)
    assert "details" not in {g.endpoint for g in find(cast(Collector, collector), [LEAGUE], [2026])}
    collector.now = lambda: NOW + timedelta(days=1)
    found = {g.endpoint: g for g in find(cast(Collector, collector), [LEAGUE], [2026])}
    assert found["details"].requests == [Request.of("fixtures", {"ids": [2]})]


@pytest.mark.parametrize("list_age", [timedelta(hours=1), timedelta(days=3)])  # fresh; stale: a gap itself
def test_backfill_from_gaps_plans_the_due_recheck(db, config, list_age):
    from afc.backfill import tasks
    from afc.backfill.gaps import find, plan_gaps

    season(db)
    answer(db, NOW - timedelta(days=2), item(2, lineups=[]))
    with db.transaction():
        data.add_raw(db, "fixtures", {"league": LEAGUE, "season": 2026}, NOW - list_age, 1)
    collector = cast(Collector, SimpleNamespace(db=db, config=config, now=lambda: NOW))
    [plan] = plan_gaps(collector, find(collector, [LEAGUE], [2026]))
    planned = [(t.kind, t.params) for t in tasks.tasks(db, plan.id) if t.status == "pending"]
    assert ("details", {"ids": "2"}) in planned
    assert [p for k, p in planned if k == "details"] == [{"ids": "2"}]  # asked once, not twice
