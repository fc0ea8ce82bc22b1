"""The whole match day against the sandbox, on both backends: confirmed lineups before kickoff, statistics and
live odds in play, predictions for tomorrow, every call counted by kind and within the plan, the low kinds
skipped first when the quota is short. Timing is checked against the sandbox's own truth.
"""

from __future__ import annotations

from contextlib import closing
from datetime import datetime, timedelta
from typing import Any

from afc.collect.collector import Collector
from afc.config.live import LiveConfig
from afc.db import Database, connect, load_json
from afc.jobs.daily import daily
from afc.live import plan as live_plan
from afc.live.plan import match_day
from afc.sandbox.views import lineups_published, sections
from tests.conftest import scalar, timestamp
from tests.live_support import DAY, INTERVAL, LEAGUES, Day, run_loop

STATS_EVERY = 300
LIVE = LiveConfig(interval=INTERVAL, statistics_every=STATS_EVERY, odds_live=[39])
END = DAY + timedelta(hours=23, minutes=30)


def marks(count: int) -> str:
    """`(%s, %s, …)` for an IN list of `count` parameters."""
    return "(" + ", ".join(["%s"] * count) + ")"


def ids_calls(db: Database) -> list[tuple[datetime, set[int], dict[int, Any]]]:
    """Each /fixtures?ids= response: when, which fixtures, and its items by fixture id."""
    found = []
    for params, at, body in db.fetchall("SELECT params, fetched_at, body FROM raw.responses "
                                        "WHERE endpoint = 'fixtures' ORDER BY id"):
        ids = load_json(params).get("ids")
        if ids:
            items = {i["fixture"]["id"]: i for i in load_json(body)["response"]}
            found.append((timestamp(at), {int(i) for i in ids.split("-")}, items))
    return found


def test_lineups_before_kickoff_statistics_and_odds_in_play_within_the_plan(day: Day) -> None:
    with closing(connect(day.settings.db_url)) as db:
        planned = match_day(db, LIVE, LEAGUES, DAY, 7500).calls
    report = run_loop(day, END, LIVE)
    db = connect(day.settings.db_url)
    try:
        assert_lineups_on_time(db, day)
        assert_statistics_fresh(db, day)
        odds = assert_live_odds(db, day)
        made = report.matchday_calls
        assert made["lineups"] >= 1 and made["statistics"] >= 1 and made["odds_live"] == odds
        assert report.skipped == {} and report.failures == 0
        actual = {"live": report.ticks, "details": report.detail_calls, **made}
        for kind, calls in actual.items():
            assert calls <= planned[kind], f"{kind}: {calls} calls, planned {planned[kind]}"
        assert sum(actual.values()) == sum(day.sb.calls.values()) - 1  # the seed's fixtures-by-date call
    finally:
        db.close()


def assert_lineups_on_time(db: Database, day: Day) -> None:
    """Every fixture's confirmed lineups stored within 5 minutes of the sandbox publishing them, before kickoff."""
    for fx in day.fixtures:
        published = lineups_published(day.sb.world, fx.id)
        assert published is not None and fx.kickoff - timedelta(minutes=40) <= published <= fx.kickoff
        seen_at, before = db.fetchall("SELECT lineups_seen_at, lineups_before_kickoff_min FROM core.fixture_details "
                                      "WHERE fixture_id = %s", (fx.id,))[0]
        seen = timestamp(seen_at)
        assert published <= seen <= published + timedelta(minutes=5), (fx.id, published, seen)
        assert seen < fx.kickoff and before == round((fx.kickoff - seen).total_seconds() / 60)
    confirmed = db.fetchall("SELECT lineups_confirmed FROM mart.daily_fixtures WHERE fixture_id IN "
                            + marks(len(day.fixtures)), [fx.id for fx in day.fixtures])
    assert {bool(row[0]) for row in confirmed} == {True}


def assert_statistics_fresh(db: Database, day: Day) -> None:
    """While a fixture plays, the statistics afc holds are never older than M + 1 minutes, and are the sandbox's."""
    calls = ids_calls(db)
    limit = timedelta(seconds=STATS_EVERY + 60)
    for fx in day.fixtures:
        done = day.sb.world.finished_at(fx.id)
        assert done is not None
        fetches = [(at, items[fx.id]) for at, ids, items in calls if fx.id in ids and fx.kickoff <= at <= done]
        assert fetches, f"fixture {fx.id}: no statistics while it played"
        moment = fx.kickoff + timedelta(minutes=2)  # the first tick sees it live, then statistics follow
        while moment < done:
            latest = max(at for at, _ in fetches if at <= moment)
            assert moment - latest <= limit, (fx.id, moment, latest)
            moment += timedelta(minutes=1)
        for at, item in fetches:  # what was stored is the sandbox's truth at that moment
            truth = sections(day.sb.world, fx.id, at, day.sb.world.phase(fx.id, at), ("statistics",))
            assert item["statistics"] == truth["statistics"]


def assert_live_odds(db: Database, day: Day) -> int:
    """/odds/live only for the opted-in league, only while its fixtures were on, about once per interval."""
    rows = db.fetchall("SELECT params, fetched_at, body FROM raw.responses WHERE endpoint = 'odds/live' ORDER BY id")
    assert rows, "no live odds were fetched"
    chosen = [fx for fx in day.fixtures if fx.league_id == 39]
    prices = set()
    for params, at, body in rows:
        assert load_json(params) == {"league": "39"}
        moment = timestamp(at)
        assert any(fx.kickoff <= moment <= (day.sb.world.finished_at(fx.id) or moment) + timedelta(minutes=10)
                   for fx in chosen)
        for item in load_json(body)["response"]:
            assert item["league"]["id"] == 39
            prices.add(tuple(v["odd"] for bet in item["odds"] for v in bet["values"]))
    assert len(prices) > len(rows) // 2  # the prices move
    return len(rows)


def test_short_quota_skips_the_low_kinds_first_and_says_so(day: Day) -> None:
    collector = Collector.open(day.settings, clock=day.clock)
    try:
        planned = match_day(collector.db, LIVE, LEAGUES, DAY, 7500).calls
        floor = collector.ledger.status().floors["LOW"]  # MEDIUM's too: 750 of the Pro plan's 7,500
        keep = floor + planned["live"] + planned["details"]  # what the live list needs, and no more
        with collector.db.transaction():
            collector.db.execute("UPDATE ops.quota_days SET used = daily_limit - %s", (keep,))
    finally:
        collector.close()
    report = run_loop(day, END, LIVE)
    assert report.skipped["odds_live"] > 0 and report.matchday_calls.get("odds_live", 0) == 0
    assert report.skipped["statistics"] > 0  # MEDIUM goes short too, after LOW
    assert report.skipped.get("lineups", 0) == 0 and report.matchday_calls["lineups"] >= 1
    assert report.state == "stopped" and report.failures == 0
    with closing(connect(day.settings.db_url)) as db:
        assert scalar(db, "SELECT count(*) FROM raw.responses WHERE endpoint = 'odds/live'") == 0
        assert scalar(db, "SELECT count(*) FROM core.fixture_details WHERE lineups_seen_at IS NOT NULL") == \
            len(day.fixtures)


def test_predictions_for_every_tracked_fixture_of_tomorrow(day: Day) -> None:
    collector = Collector.open(day.settings, clock=day.clock)
    try:
        daily(collector)
        tracked = sorted({t.league for t in collector.config.tracked})
        tomorrow = DAY + timedelta(days=1)
        expected = {fx.id for fx in day.sb.world.fixtures_between(tomorrow, tomorrow + timedelta(days=1), tracked)}
        assert expected
        held = {row[0] for row in collector.db.fetchall("SELECT fixture_id FROM core.predictions")}
        assert expected <= held
        advice = collector.db.fetchall("SELECT prediction_advice FROM mart.daily_fixtures WHERE fixture_id IN "
                                       + marks(len(expected)), sorted(expected))
        assert all(row[0] for row in advice)
        calls = day.sb.calls.get("predictions", 0)
        daily(collector)  # a second run the same day asks for none of them again
        assert day.sb.calls.get("predictions", 0) == calls
    finally:
        collector.close()


def test_plan_counts_each_kind_by_priority(day: Day) -> None:
    with closing(connect(day.settings.db_url)) as db:
        result = match_day(db, LIVE, LEAGUES, DAY, 7500)
    assert list(result.calls) == list(live_plan.KINDS) and result.fixtures == len(day.fixtures)
    assert result.priorities["live"] == "CRITICAL" and result.priorities["odds_live"] == "LOW"
    # every fixture plays about 115 minutes: 23 checks at 5 minutes, one ids= call per 20 fixtures in play
    assert len(day.fixtures) // 20 * 23 <= result.calls["statistics"] <= len(day.fixtures) * 24
    assert result.calls["predictions"] == 2 * len(day.fixtures)
    assert result.total == sum(result.calls.values())
