"""The match day's parts on both backends: confirmed lineups and their first-seen mark (kept by a rebuild),
statistics with unknown types, lineups that never come, live odds for a fixture core does not hold, the
config bounds, the plan on the command line."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from afc import transform
from afc.api.client import ApiClient, Request
from afc.clock import SimClock
from afc.collect.collector import Collector
from afc.collect.rebuild import rebuild
from afc.collect.step import step
from afc.config.jobs import load
from afc.config.live import LiveConfig, live_config
from afc.config.settings import load_settings
from afc.db import Database, dump_json
from afc.errors import ConfigError
from afc.jobs.targets import fixtures_needing_prediction
from afc.live.matchday import MatchDay, odds_requests
from afc.live.schedule import read
from afc.transform.fixtures import confirmed
from tests.conftest import SAMPLES, scalar, timestamp
from tests.fakeapi import KEY, Answer, FakeApi, envelope
from tests.test_cli import invoke

KICKOFF = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
FIXTURE = 1208021


def sample_item() -> dict[str, Any]:
    """A real /fixtures?id= item (a finished Premier League match with every detail part)."""
    body = json.loads((SAMPLES / "fixtures_id" / "footballay__fixture_1208021.json").read_text(encoding="utf-8-sig"))
    return body["response"][0]


def before_kickoff(lineups: list[Any]) -> dict[str, Any]:
    """The sample as it looks before kickoff (NS, no events or statistics yet), with these lineups."""
    item = copy.deepcopy(sample_item())
    item["fixture"].update(timestamp=int(KICKOFF.timestamp()), date=KICKOFF.isoformat(),
                           status={"long": "Not Started", "short": "NS", "elapsed": None, "extra": None})
    item["goals"] = {"home": None, "away": None}
    item.update(events=[], statistics=[], players=[], lineups=lineups)
    return item


def open_collector(db_url: str, tmp_path: Path, api: FakeApi, clock: SimClock) -> Collector:
    settings = load_settings({}, api_key=KEY, api_base_url="http://api.test", database_url=db_url, data_dir=tmp_path)
    return Collector.open(settings, clock=clock, client=ApiClient("http://api.test", KEY, clock,
                                                                  transport=api.transport()))


# ---- transforms -------------------------------------------------------------------------------

def test_confirmed_lineups_need_both_starting_elevens() -> None:
    lineups = sample_item()["lineups"]
    assert confirmed(lineups)
    assert not confirmed(lineups[:1]) and not confirmed([]) and not confirmed(None)
    assert not confirmed([lineups[0], {**lineups[1], "startXI": []}]) and not confirmed([lineups[0], "?"])


def test_statistics_with_unknown_types_keep_the_known_ones() -> None:
    item = copy.deepcopy(sample_item())
    item["statistics"][0]["statistics"] += [{"type": "Hyperspace Jumps", "value": "7"}, {"type": None, "value": {}}]
    batch = transform.run("fixtures", {"ids": str(FIXTURE)}, [item])
    assert batch.quarantined == []
    rows = next(t.rows for t in batch.tables() if t.table == "core.fixture_team_stats")
    home = next(r for r in rows if r["team_id"] == item["statistics"][0]["team"]["id"])
    assert home["shots_on_goal"] == item["statistics"][0]["statistics"][0]["value"]
    assert "hyperspace_jumps" not in home and batch.touched["lineups"] == {FIXTURE}


# ---- the first-seen mark ----------------------------------------------------------------------

def test_lineups_first_seen_is_marked_once_and_rebuilt_from_raw(db_url: str, tmp_path: Path) -> None:
    full = sample_item()["lineups"]
    answers = [before_kickoff(full[:1]), before_kickoff(full), before_kickoff(full)]  # one side, both, again
    api = FakeApi({"fixtures": [Answer(200, envelope("fixtures", [a])) for a in answers]})
    clock = SimClock(KICKOFF - timedelta(minutes=35), speed=0)
    collector = open_collector(db_url, tmp_path, api, clock)
    try:
        ctx = collector.context("test", "test", "HIGH")
        seen = []
        for _ in answers:
            step(ctx, Request.of("fixtures", {"ids": [FIXTURE]}))
            seen.append(mark(collector.db))
            clock.sleep(600)
        at = KICKOFF - timedelta(minutes=25)
        assert seen == [(None, None), (at, 25), (at, 25)]
        assert scalar(collector.db, "SELECT lineups_confirmed FROM mart.daily_fixtures WHERE fixture_id = %s",
                      (FIXTURE,)) in (True, 1)
        with collector.db.transaction():
            collector.db.execute("UPDATE core.fixture_details SET lineups_seen_at = NULL, "
                                 "lineups_before_kickoff_min = NULL")
        rebuild(collector.db, clock)
        assert mark(collector.db) == (at, 25)
    finally:
        collector.close()


def test_first_sight_minutes_are_what_python_computes_on_both_backends(db: Database) -> None:
    """PostgreSQL marks first sights in one statement: its minutes round as Python's do (half to even), NULL
    without a kickoff, and a fixture already marked keeps its mark."""
    from afc.collect.firstseen import _minutes_before, mark_lineups

    at = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    offsets = [30, 90, 150, -30, -90, -150, 29.999999, 3600 * 30 + 0.5, None]  # seconds from `at` to kickoff
    kickoffs = {100 + n: None if s is None else at + timedelta(seconds=s) for n, s in enumerate(offsets)}
    with db.transaction():
        db.execute("INSERT INTO core.leagues (id, name, updated_at) VALUES (39, 'Premier League', %s)", (at,))
        for fixture_id, kickoff in kickoffs.items():
            db.execute("INSERT INTO core.fixtures (id, league_id, season, kickoff_at, updated_at) "
                       "VALUES (%s, 39, 2024, %s, %s)", (fixture_id, kickoff, at))
            db.execute("INSERT INTO core.fixture_details (fixture_id, updated_at) VALUES (%s, %s)", (fixture_id, at))
        assert mark_lineups(db, [*kickoffs, 100], at) == len(kickoffs)
        assert mark_lineups(db, kickoffs, at + timedelta(hours=1)) == 0
    found = dict(db.fetchall("SELECT fixture_id, lineups_before_kickoff_min FROM core.fixture_details"))
    assert found == {fixture_id: _minutes_before(kickoff, at) for fixture_id, kickoff in kickoffs.items()}
    assert [found[100], found[101], found[102], found[103], found[104], found[108]] == [0, 2, 2, 0, -2, None]
    seen = {timestamp(row[0]) for row in db.fetchall("SELECT lineups_seen_at FROM core.fixture_details")}
    assert seen == {at}


def test_first_sight_travels_with_the_details_insert_where_the_batch_holds_the_fixture() -> None:
    """The mark rides on the details rows as columns only an INSERT writes, for the fixtures whose full row (and
    so the kickoff core will hold) the batch carries; a fixture known only as a stub is left to the UPDATE."""
    from afc.collect.firstseen import MARKS, marked
    from afc.transform.model import TableRows

    at = KICKOFF - timedelta(minutes=25)
    fixtures = TableRows("core.fixtures", ("id",), [{"id": 1, "kickoff_at": KICKOFF}, {"id": 3, "kickoff_at": None}])
    stubs = TableRows("core.fixtures", ("id",), [{"id": 2}], stub=True)
    details = TableRows("core.fixture_details", ("fixture_id",), [{"fixture_id": n, "final": True} for n in (1, 2, 3)])
    tables = [stubs, fixtures, details]
    assert marked(tables, [], at) == tables
    assert marked(tables, [2], at) == tables  # a stub's kickoff is core's business
    written = marked(tables, [1, 2, 3], at)[2]
    assert written.first == MARKS
    assert [(row["lineups_seen_at"], row["lineups_before_kickoff_min"]) for row in written.rows] == [
        (at, 25), (None, None), (at, None)]


def mark(db: Database) -> tuple[datetime | None, int | None]:
    row = db.fetchall("SELECT lineups_seen_at, lineups_before_kickoff_min FROM core.fixture_details "
                      "WHERE fixture_id = %s", (FIXTURE,))[0]
    return (timestamp(row[0]) if row[0] else None, row[1])


# ---- the live loop's match-day calls against bad answers ---------------------------------------

def add_fixture(db: Database, fixture_id: int, kickoff: datetime, group: str) -> None:
    with db.transaction():
        db.execute("INSERT INTO core.leagues (id, name, updated_at) VALUES (39, 'Premier League', %s) "
                   "ON CONFLICT (id) DO NOTHING", (kickoff,))
        db.execute("INSERT INTO core.fixtures (id, league_id, season, kickoff_at, status_short, status_group, "
                   "updated_at) VALUES (%s, 39, 2024, %s, %s, %s, %s)",
                   (fixture_id, kickoff, "NS" if group == "scheduled" else "2H", group, kickoff))


def test_lineups_that_never_come_are_asked_for_on_cadence_until_kickoff_only(db_url: str, tmp_path: Path) -> None:
    api = FakeApi({"fixtures": Answer(200, envelope("fixtures", [before_kickoff([])]))})
    clock = SimClock(KICKOFF - timedelta(minutes=50), speed=0)
    collector = open_collector(db_url, tmp_path, api, clock)
    live = LiveConfig(lineups_lead=1800, lineups_every=300)
    try:
        add_fixture(collector.db, FIXTURE, KICKOFF, "scheduled")
        matchday = MatchDay(live, [39])
        while clock.now() < KICKOFF + timedelta(minutes=20):  # an iteration a minute, as the idle loop wakes
            schedule = read(collector.db, [39], clock.now(), live)
            matchday.run(collector.db, lambda: collector.context("live_loop", "test", "CRITICAL"), schedule, 15)
            clock.sleep(60)
        asked = [q for endpoint, q, _ in api.requests if endpoint == "fixtures"]
        assert len(asked) == 6 and {q["ids"] for q in asked} == {str(FIXTURE)}  # T-30, -25, … -5
        assert matchday.tally.made["lineups"] == 6 and not matchday.tally.skipped
        assert mark(collector.db) == (None, None)
    finally:
        collector.close()


def test_a_statistics_answer_that_shows_full_time_queues_the_final_details(db_url: str, tmp_path: Path) -> None:
    api = FakeApi({"fixtures": Answer(200, envelope("fixtures", [sample_item()]))})  # FT, every part
    clock = SimClock(KICKOFF + timedelta(minutes=110), speed=0)
    collector = open_collector(db_url, tmp_path, api, clock)
    live = LiveConfig(lineups_lead=0)
    try:
        add_fixture(collector.db, FIXTURE, KICKOFF, "live")
        schedule = read(collector.db, [39], clock.now(), live)
        made = MatchDay(live, [39]).run(collector.db, lambda: collector.context("live_loop", "test", "CRITICAL"),
                                        schedule, 15)
        assert made == 1 and scalar(collector.db, "SELECT status_group FROM core.fixtures") == "finished"
        queued = collector.db.fetchall("SELECT fixture_id, kind FROM ops.live_followups")
        assert queued == [(FIXTURE, "final")]  # the re-check for silent corrections follows from there
    finally:
        collector.close()


def test_live_odds_for_a_fixture_not_in_core_are_archived_without_a_crash(db_url: str, tmp_path: Path) -> None:
    body = json.loads((SAMPLES / "docs_examples" / "Pedrigl__LiveOdds.json").read_text(encoding="utf-8-sig"))
    body["response"][0]["fixture"]["id"] = 987654321  # a fixture afc has never heard of
    body["response"][0]["league"]["id"] = 39
    api = FakeApi({"odds/live": Answer(200, body)})
    clock = SimClock(KICKOFF + timedelta(minutes=60), speed=0)
    collector = open_collector(db_url, tmp_path, api, clock)
    live = LiveConfig(odds_live=[39], statistics_every=0)
    try:
        add_fixture(collector.db, FIXTURE, KICKOFF, "live")
        schedule = read(collector.db, [39], clock.now(), live)
        assert schedule.live == (FIXTURE,)
        matchday = MatchDay(live, [39])
        made = matchday.run(collector.db, lambda: collector.context("live_loop", "test", "CRITICAL"), schedule, 15)
        assert made == 1 and [q for e, q, _ in api.requests] == [{"league": "39"}]
        assert scalar(collector.db, "SELECT count(*) FROM raw.responses WHERE endpoint = 'odds/live'") == 1
        assert matchday.run(collector.db, lambda: collector.context("live_loop", "test", "CRITICAL"),
                            schedule, 15) == 0  # not due again within its interval
    finally:
        collector.close()


def test_live_odds_of_several_leagues_cost_one_call() -> None:
    assert [(r.endpoint, r.query) for r in odds_requests({39})] == [("odds/live", {"league": "39"})]
    assert [(r.endpoint, r.query) for r in odds_requests({39, 140})] == [("odds/live", {})]
    assert odds_requests(set()) == []


def test_predictions_ahead_respect_coverage_and_come_once_more_on_match_day(db: Database, tmp_path: Path) -> None:
    (tmp_path / "leagues.yaml").write_text("tracked:\n  - league: 39\n  - league: 140\n")
    config = load(tmp_path)
    now = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
    with db.transaction():
        for league, covered in ((39, True), (140, False)):
            db.execute("INSERT INTO core.leagues (id, name, updated_at) VALUES (%s, 'L', %s)", (league, now))
            db.execute("INSERT INTO core.league_seasons (league_id, season, current, cov_predictions, updated_at) "
                       "VALUES (%s, 2026, %s, %s, %s)", (league, True, covered, now))
    kickoffs = {1: (39, now + timedelta(hours=9)), 2: (39, now + timedelta(days=1)), 3: (39, now + timedelta(days=3)),
                4: (140, now + timedelta(hours=9))}
    with db.transaction():
        for fid, (league, kickoff) in kickoffs.items():
            db.execute("INSERT INTO core.fixtures (id, league_id, season, kickoff_at, status_short, status_group, "
                       "updated_at) VALUES (%s, %s, 2026, %s, 'NS', 'scheduled', %s)", (fid, league, kickoff, now))
    wanted = [v["fixture"] for v in fixtures_needing_prediction(config, db, now)]
    assert wanted == ["1", "2"]  # not beyond 2 days, not where coverage says there are none
    yesterday = now - timedelta(days=1)
    with db.transaction():
        for fid in (1, 2):
            db.execute("INSERT INTO raw.responses (endpoint, params, status, headers, body, fetched_at) "
                       "VALUES ('predictions', %s, 200, '{}', '{}', %s)", (dump_json({"fixture": str(fid)}), yesterday))
            db.execute("INSERT INTO core.predictions (fixture_id, advice, updated_at) VALUES (%s, 'x', %s)",
                       (fid, yesterday))
    assert [v["fixture"] for v in fixtures_needing_prediction(config, db, now)] == ["1"]  # match day: again
    with db.transaction():
        db.execute("INSERT INTO raw.responses (endpoint, params, status, headers, body, fetched_at) "
                   "VALUES ('predictions', %s, 200, '{}', '{}', %s)", (dump_json({"fixture": "1"}), now))
    assert list(fixtures_needing_prediction(config, db, now + timedelta(hours=1))) == []


# ---- config and the command line ---------------------------------------------------------------

def test_statistics_never_more_often_than_the_api_refreshes_them(tmp_path: Path) -> None:
    (tmp_path / "leagues.yaml").write_text("tracked:\n  - league: 39\n")
    (tmp_path / "live.yaml").write_text("live:\n  statistics_every: 30s\n  odds_live: [39]\n")
    with pytest.raises(ConfigError, match=r"live\.yaml: live\.statistics_every: .*at least 60s: the API refreshes"):
        live_config(load(tmp_path))
    (tmp_path / "live.yaml").write_text("live:\n  statistics_every: 2m\n  odds_live: [140, 39, 39]\n")
    live = live_config(load(tmp_path))
    assert (live.statistics_every, live.odds_live, live.lineups_lead, live.lineups_every) == (120, [39, 140], 2400, 300)


def test_dry_run_prints_the_match_day_per_kind(db_url: str, tmp_path: Path, db: Database) -> None:
    add_fixture(db, FIXTURE, datetime(2026, 11, 28, 15, tzinfo=UTC), "scheduled")
    add_fixture(db, FIXTURE + 1, datetime(2026, 11, 28, 15, tzinfo=UTC), "scheduled")
    result = invoke(["live-loop", "--dry-run", "--leagues", "39", "--json"], db_url)
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert (plan["day"], plan["fixtures"], plan["leagues"]) == ("2026-11-28", 2, [39])
    assert list(plan["calls"]) == ["live", "details", "lineups", "statistics", "odds_live", "predictions"]
    # 5 min lead + 2 h at 15 s; two ids= calls per fixture; lineups every 5 min from T-40, one call for both;
    # statistics every 5 min for 115 min; no league opted into live odds; predictions ahead and on the day
    assert plan["calls"] == {"live": 500, "details": 4, "lineups": 8, "statistics": 23, "odds_live": 0,
                             "predictions": 4}
    text = invoke(["jobs", "plan", "live_loop"], db_url)
    assert text.exit_code == 0 and "match day 2026-11-28: 2 tracked fixtures" in text.stdout
    assert "statistics   MEDIUM" in text.stdout
    bad = invoke(["live-loop", "--dry-run", "--date", "28/11/2026"], db_url)
    assert bad.exit_code == 2 and "--date: expected YYYY-MM-DD, got '28/11/2026'" in bad.output
    assert "Traceback" not in bad.output


# ---- the sandbox's match day --------------------------------------------------------------------

def test_sandbox_lineups_and_live_odds_follow_the_match() -> None:
    import httpx

    from afc.sandbox import SandboxConfig, start_sandbox
    from afc.sandbox.views import lineups_published

    day = datetime(2026, 11, 28, tzinfo=UTC)
    clock = SimClock(day, speed=0)
    with start_sandbox(SandboxConfig(seed=42), clock=clock) as sb:
        fixtures = sb.world.fixtures_between(day, day + timedelta(days=1), [39, 140, 135, 78])
        leads = [(fx.kickoff - p).total_seconds() / 60 for fx in fixtures if (p := lineups_published(sb.world, fx.id))]
        assert len(leads) == len(fixtures) and min(leads) >= 20 and max(leads) <= 40 and len(set(leads)) > 3
        fx = next(f for f in fixtures if abs(sb.world.final(f.id)["goals"]["home"] -
                                             sb.world.final(f.id)["goals"]["away"]) >= 2)
        home_leads = sb.world.final(fx.id)["goals"]["home"] > sb.world.final(fx.id)["goals"]["away"]

        def odds(at: datetime) -> dict[str, float] | None:
            clock.set(at)
            items = httpx.get(f"{sb.url}/odds/live", params={"fixture": fx.id},
                              headers={"x-apisports-key": sb.key}).json()["response"]
            if not items:
                return None
            result = next(b for b in items[0]["odds"] if b["id"] == 59)
            return {v["value"]: float(v["odd"]) for v in result["values"]}

        assert odds(fx.kickoff - timedelta(minutes=15)) is None  # on the list from 10 min before kickoff
        early = odds(fx.kickoff - timedelta(minutes=5))
        late = odds(fx.kickoff + timedelta(minutes=100))  # 2H, about 85'
        done = sb.world.finished_at(fx.id)
        assert early and late and done and odds(done + timedelta(minutes=15)) is None
        winner = "Home" if home_leads else "Away"
        assert late[winner] < early[winner] and late[winner] < 1.3  # two up at the end (seed 42): near certain at 85
