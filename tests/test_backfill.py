"""Backfill end to end against the sandbox, on SQLite and PostgreSQL: whole seasons land, coverage
flags prune calls, re-runs spend nothing, interrupted runs resume to the same state, and a small
plan stops at the floor (exit 75) and finishes after 00:00 UTC."""

from __future__ import annotations

import hashlib
import json
import os
import random
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from afc import backfill
from afc.backfill import tasks
from afc.cli import app
from afc.clock import SimClock
from afc.collect.collector import Collector
from afc.config.settings import load_settings
from afc.db import Database, as_datetime, connect, load_json
from afc.db.migrate import migrate
from afc.sandbox import SandboxConfig, start_sandbox
from tests.conftest import PG_ADMIN

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SMALL = ("144", "2025", "fixtures,details,standings,teams")  # 16 teams: 1 + 12 + 1 + 1 calls (+1 /leagues)
META = {"updated_at", "raw_id", "lineups_seen_at", "lineups_before_kickoff_min"}  # when afc fetched, not what


@pytest.fixture(scope="module")
def shared() -> Iterator[Any]:
    """One pro-plan sandbox per module (its world is built once), without a per-minute limit."""
    with start_sandbox(SandboxConfig(plan="pro", rate_limit=False), clock=SimClock(NOW, speed=0)) as sb:
        yield sb


@pytest.fixture
def sandbox(shared: Any) -> Any:
    """The shared sandbox with its counters, quota and frozen clock reset for one test."""
    shared.clock.set(NOW)
    shared.reset_counters()
    shared.set_quota_used(0)
    return shared


@pytest.fixture
def sim(sandbox: Any) -> SimClock:
    """The sandbox's frozen clock, half a year after the 2025 season ended (afc shares it)."""
    return sandbox.clock


@pytest.fixture
def fresh_url(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[], str]]:
    """More fresh migrated databases on the same backend as `db_url` (for reference runs)."""
    made: list[str] = []

    def make() -> str:
        if db_url.startswith("sqlite"):
            url = f"sqlite:///{tmp_path / f'extra-{len(made)}.db'}"
            database = connect(url)
            migrate(database)
            database.close()
        else:
            import psycopg

            name = f"afc_bf_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            template = request.getfixturevalue("pg_admin")
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
        made.append(url)
        return url

    yield make
    for url in made:
        if url.startswith("postgresql"):
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def collector_for(sb: Any, url: str, clock: SimClock, tmp: Path, **overrides: Any) -> Collector:
    """A collector pointed at the sandbox, sharing its clock."""
    settings = load_settings({}, api_key=sb.key, api_base_url=sb.url, database_url=url, data_dir=str(tmp),
                             **overrides)
    return Collector.open(settings, clock=clock)


def run_backfill(sb: Any, url: str, clock: SimClock, tmp: Path, league: str, season: str,
                 what: str | None = None, **overrides: Any) -> backfill.BackfillReport:
    """Plan and run one backfill to the end (in this process)."""
    collector = collector_for(sb, url, clock, tmp, **overrides)
    try:
        wanted = backfill.targets([league], [season], what)
        return backfill.execute(collector, wanted, priority="LOW", resume=False, listener=lambda e: None)
    finally:
        collector.close()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return as_datetime(value).isoformat()  # type: ignore[union-attr]
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value


def core_tables(db: Database) -> list[str]:
    """Every core table's logical name."""
    if db.backend == "sqlite":
        rows = db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'core\\_%' ESCAPE '\\'")
        return sorted("core." + r[0].removeprefix("core_") for r in rows)
    rows = db.fetchall("SELECT table_name FROM information_schema.tables WHERE table_schema = 'core'")
    return sorted("core." + r[0] for r in rows)


def core_state(url: str) -> dict[str, str]:
    """A checksum of every core table's rows, without updated_at and raw_id."""
    db = connect(url)
    try:
        found = {}
        for table in core_tables(db):
            rows = [json.dumps({k: _plain(v) for k, v in sorted(r.items()) if k not in META}, default=str)
                    for r in db.fetch_dicts(f"SELECT * FROM {table}")]  # noqa: S608 - names from the catalog
            found[table] = hashlib.sha256("\n".join(sorted(rows)).encode()).hexdigest()[:16] + f":{len(rows)}"
        return found
    finally:
        db.close()


_REFERENCE: dict[str, dict[str, str]] = {}


def small_reference(sb: Any, make_url: Callable[[], str], tmp: Path) -> dict[str, str]:
    """The core state an uninterrupted backfill of SMALL leaves (computed once per backend)."""
    url = make_url()
    backend = url.split(":", 1)[0]
    if backend not in _REFERENCE:
        run_backfill(sb, url, SimClock(NOW, speed=0), tmp, *SMALL)
        _REFERENCE[backend] = core_state(url)
    return _REFERENCE[backend]


def repeated_calls(url: str) -> list[tuple[str, str]]:
    """Good responses stored more than once: a finished call that was repeated."""
    db = connect(url)
    try:
        rows = db.fetchall("SELECT endpoint, params FROM raw.responses WHERE errors IS NULL AND status = 200")
    finally:
        db.close()
    seen: dict[tuple[str, str], int] = {}
    for endpoint, params in rows:
        key = (endpoint, json.dumps(load_json(params), sort_keys=True))
        seen[key] = seen.get(key, 0) + 1
    return [k for k, n in seen.items() if n > 1]


def test_full_season_lands_every_fixture_and_its_details(db_url: str, sandbox: Any, sim: SimClock,
                                                         tmp_path: Path) -> None:
    report = run_backfill(sandbox, db_url, sim, tmp_path, "39", "2025")
    world = sandbox.world.fixtures(39, 2025)
    finished = {f.id for f in world if sandbox.world.state(f.id, NOW)["fixture"]["status"]["short"] == "FT"}
    db = connect(db_url)
    try:
        ids = {r[0] for r in db.fetchall("SELECT id FROM core.fixtures WHERE league_id = 39 AND season = 2025")}
        final = {r[0] for r in db.fetchall("SELECT fixture_id FROM core.fixture_details WHERE final = %s "
                                           "AND events IS NOT NULL AND lineups IS NOT NULL "
                                           "AND statistics IS NOT NULL AND players IS NOT NULL", (True,))}
        standings = db.fetchone("SELECT count(*) FROM core.standings WHERE league_id = 39 AND season = 2025")
        players = db.fetchone("SELECT count(DISTINCT player_id) FROM core.player_season_stats "
                              "WHERE league_id = 39 AND season = 2025")
    finally:
        db.close()
    assert report.status == "ok" and report.failed == 0 and report.pending == 0
    assert ids == {f.id for f in world} and len(ids) == 380
    assert final == finished and len(finished) > 300
    assert standings == (20,)
    pages = sandbox.calls["players"]
    assert players is not None and players[0] > 20 * (pages - 1)  # every page landed, none capped
    assert sandbox.calls["fixtures"] == 1 + -(-len(finished) // 20)  # the list, then ids= batches of 20
    assert report.calls == sandbox.total_calls == 1 + 1 + -(-len(finished) // 20) + 1 + 1 + 1 + 4 + pages
    assert not any(e.startswith("fixtures/") for e, _ in sandbox.requests)


def test_rerun_of_a_finished_season_spends_nothing(db_url: str, sandbox: Any, sim: SimClock, tmp_path: Path) -> None:
    first = run_backfill(sandbox, db_url, sim, tmp_path, *SMALL)
    before = sandbox.total_calls
    second = run_backfill(sandbox, db_url, sim, tmp_path, *SMALL)
    assert first.calls == 16 and first.done == 16
    assert second.calls == 0 and second.done == 0 and sandbox.total_calls == before
    again = run_backfill(sandbox, db_url, sim, tmp_path, "144", "2025", "standings")
    assert again.calls == 0  # held: the season is over and its table is in core


def test_refresh_fetches_held_data_again(db_url: str, sandbox: Any, sim: SimClock, tmp_path: Path) -> None:
    run_backfill(sandbox, db_url, sim, tmp_path, "144", "2025", "standings")
    collector = collector_for(sandbox, db_url, sim, tmp_path)
    try:
        wanted = backfill.targets(["144"], ["2025"], "standings", refresh=True)
        report = backfill.execute(collector, wanted, priority="LOW", resume=False, listener=lambda e: None)
    finally:
        collector.close()
    assert report.calls == 1 and sandbox.calls["standings"] == 2


def test_no_lineups_coverage_means_no_lineup_calls(db_url: str, sandbox: Any, sim: SimClock, tmp_path: Path) -> None:
    # Eredivisie in the sandbox: events covered; lineups and statistics not.
    report = run_backfill(sandbox, db_url, sim, tmp_path, "88", "2025", "fixtures,details")
    detail_calls = [p for e, p in sandbox.requests if e == "fixtures" and "ids" in p]
    db = connect(db_url)
    try:
        lineups = db.fetchall("SELECT DISTINCT lineups FROM core.fixture_details")
    finally:
        db.close()
    assert report.status == "ok" and detail_calls and report.calls == 2 + len(detail_calls)
    assert not any(e in ("fixtures/lineups", "fixtures/statistics", "fixtures/players") for e, _ in sandbox.requests)
    assert [load_json(r[0]) for r in lineups] == [[]]


def test_flags_without_any_detail_part_plan_no_detail_calls(db_url: str, sandbox: Any, sim: SimClock,
                                                            tmp_path: Path) -> None:
    run_backfill(sandbox, db_url, sim, tmp_path, "144", "2025", "fixtures")
    db = connect(db_url)
    with db.transaction():
        db.execute("UPDATE core.league_seasons SET cov_events = %s, cov_lineups = %s, cov_statistics_fixtures = %s, "
                   "cov_statistics_players = %s WHERE league_id = 144", (False, False, False, False))
    db.close()
    sandbox.reset_counters()
    report = run_backfill(sandbox, db_url, sim, tmp_path, "144", "2025", "details")
    assert report.calls == 0 and sandbox.total_calls == 0


def test_interrupted_run_resumes_to_the_same_state(db_url: str, fresh_url: Callable[[], str], sandbox: Any,
                                                   sim: SimClock, tmp_path: Path) -> None:
    reference = small_reference(sandbox, fresh_url, tmp_path)
    sandbox.reset_counters()
    rng = random.Random(7)
    # Crash inside a response's transaction, between two tasks, then inside again, each at a random task.
    for inside in (True, False, True):
        _interrupt_after(sandbox, db_url, sim, tmp_path, rng.randint(1, 4), inside=inside)
    collector = collector_for(sandbox, db_url, sim, tmp_path)
    try:
        resumed = backfill.execute(collector, [], priority="LOW", resume=True, listener=lambda e: None)
    finally:
        collector.close()
    assert resumed.status == "ok" and resumed.pending == 0 and resumed.done > 0
    assert core_state(db_url) == reference
    assert repeated_calls(db_url) == []
    assert sandbox.total_calls == 16 + 2  # only the two calls whose transaction rolled back were made again


class Crash(BaseException):
    """Stands in for the process dying (not an AfcError, so nothing catches it)."""


def _interrupt_after(sb: Any, url: str, clock: SimClock, tmp: Path, stop: int, *, inside: bool) -> None:
    collector = collector_for(sb, url, clock, tmp)
    seen = {"n": 0}
    original = tasks.mark_done

    def crash_in_transaction(db: Database, task: Any, raw_id: int, calls: int, now: datetime) -> None:
        original(db, task, raw_id, calls, now)
        seen["n"] += 1
        if seen["n"] >= stop:
            raise Crash  # the response, its rows and the checkpoint roll back together

    def crash_between(event: Any) -> None:
        seen["n"] += 1
        if seen["n"] >= stop:
            raise Crash

    tasks.mark_done = crash_in_transaction if inside else original
    try:
        wanted = backfill.targets([SMALL[0]], [SMALL[1]], SMALL[2])
        backfill.execute(collector, wanted, priority="LOW", resume=False,
                         listener=(lambda e: None) if inside else crash_between)
    except Crash:
        pass
    finally:
        tasks.mark_done = original
        collector.close()


def test_small_plan_stops_at_the_floor_and_resumes_after_midnight(db_url: str, fresh_url: Callable[[], str],
                                                                  shared: Any, tmp_path: Path) -> None:
    reference = small_reference(shared, fresh_url, tmp_path)
    sim = SimClock(NOW, speed=0)
    with start_sandbox(SandboxConfig(plan="pro", daily_limit=12, rate_limit=False), clock=sim) as sb:
        env = {"API_FOOTBALL_KEY": sb.key, "AFC_API_BASE_URL": sb.url, "AFC_DATABASE_URL": db_url,
               "AFC_DATA_DIR": str(tmp_path), "AFC_DAILY_LIMIT": "12", "AFC_CLOCK": "2026-11-28T12:00:00Z@0"}
        runner = CliRunner()
        first = runner.invoke(app, ["backfill", "-l", SMALL[0], "-s", SMALL[1], "--what", SMALL[2], "--yes"], env=env)
        assert first.exit_code == 75, first.output
        assert "resumes at 2026-11-29 00:00 UTC" in first.stderr and "afc backfill --resume" in first.stderr
        assert sb.total_calls == 11  # 12 a day, less the LOW floor of 1
        sim.set(datetime(2026, 11, 29, 1, 0, tzinfo=UTC))
        env["AFC_CLOCK"] = "2026-11-29T01:00:00Z@0"
        second = runner.invoke(app, ["backfill", "--resume"], env=env)
        assert second.exit_code == 0, second.output
        assert "backfill ok: 5 tasks done" in second.stdout
        assert sb.total_calls == 16  # no call repeated across the stop
    assert core_state(db_url) == reference


def test_from_gaps_fills_what_coverage_finds_missing(db_url: str, sandbox: Any, sim: SimClock, tmp_path: Path) -> None:
    run_backfill(sandbox, db_url, sim, tmp_path, "144", "2025", "fixtures")
    sandbox.reset_counters()
    env = {"API_FOOTBALL_KEY": sandbox.key, "AFC_API_BASE_URL": sandbox.url, "AFC_DATABASE_URL": db_url,
           "AFC_DATA_DIR": str(tmp_path), "AFC_CLOCK": "2026-11-28T12:00:00Z@0"}
    runner = CliRunner()
    shown = runner.invoke(app, ["backfill", "--from-gaps", "-l", "144", "-s", "2025", "--plan"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "14 calls needed" in shown.stdout and sandbox.total_calls == 0
    done = runner.invoke(app, ["backfill", "--from-gaps", "-l", "144", "-s", "2025", "--yes"], env=env)
    assert done.exit_code == 0, done.output
    assert sandbox.calls == {"fixtures": 12, "standings": 1, "teams": 1}  # 12 ids= batches, no list again
    again = runner.invoke(app, ["backfill", "--from-gaps", "-l", "144", "-s", "2025", "--plan"], env=env)
    assert "0 calls needed" in again.stdout


def test_a_season_outside_the_plan_fails_once_not_per_call(db_url: str, tmp_path: Path) -> None:
    sim = SimClock(NOW, speed=0)
    with start_sandbox(SandboxConfig(plan="free", rate_limit=False), clock=sim) as sb:
        env = {"API_FOOTBALL_KEY": sb.key, "AFC_API_BASE_URL": sb.url, "AFC_DATABASE_URL": db_url,
               "AFC_DATA_DIR": str(tmp_path), "AFC_PLAN": "free", "AFC_CLOCK": "2026-11-28T12:00:00Z@0"}
        result = CliRunner().invoke(app, ["backfill", "-l", "144", "-s", "2025", "--what",
                                          "fixtures,standings,teams", "--yes"], env=env)
        calls = sb.calls
    assert result.exit_code == 1, result.output
    assert "Free plans do not have access to this season" in result.stderr
    assert calls == {"leagues": 1, "fixtures": 1}  # standings and teams were failed without a call
    status = CliRunner().invoke(app, ["backfill", "status", "--json"], env=env)
    plan = json.loads(status.stdout)["plans"][0]
    assert (plan["status"], plan["failed"], plan["done"]) == ("failed", 3, 1)


def test_from_gaps_on_an_empty_database_asks_leagues_first(db_url: str, sandbox: Any, sim: SimClock,
                                                           tmp_path: Path) -> None:
    collector = collector_for(sandbox, db_url, sim, tmp_path)
    try:
        request = backfill.prepare(collector, ["144"], ["2025"], None, from_gaps=True)
        report = backfill.execute(collector, request, priority="LOW", listener=lambda e: None)
        after = backfill.prepare(collector, ["144"], ["2025"], None, from_gaps=True)
    finally:
        collector.close()
    assert report.status == "ok" and after.gaps == []
    # Jupiler Pro League: no players, injuries or top-scorer coverage, so no call for them once /leagues said so.
    assert sandbox.calls == {"leagues": 1, "fixtures": 1 + 12, "standings": 1, "teams": 1, "odds": 1}


@pytest.mark.parametrize("league, season, listed", [
    ("144", "1999", "it lists 2022-2026"),
    ("999999", "2024", "it lists no season of that league (check the league id)"),
])
def test_a_season_the_api_does_not_list_fails_at_once(db_url: str, sandbox: Any, tmp_path: Path, league: str,
                                                      season: str, listed: str) -> None:
    env = {"API_FOOTBALL_KEY": sandbox.key, "AFC_API_BASE_URL": sandbox.url, "AFC_DATABASE_URL": db_url,
           "AFC_DATA_DIR": str(tmp_path), "AFC_CLOCK": "2026-11-28T12:00:00Z@0"}
    result = CliRunner().invoke(app, ["-q", "backfill", "-l", league, "-s", season, "--yes"], env=env)
    why = f"league {league} season {season}: /leagues?id={league} does not list season {season}; {listed}"
    assert result.exit_code == 1, result.output
    assert result.stderr == f"afc: backfill: {why}\n"
    assert result.stdout.startswith("backfill failed: 1 tasks done, 0 failed, 1 calls")  # not "ok ... complete"
    assert sandbox.calls == {"leagues": 1}
    status = CliRunner().invoke(app, ["backfill", "status", "--json"], env=env)
    plan = json.loads(status.stdout)["plans"][0]
    assert (plan["status"], plan["error"], plan["done"], plan["pending"]) == ("failed", why, 1, 0)
    again = CliRunner().invoke(app, ["backfill", "--resume", "--yes"], env=env)
    assert again.exit_code == 0 and sandbox.calls == {"leagues": 1}  # the failed plan costs nothing more
