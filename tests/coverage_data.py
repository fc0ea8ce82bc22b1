"""A small league season built by hand, whose coverage figures were computed by hand (see test_coverage.py).

League 39, season 2026 (current), now = 2026-11-28 12:00 UTC. Flags: events, lineups, statistics
(fixtures), standings, players, top scorers, injuries true; statistics_players and odds false.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from afc.clock import SimClock
from afc.collect.collector import Collector
from afc.collect.step import collect
from afc.config.settings import load_settings
from afc.coverage import gaps
from afc.db import Database, dump_json
from afc.jobs.bootstrap import bootstrap
from afc.resources import default_jobs_dir
from afc.sandbox import SandboxConfig, start_sandbox
from afc.sandbox.server import Sandbox
from tests.conftest import scalar

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LEAGUE, SEASON = 39, 2026
FINISHED = {1: datetime(2026, 11, 21, 15, tzinfo=UTC), 2: datetime(2026, 11, 22, 15, tzinfo=UTC),
            3: datetime(2026, 11, 25, 12, tzinfo=UTC), 4: datetime(2026, 11, 26, 12, tzinfo=UTC)}
UPCOMING = {5: datetime(2026, 11, 30, 15, tzinfo=UTC), 6: datetime(2026, 12, 10, 15, tzinfo=UTC)}
FLAGS = {"cov_events": True, "cov_lineups": True, "cov_statistics_fixtures": True,
         "cov_statistics_players": False, "cov_standings": True, "cov_players": True, "cov_top_scorers": True,
         "cov_top_assists": True, "cov_top_cards": True, "cov_injuries": True, "cov_predictions": True,
         "cov_odds": False}
EARLIER = NOW - timedelta(hours=6)


def add(db: Database, table: str, **row: Any) -> None:
    """Insert one row (columns from the test's own keyword names)."""
    row.setdefault("updated_at", EARLIER)
    names = ", ".join(row)
    db.execute(f"INSERT INTO {table} ({names}) VALUES ({', '.join(f'%({k})s' for k in row)})", row)


def add_raw(db: Database, endpoint: str, params: dict[str, Any], at: datetime, results: int,
            page: int = 1, pages: int = 1, status: int = 200) -> int:
    """An archived response (no body: coverage reads only its metadata)."""
    return int(scalar(
        db, "INSERT INTO raw.responses (endpoint, params, status, headers, results, paging_current, paging_total, "
        "fetched_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (endpoint, dump_json({k: str(v) for k, v in params.items()}), status, "{}", results, page, pages, at)))


def quarantine(db: Database, raw_id: int, endpoint: str, index: int) -> None:
    db.execute("INSERT INTO ops.quarantine (raw_id, endpoint, item_index, item, reason, created_at) "
               "VALUES (%s, %s, %s, %s, %s, %s)", (raw_id, endpoint, index, "{}", "KeyError: 'id'", NOW))


def fixture(db: Database, fixture_id: int, kickoff: datetime, finished: bool, home: int, away: int,
            league: int = LEAGUE, season: int = SEASON) -> None:
    add(db, "core.fixtures", id=fixture_id, league_id=league, season=season, kickoff_at=kickoff,
        status_short="FT" if finished else "NS", status_group="finished" if finished else "scheduled",
        home_team_id=home, away_team_id=away, updated_at=kickoff + timedelta(hours=2) if finished else EARLIER)


HELD_PART = '[{"type":"held"}]'  # a part the API answered with something (an empty one, `[]`, may be a gap)


def details(db: Database, fixture_id: int, *parts: str, value: str = HELD_PART) -> None:
    add(db, "core.fixture_details", fixture_id=fixture_id, **dict.fromkeys(parts, value))


def league(db: Database, league_id: int = LEAGUE, season: int = SEASON, **flags: Any) -> None:
    add(db, "core.leagues", id=league_id, name="Premier League")
    add(db, "core.league_seasons", league_id=league_id, season=season, **(FLAGS | {"current": True} | flags))


def build(db: Database) -> None:
    """The hand-computed league season (see the module docstring and test_coverage.py)."""
    with db.transaction():
        league(db)
        for team in (1, 2, 3, 4):
            add(db, "core.teams", id=team, name=f"Team {team}")
        for team in (1, 2, 3):
            add(db, "core.team_seasons", league_id=LEAGUE, season=SEASON, team_id=team)
        pairs = [(1, 2), (3, 4), (1, 3), (2, 4), (1, 4), (2, 3)]
        for (fid, kickoff), (home, away) in zip(list(FINISHED.items()) + list(UPCOMING.items()), pairs, strict=True):
            fixture(db, fid, kickoff, fid in FINISHED, home, away)
        details(db, 1, "events", "lineups", "statistics", "players")
        details(db, 2, "events", "lineups")
        details(db, 3, "events")
        raw_id = add_raw(db, "fixtures", {"league": LEAGUE, "season": SEASON}, NOW - timedelta(hours=6), 8)
        quarantine(db, raw_id, "fixtures", 7)
        stale = NOW - timedelta(days=3)
        add_raw(db, "standings", {"league": LEAGUE, "season": SEASON}, stale, 1)
        for team in (1, 2, 3, 4):
            add(db, "core.standings", league_id=LEAGUE, season=SEASON, group_name="Premier League", team_id=team,
                rank=team, updated_at=stale)
        for player, team in ((10, 1), (11, 1), (20, 2)):
            add(db, "core.players", id=player, name=f"Player {player}")
            add(db, "core.player_season_stats", player_id=player, team_id=team, league_id=LEAGUE, season=SEASON)
        add_raw(db, "players/topscorers", {"league": LEAGUE, "season": SEASON}, NOW - timedelta(hours=1), 0)


def jobs_dir(tmp: Path, coverage: str = "", seasons: str = "[2026]") -> Path:
    """A jobs directory tracking league 39 (and the given coverage: section)."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "leagues.yaml").write_text(f"tracked:\n  - league: 39\n    seasons: {seasons}\n")
    if coverage:
        (tmp / "coverage.yaml").write_text(coverage)
    return tmp


@contextmanager
def sandbox_at(at: datetime) -> Iterator[Sandbox]:
    """The sandbox on a clock stopped at `at` (pro plan, seed 42)."""
    with start_sandbox(SandboxConfig(seed=42, plan="pro"), clock=SimClock(at, speed=0), port=0) as sb:
        yield sb


@contextmanager
def sandbox_collector(sandbox: Sandbox, db_url: str, tmp: Path) -> Iterator[Collector]:
    """A collector on the sandbox tracking league 39's current season, bootstrapped as a real install is
    (/leagues: its seasons and coverage flags)."""
    jobs = jobs_dir(tmp / "jobs", seasons="[current]")
    shutil.copy(default_jobs_dir() / "bootstrap.yaml", jobs)
    conf = load_settings({}, api_key=sandbox.key, api_base_url=sandbox.url, database_url=db_url, jobs_dir=str(jobs))
    opened = Collector.open(conf, clock=sandbox.clock)
    try:
        bootstrap(opened, "leagues")
        yield opened
    finally:
        opened.close()


def fill_gaps(collector: Collector) -> int:
    """Run every gap's requests (all pages) as `afc backfill --from-gaps` would; returns the gaps filled."""
    found = gaps(collector, collector.config, collector.now())
    ctx = collector.context("coverage_gaps", "test", "LOW")
    for gap in found:
        for request in gap.requests:
            for _ in collect(ctx, request):
                pass
    return len(found)
