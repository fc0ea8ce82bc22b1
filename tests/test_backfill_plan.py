"""The backfill planner and CLI without the sandbox: option parsing, held rules, coverage skips,
the cost table and its days, and the CLI's errors and exit codes."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from afc.backfill import planner, tasks
from afc.backfill.kinds import KINDS, parse_leagues, parse_seasons, parse_what
from afc.backfill.preview import BackfillSeason, days_needed, preview
from afc.cli import app
from afc.db import Database
from afc.errors import ConfigError

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
FLAGS = ("cov_events", "cov_lineups", "cov_statistics_fixtures", "cov_statistics_players", "cov_standings",
         "cov_players", "cov_top_scorers", "cov_top_assists", "cov_top_cards", "cov_injuries")


def seed_season(db: Database, league: int = 39, season: int = 2024, *, end: date = date(2025, 5, 18),
                off: tuple[str, ...] = (), fixtures: int = 0, with_details: int = 0) -> None:
    """A league season in core with its coverage flags, and `fixtures` finished fixtures."""
    with db.transaction():
        db.execute("INSERT INTO core.leagues (id, name, type, updated_at) VALUES (%s, 'L', 'League', %s) "
                   "ON CONFLICT (id) DO NOTHING", (league, NOW))
        flags = {f: f not in off for f in FLAGS}
        columns = ", ".join(flags)
        values = ", ".join(f"%({f})s" for f in flags)
        db.execute(f"INSERT INTO core.league_seasons (league_id, season, end_date, current, {columns}, updated_at) "
                   f"VALUES (%(league)s, %(season)s, %(end)s, %(current)s, {values}, %(now)s)",
                   {"league": league, "season": season, "end": end, "current": False, "now": NOW} | flags)
        for i in range(fixtures):
            db.execute("INSERT INTO core.fixtures (id, league_id, season, kickoff_at, status_short, status_group, "
                       "updated_at) VALUES (%s, %s, %s, %s, 'FT', 'finished', %s)",
                       (1000 + i, league, season, datetime(2024, 9, 1, tzinfo=UTC), NOW))
        for i in range(with_details):
            db.execute("INSERT INTO core.fixture_details (fixture_id, events, lineups, statistics, players, final, "
                       "updated_at) VALUES (%s, '[]', '[]', '[]', '[]', %s, %s)", (1000 + i, True, NOW))


def test_parse_options() -> None:
    assert parse_what(None) == tuple(KINDS)
    assert parse_what("details, fixtures,topcards") == ("fixtures", "topyellowcards", "topredcards", "details")
    assert parse_leagues(["39", "140,39"]) == [39, 140]
    assert parse_seasons(["2020-2022", "2024", "2021..2023"]) == [2020, 2021, 2022, 2024, 2023]
    with pytest.raises(ConfigError, match="--what: unknown kind 'lineups'"):
        parse_what("fixtures,lineups")
    with pytest.raises(ConfigError, match="--season: must be a 4-digit start year or a range"):
        parse_seasons(["2022-23"])
    for word in ("1000-9999", "1800", "9999", "2190-2200"):  # a typo once planned 9,000 seasons
        with pytest.raises(ConfigError, match=f"--season: must lie between 1900 and 2199, got '{word}'"):
            parse_seasons([word])
    with pytest.raises(ConfigError, match="--league: must be a league id"):
        parse_leagues(["premier"])


def test_days_needed() -> None:
    assert days_needed(0, 0, 100) == 0
    assert days_needed(50, 60, 100) == 1
    assert days_needed(250, 50, 100) == 3  # 50 today, then 100 + 100
    assert days_needed(250, 0, 100) == 3  # nothing today: three more days
    assert days_needed(10, 0, 0) is None


def test_coverage_flags_skip_kinds_and_details(db: Database) -> None:
    seed_season(db, off=("cov_events", "cov_lineups", "cov_statistics_fixtures", "cov_statistics_players",
                         "cov_injuries", "cov_players"), fixtures=45)
    info = planner.facts(db, 39, 2024, NOW.date())
    specs = {s.kind: (s.status, s.note) for s in planner.season_specs(db, info, tuple(KINDS), refresh=False)}
    assert specs["injuries"] == ("skipped", "coverage") and specs["players"] == ("skipped", "coverage")
    assert specs["standings"] == ("pending", None) and specs["fixtures"] == ("pending", None)
    assert planner.details_plan(db, info, refresh=False).specs == []


def test_details_are_batched_by_20_and_held_ones_skipped(db: Database) -> None:
    seed_season(db, off=("cov_lineups",), fixtures=45, with_details=5)
    info = planner.facts(db, 39, 2024, NOW.date())
    details = planner.details_plan(db, info, refresh=False)
    assert details.held == 5
    assert [len(s.params["ids"].split("-")) for s in details.specs] == [20, 20]
    assert details.specs[0].params["ids"].startswith("1005-1006-")
    assert len(planner.details_plan(db, info, refresh=True).specs) == math.ceil(45 / 20)


def test_held_rules_need_the_season_over(db: Database) -> None:
    seed_season(db, season=2024)
    seed_season(db, season=2026, end=date(2027, 5, 18))
    with db.transaction():
        db.execute("INSERT INTO core.teams (id, updated_at) VALUES (1, %s)", (NOW,))
        for season in (2024, 2026):
            db.execute("INSERT INTO core.team_seasons (league_id, season, team_id, updated_at) VALUES (39, %s, 1, %s)",
                       (season, NOW))
    over = planner.facts(db, 39, 2024, NOW.date())
    running = planner.facts(db, 39, 2026, NOW.date())
    assert over.over and not running.over
    assert planner.held(db, over, "teams") and not planner.held(db, running, "teams")
    assert not planner.held(db, over, "standings")  # no table in core yet
    assert not planner.held(db, over, "fixtures")  # the season list was never fetched


def test_unknown_coverage_plans_the_leagues_call_first(db: Database) -> None:
    plan = tasks.open_plan(db, 78, 2023, ("fixtures", "details"), False, NOW)
    with db.transaction():
        planner.expand(db, plan, NOW)
    planned = tasks.tasks(db, plan.id)
    assert [(t.kind, str(t.request), t.status) for t in planned] == [("leagues", "/leagues?id=78", "pending")]
    again = tasks.open_plan(db, 78, 2023, ("standings",), False, NOW)
    assert again.id == plan.id and again.kinds == ("fixtures", "details", "standings")


def test_preview_merges_estimates_and_quota(db: Database) -> None:
    seed_season(db, fixtures=0)
    target = BackfillSeason(39, 2024, ("fixtures", "details", "standings", "players"))
    shown = preview(db, [target], NOW, priority="LOW", available=10, budget=100)
    rows = {r.kind: r for r in shown.rows}
    assert rows["fixtures"].needed == 1 and rows["standings"].needed == 1
    assert rows["details"].estimated and rows["details"].needed == math.ceil(20 * 19 / 20)
    assert rows["players"].estimated and rows["players"].needed == 25
    assert shown.needed == 1 + 1 + 19 + 25 and shown.days == 2


def cli(args: list[str], url: str, tmp: Path, **env: str) -> Any:
    """Run `afc backfill ARGS` in-process."""
    base = {"AFC_DATABASE_URL": url, "AFC_DATA_DIR": str(tmp), "AFC_CLOCK": "2026-11-28T12:00:00Z@0",
            "API_FOOTBALL_KEY": "k" * 32, "AFC_API_BASE_URL": "http://127.0.0.1:9"}
    return CliRunner().invoke(app, ["backfill", *args], env=base | env)


def test_cli_plan_prints_the_table_and_spends_nothing(db_url: str, db: Database, tmp_path: Path) -> None:
    seed_season(db, fixtures=40, with_details=40)
    result = cli(["-l", "39", "-s", "2024", "--what", "fixtures,details,standings", "--plan"], db_url, tmp_path)
    assert result.exit_code == 0, result.output
    assert "details" in result.stdout and "2 calls needed; 6750 available today at LOW" in result.stdout
    assert db.fetchone("SELECT count(*) FROM ops.backfill_plans") == (0,)
    as_json = cli(["-l", "39", "-s", "2024", "--what", "details", "--plan", "--json"], db_url, tmp_path)
    assert '"held": 2' in as_json.stdout and '"needed": 0' in as_json.stdout


def test_cli_errors_and_confirmation(db_url: str, tmp_path: Path) -> None:
    missing = cli(["-l", "39"], db_url, tmp_path)
    assert missing.exit_code == 2 and "--season is missing" in missing.stderr
    nothing = cli([], db_url, tmp_path)
    assert nothing.exit_code == 2 and "or --resume to continue" in nothing.stderr
    bad = cli(["-l", "39", "-s", "2024", "--priority", "urgent"], db_url, tmp_path)
    assert bad.exit_code == 2 and "--priority: must be one of CRITICAL, HIGH, MEDIUM, LOW" in bad.stderr
    unconfirmed = cli(["-l", "39", "-s", "2024"], db_url, tmp_path)
    assert unconfirmed.exit_code == 2 and "add --yes to spend them" in unconfirmed.stderr


def test_cli_resume_with_nothing_planned_and_status(db_url: str, tmp_path: Path) -> None:
    resumed = cli(["--resume"], db_url, tmp_path)
    assert resumed.exit_code == 0, resumed.output
    assert "backfill ok: 0 tasks done" in resumed.stdout
    status = cli(["status"], db_url, tmp_path)
    assert status.exit_code == 0 and "no backfill planned yet" in status.stdout
