"""`afc daily` end to end against the sandbox (twice), its fan-outs over core, and its CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from afc.cli import app
from afc.clock import SimClock
from afc.collect.collector import Collector
from afc.config.settings import Floors, load_settings
from afc.db import load_json
from afc.errors import ConfigError
from afc.jobs.bootstrap import bootstrap
from afc.jobs.daily import daily, plan
from afc.jobs.targets import fixtures_needing_details, fixtures_to_sweep, odds_upcoming
from afc.sandbox import SandboxConfig, start_sandbox
from tests.loading import load

TRACKED = {39, 140, 135, 78, 61, 2}


def _evening() -> datetime:
    """An evening whose day, the day before and the day after all have tracked fixtures in the sandbox."""
    from afc.sandbox import World

    start = datetime(2026, 11, 20, tzinfo=UTC)
    world = World.at(42, start)
    for offset in range(60):
        day = start + timedelta(days=offset)
        counts = [sum(1 for f in world.fixtures_between(day + timedelta(days=d), day + timedelta(days=d + 1))
                      if f.league_id in TRACKED) for d in (-1, 0, 1)]
        if all(counts):
            return day + timedelta(hours=22, minutes=30)
    raise AssertionError("the sandbox has no three tracked match days in a row")


EVENING = _evening()


@pytest.fixture
def sandbox():
    with start_sandbox(SandboxConfig(seed=42, plan="pro"), clock=SimClock(EVENING, speed=0), port=0) as sb:
        yield sb


@pytest.fixture
def collector(sandbox, db_url):
    conf = load_settings({}, api_key=sandbox.key, api_base_url=sandbox.url, database_url=db_url)
    opened = Collector.open(conf, clock=sandbox.clock)
    bootstrap(opened, "leagues")  # seasons and coverage flags, as a real install has them
    yield opened
    opened.close()


def written(reports) -> int:
    return sum(r.counts.written for r in reports)


def test_daily_collects_the_day_and_a_second_run_writes_nothing(collector, sandbox):
    first = daily(collector)
    assert {r.status for r in first} == {"ok"} and written(first) > 0
    by_job = {r.job_id: r for r in first}
    assert by_job["daily_details"].calls >= 1 and by_job["daily_standings"].calls >= 1
    assert by_job["daily_odds"].calls >= 1 and by_job["daily_fixtures_today"].calls == 1
    db = collector.db
    for fixture_id, home, away in db.fetchall(
            "SELECT id, home_goals, away_goals FROM core.fixtures WHERE status_group = 'finished'"):
        truth = sandbox.world.state(fixture_id, EVENING)["goals"]
        assert (home, away) == (truth["home"], truth["away"]), fixture_id
    # within the details lookback: the predictions' head-to-head fixtures of past seasons are backfill's work
    finished = db.fetchall("SELECT f.id FROM core.fixtures f WHERE f.status_group = 'finished' AND f.league_id IN "
                           f"({', '.join(map(str, TRACKED))}) AND f.kickoff_at >= %s",
                           (collector.now() - timedelta(days=3),))
    finals = db.fetchall("SELECT fixture_id FROM core.fixture_details WHERE final = %s", (True,))
    assert finished and {r[0] for r in finished} == {r[0] for r in finals}
    ids_calls = [q for q in sandbox.requests if "ids" in str(q)]
    assert ids_calls and all(str(q).count("-") <= 19 for q in ids_calls)
    calls_before = sandbox.total_calls
    second = daily(collector)
    assert {r.status for r in second} == {"ok"} and written(second) == 0
    again = {r.job_id: r.calls for r in second}
    assert again["daily_details"] == 0 and again["daily_odds"] == 0 and again["daily_standings"] == 0
    assert sandbox.total_calls - calls_before == 5  # the three days and the two injury lists


def test_the_daily_run_settles_fixtures_left_live_on_the_panel_at_any_age(collector, sandbox):
    """A fixture recorded mid-match and never reported again stays "live" in core; the panel drops it."""
    db = collector.db
    now = collector.now()
    stale = {9_000_001: now - timedelta(days=700), 9_000_002: now - timedelta(hours=5),
             9_000_003: now - timedelta(hours=1)}
    with db.transaction():
        for fixture_id, kickoff in stale.items():
            db.execute("INSERT INTO mart.live_scores (fixture_id, league_id, kickoff_at, status_short, elapsed, "
                       "updated_at) VALUES (%s, 99999, %s, '2H', 67, %s)", (fixture_id, kickoff, kickoff))
    daily(collector)
    left = {r[0] for r in db.fetchall("SELECT fixture_id FROM mart.live_scores WHERE league_id = 99999")}
    assert left == {9_000_003}  # within kick-off + 4 h it may still be in play


def test_live_scores_and_summaries_follow_the_day(collector, sandbox):
    daily(collector)
    db = collector.db
    live = db.fetchall("SELECT fixture_id FROM mart.live_scores")
    assert [r[0] for r in live] == [r[0] for r in db.fetchall(
        "SELECT id FROM core.fixtures WHERE status_group = 'live'")]
    tables = db.fetchall("SELECT league_id, season, team_id, points FROM core.standings WHERE rank = 1 "
                         "ORDER BY league_id, season, points")
    assert tables
    leaders = {(league, season): (team, points) for league, season, team, points in tables}  # most points
    for key, (team, points) in leaders.items():
        summary = db.fetch_dicts("SELECT * FROM mart.league_summary WHERE league_id = %s AND season = %s", key)[0]
        assert (summary["leader_team_id"], summary["leader_points"]) == (team, points)
        assert summary["fixtures_total"] == db.fetchone(
            "SELECT count(*) FROM core.fixtures WHERE league_id = %s AND season = %s", key)[0]
    midnight = datetime.combine(EVENING.date(), datetime.min.time(), UTC)
    day = db.fetchone("SELECT count(*) FROM mart.daily_fixtures WHERE match_date = %s", (EVENING.date(),))[0]
    assert day > 0 and day == db.fetchone("SELECT count(*) FROM core.fixtures WHERE kickoff_at >= %s AND "
                                          "kickoff_at < %s", (midnight, midnight + timedelta(days=1)))[0]


def test_odds_follow_the_three_hour_cadence(collector, sandbox):
    daily(collector)
    assert list(odds_upcoming(collector.config, collector.db, sandbox.clock.now())) == []
    sandbox.clock.advance(3 * 3600)
    later = list(odds_upcoming(collector.config, collector.db, sandbox.clock.now()))
    assert later and all(set(v) == {"league", "season", "date"} for v in later)


def test_low_priority_jobs_stop_at_their_floor_and_leave_the_rest(sandbox, db_url):
    conf = load_settings({}, api_key=sandbox.key, api_base_url=sandbox.url, database_url=db_url, daily_limit=100,
                         floors=Floors(HIGH=10, MEDIUM=20, LOW=95))
    collector = Collector.open(conf, clock=sandbox.clock)
    reports = daily(collector)
    statuses = {r.job_id: r.status for r in reports}
    assert statuses["daily_fixtures_today"] == "ok" and statuses["daily_injuries_today"] == "quota"
    assert "daily_odds" not in statuses  # the run stops at the first job the quota stopped
    medium = sum(r.calls for r in reports if collector.config.job(r.job_id).priority == "MEDIUM")
    assert statuses["daily_details"] == "ok" and medium >= 3
    assert collector.ledger.status().used_today == medium  # no LOW call got through
    collector.close()


def _fixture(base: dict, fixture_id: int, kickoff: datetime, short: str, league: int = 39) -> dict:
    item = json.loads(json.dumps(base))
    item["fixture"].update(id=fixture_id, timestamp=int(kickoff.timestamp()), date=kickoff.isoformat())
    item["fixture"]["status"] = {"short": short, "long": short, "elapsed": None}
    item["league"].update(id=league, season=2026)
    return item


def test_details_come_in_batches_of_twenty_and_respect_coverage(db):
    from tests.conftest import sample

    base = sample("fixtures/obissing__matches2023.json")["response"][0]
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    items = [_fixture(base, 9000 + i, now - timedelta(hours=20 + i), "FT") for i in range(45)]
    items.append(_fixture(base, 9999, now - timedelta(hours=2), "FT", league=999))  # not tracked
    load(db, "fixtures", {"league": "39", "season": "2026"}, items)
    config = _config()
    batches = list(fixtures_needing_details(config, db, now))
    assert [len(b["ids"].split("-")) for b in batches] == [20, 20, 5] and "9999" not in str(batches)
    db.execute("UPDATE core.league_seasons SET cov_events = %(no)s, cov_lineups = %(no)s, "
               "cov_statistics_fixtures = %(no)s, cov_statistics_players = %(no)s", {"no": False})
    assert list(fixtures_needing_details(config, db, now)) == []


def test_the_sweep_finds_postponed_and_stuck_fixtures(db):
    from tests.conftest import sample

    base = sample("fixtures/obissing__matches2023.json")["response"][0]
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    load(db, "fixtures", {"league": "39", "season": "2026"}, [
        _fixture(base, 1, now - timedelta(days=2), "PST"), _fixture(base, 2, now - timedelta(hours=5), "2H"),
        _fixture(base, 3, now - timedelta(hours=1), "2H"), _fixture(base, 4, now + timedelta(days=3), "TBD"),
        _fixture(base, 5, now - timedelta(days=40), "PST"), _fixture(base, 6, now - timedelta(days=1), "FT")])
    assert list(fixtures_to_sweep(_config(), db, now)) == [{"ids": "1-2-4"}]


def _config():
    from afc.config.jobs import load as load_jobs

    return load_jobs()


def test_a_bad_daily_section_is_named(tmp_path, sandbox, sqlite_url):
    (tmp_path / "daily.yaml").write_text("daily:\n  batch_size: 50\njobs: []\n")
    conf = load_settings({}, api_key=sandbox.key, api_base_url=sandbox.url, database_url=sqlite_url,
                         jobs_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"daily\.batch_size: Input should be less than or equal to 20"):
        daily(Collector.open(conf, clock=sandbox.clock))


def test_the_dry_run_plans_without_calling(collector, sandbox):
    calls = sandbox.total_calls
    plans = {p.job_id: p for p in plan(collector)}
    today, tomorrow = EVENING.date(), EVENING.date() + timedelta(days=1)
    assert [r.request for r in plans["daily_fixtures_today"].requests] == [f"/fixtures?date={today}"]
    assert plans["daily_injuries_tomorrow"].requests[0].request == f"/injuries?date={tomorrow}"
    assert sandbox.total_calls == calls


def test_cli_daily_json_and_dry_run(sandbox, sqlite_url, monkeypatch):
    monkeypatch.setenv("API_FOOTBALL_KEY", sandbox.key)
    monkeypatch.setenv("AFC_API_BASE_URL", sandbox.url)
    monkeypatch.setenv("AFC_CLOCK", sandbox.clock.spec())
    runner = CliRunner()
    dry = runner.invoke(app, ["daily", "--dry-run", "--db", sqlite_url])
    assert dry.exit_code == 0, dry.output
    assert f"/fixtures?date={EVENING.date()}" in dry.output and "total: ~5 calls" in dry.output
    result = runner.invoke(app, ["daily", "--db", sqlite_url, "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    jobs = {j["job"]: j for j in body["jobs"]}
    assert jobs["daily_fixtures_today"]["status"] == "ok" and jobs["daily_fixtures_today"]["inserted"] > 0
    assert body["quota"]["used_today"] >= 5


def test_events_reach_the_details_of_finished_fixtures(collector):
    daily(collector)
    row = collector.db.fetch_dicts("SELECT d.events, f.home_goals, f.away_goals FROM core.fixture_details d "
                                   "JOIN core.fixtures f ON f.id = d.fixture_id WHERE d.final = %s", (True,))[0]
    goals = [e for e in load_json(row["events"]) if e["type"] == "Goal" and e["detail"] != "Missed Penalty"]
    assert len(goals) == row["home_goals"] + row["away_goals"]


def test_cli_daily_exits_75_when_the_quota_stops_it(sandbox, sqlite_url, monkeypatch):
    monkeypatch.setenv("API_FOOTBALL_KEY", sandbox.key)
    monkeypatch.setenv("AFC_API_BASE_URL", sandbox.url)
    monkeypatch.setenv("AFC_CLOCK", sandbox.clock.spec())
    monkeypatch.setenv("AFC_DAILY_LIMIT", "4")
    result = CliRunner().invoke(app, ["daily", "--db", sqlite_url])
    assert result.exit_code == 75, result.output
    assert "quota" in result.output and "resumes at" in result.output
    assert sandbox.total_calls == 4


def test_cli_dry_run_json_lists_every_daily_job(sandbox, sqlite_url, monkeypatch):
    monkeypatch.setenv("AFC_CLOCK", sandbox.clock.spec())
    result = CliRunner().invoke(app, ["daily", "--dry-run", "--json", "--db", sqlite_url])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [j["job_id"] for j in body["jobs"]][:3] == [
        "daily_fixtures_yesterday", "daily_fixtures_today", "daily_fixtures_tomorrow"]
    assert body["calls"] == 5 and sandbox.total_calls == 0


def test_a_daily_run_stopped_by_a_signal_is_closed_interrupted_not_ok(collector, monkeypatch):
    """Ctrl-C (and SIGTERM, which the CLI raises the same way) in a job's steps: the run said 'ok'."""
    import afc.jobs.run as job_run
    from afc.collect.runs import INTERRUPTED

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(job_run, "run_steps", stopped)
    with pytest.raises(KeyboardInterrupt):
        daily(collector)
    runs = collector.db.fetchall("SELECT job_id, status, error FROM ops.job_runs WHERE job_id LIKE 'daily%'")
    assert runs == [("daily_fixtures_yesterday", "interrupted", INTERRUPTED)]
