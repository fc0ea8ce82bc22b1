"""History against the sandbox: one fixture's odds from their first appearance to kick-off checked against
the sandbox's own prices, in-play odds, tables per round; rebuilt from raw identically, never pruned."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from afc.api.client import Request
from afc.clock import SimClock
from afc.collect import rebuild
from afc.collect import step as pipeline
from afc.collect.collector import Collector
from afc.config.settings import load_settings
from afc.db import Database, as_datetime
from afc.marts.history import refresh_odds_movement
from afc.ops.retention import prune
from afc.sandbox import Sandbox, SandboxConfig, start_sandbox
from afc.sandbox.catalog import LEAGUE_BY_ID
from afc.sandbox.contract import Query
from afc.sandbox.endpoints.odds import has_odds, odds_item, opens
from afc.sandbox.schedule import Fixture
from afc.sandbox.world import World
from afc.transform.history import selection
from tests.conftest import scalar

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
EVERY = timedelta(minutes=90)  # two fetches per 3-hour odds update: every other one finds nothing new
HISTORY_TABLES = ("core.odds_history", "core.standings_history", "mart.odds_movement", "mart.table_by_round")
Price = tuple[int, int, str, datetime, float]  # bookmaker, bet, value, fetched_at, odd


def pick_fixture(world: World) -> Fixture:
    """A fixture whose pre-match odds open less than 2.5 days before kick-off (a short test)."""
    probe = Query("odds", {}, world, START)
    for fx in world.fixtures_between(START + timedelta(days=3), START + timedelta(days=40)):
        covered = LEAGUE_BY_ID[fx.league_id].coverage()["odds"] and fx.fate != "CANC"
        if covered and fx.kickoff - opens(probe, fx) < timedelta(days=2.5):
            return fx
    raise AssertionError("the sandbox has no fixture with a short odds window")


@dataclass
class Followed:
    """One fixture's odds fetched from opening to after kick-off, and the sandbox's prices at each fetch."""

    collector: Collector
    sandbox: Sandbox
    fixture: Fixture
    truth: list[tuple[datetime, dict[str, Any]]]  # fetch time → the sandbox's /odds item then
    written: list[int]  # history rows each fetch added

    @property
    def db(self) -> Database:
        return self.collector.db


def history_rows(db: Database) -> int:
    return scalar(db, "SELECT count(*) FROM core.odds_history")


@pytest.fixture
def followed(db_url: str) -> Iterator[Followed]:
    clock = SimClock(START, speed=0)
    with start_sandbox(SandboxConfig(seed=42, plan="mega", rate_limit=False), clock=clock) as sandbox:
        collector = Collector.open(load_settings({}, api_key=sandbox.key, api_base_url=sandbox.url,
                                                 database_url=db_url), clock=clock)
        fx = pick_fixture(sandbox.world)
        ctx = collector.context("test", "test", "HIGH")
        truth, written = [], []
        at = opens(Query("odds", {}, sandbox.world, START), fx) + timedelta(minutes=1)
        while at <= fx.kickoff + timedelta(hours=4):
            clock.set(at)
            before = history_rows(collector.db)
            pipeline.step(ctx, Request.of("odds", {"fixture": fx.id}))
            written.append(history_rows(collector.db) - before)
            query = Query("odds", {"fixture": str(fx.id)}, sandbox.world, at)
            truth.append((at, odds_item(query, fx) if has_odds(query, fx) else {"bookmakers": []}))
            at += EVERY
        yield Followed(collector, sandbox, fx, truth, written)
        collector.close()


def expected_prices(truth: list[tuple[datetime, dict[str, Any]]]) -> list[Price]:
    """The moves the sandbox's prices make, fetch by fetch: a selection's price when it differs from its last."""
    last: dict[tuple[int, int, str], float] = {}
    moves = []
    for at, item in truth:
        for book in item["bookmakers"]:
            for bet in book["bets"]:
                for value in bet["values"]:
                    key, odd = (book["id"], bet["id"], selection(str(value["value"]))), float(value["odd"])
                    if last.get(key) != odd:
                        last[key] = odd
                        moves.append((*key, at, odd))
    return moves


def held_prices(db: Database) -> list[Price]:
    rows = db.fetchall("SELECT bookmaker_id, bet_id, value, fetched_at, odd FROM core.odds_history WHERE in_play = %s",
                       (False,))
    return sorted((b, bet, v, as_datetime(at), float(odd)) for b, bet, v, at, odd in rows)  # type: ignore[misc]


def test_one_fixture_from_its_first_odds_to_kickoff_matches_the_sandbox(followed: Followed) -> None:
    db, fx = followed.db, followed.fixture
    expected = expected_prices(followed.truth)
    assert held_prices(db) == sorted(expected)  # every move, each once
    # a re-fetch inside the same 3-hour update writes nothing: history is not a log of fetches
    updates = [item.get("update") for _, item in followed.truth]
    for index, rows in enumerate(followed.written):
        if index and updates[index] == updates[index - 1]:
            assert rows == 0, followed.truth[index][0]
    assert sum(followed.written) == len(expected) and followed.written.count(0) >= len(followed.written) // 2 - 1
    # opening and closing of Bet365's match winner, against the sandbox's prices at first sight and at kick-off
    at_kickoff = odds_item(Query("odds", {"fixture": str(fx.id)}, followed.sandbox.world, fx.kickoff), fx)
    first = next(item for _, item in followed.truth if item["bookmakers"])
    for side in ("Home", "Draw", "Away"):
        row = db.fetch_dicts("SELECT * FROM mart.odds_movement WHERE fixture_id = %s AND bookmaker_id = 8 "
                             "AND bet_id = 1 AND value = %s", (fx.id, selection(side)))[0]
        assert float(row["opening_odd"]) == price(first, 8, 1, side)
        assert float(row["closing_odd"]) == price(at_kickoff, 8, 1, side)
        moves = [m for m in expected if m[:3] == (8, 1, selection(side)) and m[3] <= fx.kickoff]
        assert as_datetime(row["opening_at"]) == moves[0][3] and as_datetime(row["closing_at"]) == moves[-1][3]
        assert row["moves"] == len(moves) - 1
        assert float(row["min_odd"]) == min(m[4] for m in moves) and float(row["max_odd"]) == max(m[4] for m in moves)


def test_the_mart_moved_price_by_price_equals_one_summarised_from_all_prices(followed: Followed) -> None:
    db = followed.db
    columns = "fixture_id, bookmaker_id, bet_id, value, opening_odd, opening_at, closing_odd, closing_at, " \
              "min_odd, max_odd, moves, implied_change, kickoff_at, value_label, bookmaker_name, bet_name"
    incremental = sorted(map(tuple, db.fetchall(f"SELECT {columns} FROM mart.odds_movement")))
    with db.transaction():
        db.execute("DELETE FROM mart.odds_movement")
        refresh_odds_movement(db, {followed.fixture.id}, followed.collector.clock.now())  # from all prices
    assert incremental and sorted(map(tuple, db.fetchall(f"SELECT {columns} FROM mart.odds_movement"))) == incremental


def price(item: dict[str, Any], bookmaker: int, bet: int, value: str) -> float:
    book = next(b for b in item["bookmakers"] if b["id"] == bookmaker)
    return float(next(v["odd"] for b in book["bets"] if b["id"] == bet for v in b["values"] if v["value"] == value))


def test_in_play_odds_are_kept_apart_from_pre_match(followed: Followed) -> None:
    db, fx, clock = followed.db, followed.fixture, followed.collector.clock
    ctx = followed.collector.context("test", "test", "HIGH")
    movement = snapshot(db)["mart.odds_movement"]
    seen: list[dict[tuple[int, str], float]] = []
    for minute in (20, 21, 21):  # the third fetch finds the same prices
        assert isinstance(clock, SimClock)
        clock.set(fx.kickoff + timedelta(minutes=minute))
        pipeline.step(ctx, Request.of("odds/live", {"fixture": fx.id}))
        seen.append({(int(b), v): float(o) for b, v, o in db.fetchall(
            "SELECT bet_id, value, odd FROM core.odds_live WHERE fixture_id = %s", (fx.id,))})
    first, second, third = seen
    assert first and second == third
    moved = sum(1 for key, odd in second.items() if first.get(key) != odd)
    assert moved  # in play the prices follow the clock
    in_play = scalar(db, "SELECT count(*) FROM core.odds_history WHERE fixture_id = %s AND in_play = %s",
                     (fx.id, True))
    assert in_play == len(first) + moved  # minute 20, the moves at minute 21; the repeat wrote nothing
    assert snapshot(db)["mart.odds_movement"] == movement


def snapshot(db: Database) -> dict[str, list[str]]:
    return {table: sorted(repr(sorted(row.items())) for row in db.fetch_dicts(f"SELECT * FROM {table}"))
            for table in HISTORY_TABLES}


def collect_tables(followed: Followed, days: int, league: int = 39) -> None:
    """A league's table every evening (and again an hour later) for `days` days; after each, the newest
    round kept is the table core holds now."""
    clock, db = followed.collector.clock, followed.db
    season = followed.sandbox.world.current_season(league, START)
    ctx = followed.collector.context("test", "test", "HIGH")
    assert isinstance(clock, SimClock)
    for day in range(days):
        for hour in (23, 24):
            clock.set(datetime.combine(START.date(), datetime.min.time(), UTC) + timedelta(days=day, hours=hour))
            pipeline.step(ctx, Request.of("standings", {"league": league, "season": season}))
            newest = db.fetchall(
                "SELECT m.group_name, m.team_id, m.rank, m.points FROM mart.table_by_round m WHERE m.league_id = %s "
                "AND m.round = (SELECT max(x.round) FROM mart.table_by_round x WHERE x.league_id = m.league_id "
                "AND x.season = m.season AND x.group_name = m.group_name)", (league,))
            current = db.fetchall("SELECT group_name, team_id, rank, points FROM core.standings WHERE league_id = %s",
                                  (league,))
            assert sorted(newest) == sorted(current)


def test_tables_per_round_then_rebuilt_from_raw_identically_and_never_pruned(followed: Followed) -> None:
    db = followed.db
    collect_tables(followed, days=10)
    assert scalar(db, "SELECT count(DISTINCT round) FROM mart.table_by_round") >= 2
    before = snapshot(db)
    assert all(before.values())
    calls = followed.sandbox.total_calls
    with db.transaction():
        for table in HISTORY_TABLES:
            db.execute(f"DELETE FROM {table}")
    rebuild.rebuild(db, followed.collector.clock)
    assert snapshot(db) == before and followed.sandbox.total_calls == calls
    rebuild.rebuild(db, followed.collector.clock)  # over what is held: nothing changes
    assert snapshot(db) == before
    prune(db, timedelta(days=1), followed.collector.clock.now() + timedelta(days=30))
    assert scalar(db, "SELECT count(*) FROM raw.responses") == 0
    assert snapshot(db) == before  # history outlives raw
    rebuild.rebuild(db, followed.collector.clock)  # nothing left to replay, and nothing deleted
    assert snapshot(db) == before
