"""Coverage's look-ups in the raw archive: the latest whole-season call, through the partial index of such calls.

A season's odds list is fetched once and its odds every day by `date=`: the look-up used to walk every one of
those daily calls (newest first, reading each row) to find the season call weeks before, so it grew by the day.
"""

from __future__ import annotations

from datetime import timedelta

from afc.db import Database
from afc.marts.coverage.raw import EMPTY, LATEST, RUN, _sql, empty_answers, latest_run
from tests import coverage_data as data
from tests.coverage_data import LEAGUE, NOW, SEASON

SEASON_KEYS = {"league": LEAGUE, "season": SEASON}


def _daily_calls(db: Database, endpoint: str, days: int) -> None:
    """What a season of daily collection archives after the season call: narrowed calls, newer than it."""
    for day in range(days):
        at = NOW - timedelta(days=days - day)
        data.add_raw(db, endpoint, SEASON_KEYS | {"date": f"2026-09-{day % 28 + 1:02d}"}, at, 10)
        data.add_raw(db, endpoint, SEASON_KEYS | {"fixture": 1000 + day}, at, 1)
        data.add_raw(db, endpoint, SEASON_KEYS | {"bookmaker": 8}, at, 3)
        data.add_raw(db, endpoint, SEASON_KEYS, at + timedelta(minutes=1), 0, status=500)


def test_the_season_call_and_its_pages_not_the_narrowed_calls_after_it(db):
    data.league(db)
    first = NOW - timedelta(days=40)
    data.add_raw(db, "odds", SEASON_KEYS, first, 10, page=1, pages=3)
    data.add_raw(db, "odds", SEASON_KEYS | {"page": 2}, first + timedelta(seconds=5), 10, page=2, pages=3)
    data.add_raw(db, "odds", SEASON_KEYS | {"page": 3}, first + timedelta(seconds=9), 4, page=3, pages=3)
    _daily_calls(db, "odds", 30)
    run = latest_run(db, "odds", LEAGUE, SEASON)
    assert run is not None
    assert (run.fetched_at, run.items, run.pages, run.total_pages) == (first, 24, 3, 3)
    # A newer season call (with the time zone: still the whole season) replaces it.
    data.add_raw(db, "odds", SEASON_KEYS | {"timezone": "Europe/London"}, NOW - timedelta(hours=1), 7)
    run = latest_run(db, "odds", LEAGUE, SEASON)
    assert run is not None and (run.fetched_at, run.items, run.pages) == (NOW - timedelta(hours=1), 7, 1)


def test_no_season_call_among_narrowed_ones_is_none(db):
    data.league(db)
    _daily_calls(db, "injuries", 5)
    assert latest_run(db, "injuries", LEAGUE, SEASON) is None
    assert empty_answers(db, "injuries", LEAGUE, SEASON) == (0, None)


def test_empty_answers_count_only_season_calls(db):
    data.league(db)
    data.add_raw(db, "standings", SEASON_KEYS, NOW - timedelta(days=3), 0)
    data.add_raw(db, "standings", SEASON_KEYS, NOW - timedelta(days=1), 0)
    data.add_raw(db, "standings", SEASON_KEYS | {"team": 33}, NOW, 0)
    assert empty_answers(db, "standings", LEAGUE, SEASON) == (2, NOW - timedelta(days=1))


def _season_call_indexes(db: Database) -> list[str]:
    """The index's name; on PostgreSQL, where raw.responses is partitioned, each partition's own index."""
    if db.backend == "sqlite":
        return ["raw_responses_season_call_idx"]
    return [r[0] for r in db.fetchall("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                      "WHERE i.inhparent = 'raw.responses_season_call_idx'::regclass")]


def test_each_look_up_goes_through_the_season_call_index(db):
    """The queries repeat the partial index's predicate word for word; a drift in either makes the planner
    fall back to walking the table (on PostgreSQL, with sequential scans off, it cannot prove the index)."""
    data.league(db)
    _daily_calls(db, "odds", 3)
    keys = {"endpoint": "odds", "league": str(LEAGUE), "season": str(SEASON), "since": NOW}
    explain = "EXPLAIN QUERY PLAN " if db.backend == "sqlite" else "EXPLAIN "
    if db.backend == "postgres":
        db.execute("SET enable_seqscan = off")
    indexes = _season_call_indexes(db)
    assert indexes
    for query in (LATEST, RUN, EMPTY):
        plan = " ".join(str(row[-1]) for row in db.fetchall(explain + _sql(query, db.backend), keys))
        assert any(name in plan for name in indexes), plan


def test_season_counts_over_fixtures_read_only_the_index_on_sqlite(sqlite_url):
    """FIXTURES, PLAYED_SINCE, SEASON_TEAMS and DETAILS read a season's fixtures from the index (their status,
    updated_at and sides follow its key), not from each fixture's row."""
    from afc.db import connect
    from afc.db.sqlite import translate
    from afc.marts.coverage.measure import DETAILS, FIXTURES, PLAYED_SINCE, SEASON_TEAMS

    db = connect(sqlite_url)
    try:
        keys = SEASON_KEYS | {"since": NOW, "rechecks": 3} | {f"promised_{p}": True
                                                            for p in ("events", "lineups", "statistics", "players")}
        for query in (FIXTURES, PLAYED_SINCE, SEASON_TEAMS, DETAILS):
            plan = [str(row[-1]) for row in db.fetchall("EXPLAIN QUERY PLAN " + translate(query), keys)]
            scans = [step for step in plan if "core_fixtures" in step or step.startswith(("SEARCH f", "SCAN f"))]
            assert scans and all("COVERING INDEX core_fixtures_league_season_idx" in s for s in scans), plan
    finally:
        db.close()
