"""Freshness measures lag against what could have changed (issue #16: coverage decayed on days without matches).

Standings and top scorers change only when the league plays; fixtures and injuries of the days that can still
change are re-checked by the daily all-league `date=` calls. A quiet stretch must not make any of them stale,
and the daily targets must spend no call where nothing changed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from afc.config.coverage import CoverageConfig
from afc.config.jobs import load
from afc.coverage import compute
from afc.jobs.targets import league_seasons_played, league_seasons_scored
from tests import coverage_data as data
from tests.coverage_data import LEAGUE, NOW, SEASON

WEEK_AGO = NOW - timedelta(days=7)
ALL = ["fixtures", "standings", "top_scorers", "injuries"]


@pytest.fixture
def quiet(db):
    """A current season whose last match ended a week ago, every list fetched right after it; no match since."""
    with db.transaction():
        data.league(db)
        for team in (1, 2):
            data.add(db, "core.teams", id=team, name=f"Team {team}")
        data.add(db, "core.fixtures", id=1, league_id=LEAGUE, season=SEASON, kickoff_at=WEEK_AGO,
                 status_short="FT", status_group="finished", home_team_id=1, away_team_id=2,
                 updated_at=WEEK_AGO + timedelta(hours=2))
        data.add(db, "core.fixtures", id=2, league_id=LEAGUE, season=SEASON, kickoff_at=NOW + timedelta(days=3),
                 status_short="NS", status_group="scheduled", home_team_id=2, away_team_id=1, updated_at=WEEK_AGO)
        fetched = WEEK_AGO + timedelta(hours=3)
        for endpoint, items in (("fixtures", 2), ("standings", 1), ("players/topscorers", 1), ("injuries", 1)):
            data.add_raw(db, endpoint, {"league": LEAGUE, "season": SEASON}, fetched, items)
        data.add(db, "core.standings", league_id=LEAGUE, season=SEASON, group_name="L", team_id=1, rank=1,
                 updated_at=fetched)
    return db


def rows(db, now=NOW) -> dict:
    return {r.endpoint: r for r in compute(db, CoverageConfig(endpoints=ALL), [(LEAGUE, SEASON)], now)}


def test_lists_that_follow_matches_do_not_go_stale_while_nothing_is_played(quiet):
    found = rows(quiet)
    for endpoint in ("standings", "top_scorers"):
        assert (found[endpoint].lag_minutes, found[endpoint].freshness_pct) == (0.0, 100.0), endpoint
        assert found[endpoint].detail["source_changed_at"] is None


def test_a_match_after_the_fetch_makes_them_stale_from_its_change(quiet):
    changed = NOW - timedelta(days=2)
    quiet.execute("UPDATE core.fixtures SET status_short = 'FT', status_group = 'finished', updated_at = %s "
                  "WHERE id = 2", (changed,))
    found = rows(quiet)
    for endpoint in ("standings", "top_scorers"):
        assert found[endpoint].lag_minutes == 2880.0 and found[endpoint].freshness_pct == 50.0, endpoint
        assert found[endpoint].detail["source_changed_at"] == changed.isoformat()


def test_without_a_date_check_fixtures_and_injuries_age_from_the_season_call(quiet):
    found = rows(quiet)
    lag = (NOW - WEEK_AGO - timedelta(hours=3)).total_seconds() / 60
    assert found["fixtures"].lag_minutes == lag and found["injuries"].lag_minutes == lag


def test_the_daily_all_league_date_calls_keep_fixtures_and_injuries_fresh(quiet):
    checked = NOW - timedelta(hours=2)
    data.add_raw(quiet, "fixtures", {"date": "2026-11-28"}, checked, 40)
    data.add_raw(quiet, "injuries", {"date": "2026-11-29"}, checked, 0)  # nothing of this league: still checked
    found = rows(quiet)
    for endpoint in ("fixtures", "injuries"):
        assert (found[endpoint].lag_minutes, found[endpoint].freshness_pct) == (120.0, 100.0), endpoint
        assert found[endpoint].detail["date_checked_at"] == checked.isoformat()


def test_date_calls_of_another_league_or_that_failed_do_not_count(quiet):
    data.add_raw(quiet, "fixtures", {"date": "2026-11-28", "league": 140}, NOW - timedelta(hours=1), 10)
    data.add_raw(quiet, "injuries", {"date": "2026-11-28"}, NOW - timedelta(hours=1), 0, status=500)
    data.add_raw(quiet, "standings", {"league": LEAGUE, "season": 2025}, NOW - timedelta(hours=1), 1)
    found = rows(quiet)
    assert found["fixtures"].freshness_pct < 100 and found["injuries"].freshness_pct < 100
    assert found["fixtures"].detail["date_checked_at"] is None


@pytest.fixture
def config(tmp_path):
    return load(data.jobs_dir(tmp_path / "jobs"))


def test_quiet_days_cost_no_standings_or_top_scorer_calls(quiet, config):
    assert list(league_seasons_played(config, quiet, NOW)) == []
    assert list(league_seasons_scored(config, quiet, NOW)) == []


def test_a_match_or_a_late_correction_after_the_fetch_is_refetched_once(quiet, config):
    # a week-old result corrected after the lists were fetched changes both
    quiet.execute("UPDATE core.fixtures SET updated_at = %s WHERE id = 1", (NOW - timedelta(hours=5),))
    wanted = [{"league": str(LEAGUE), "season": str(SEASON)}]
    assert list(league_seasons_played(config, quiet, NOW)) == wanted
    assert list(league_seasons_scored(config, quiet, NOW)) == wanted
    data.add_raw(quiet, "players/topscorers", {"league": LEAGUE, "season": SEASON}, NOW - timedelta(hours=1), 1)
    assert list(league_seasons_scored(config, quiet, NOW)) == []
    assert list(league_seasons_played(config, quiet, NOW)) == wanted


def test_top_scorers_never_fetched_are_fetched_after_a_match_day_unless_the_flag_says_none(quiet, config):
    quiet.execute("DELETE FROM raw.responses WHERE endpoint = 'players/topscorers'")
    quiet.execute("UPDATE core.fixtures SET kickoff_at = %s WHERE id = 1", (NOW - timedelta(hours=20),))
    assert list(league_seasons_scored(config, quiet, NOW)) == [{"league": str(LEAGUE), "season": str(SEASON)}]
    quiet.execute("UPDATE core.league_seasons SET cov_top_scorers = %s", (False,))
    assert list(league_seasons_scored(config, quiet, NOW)) == []


def test_top_scorers_wait_until_no_fixture_of_the_league_is_in_play(quiet, config):
    quiet.execute("UPDATE core.fixtures SET updated_at = %s WHERE id = 1", (NOW - timedelta(hours=5),))
    quiet.execute("UPDATE core.fixtures SET status_short = '2H', status_group = 'live', kickoff_at = %s, "
                  "updated_at = %s WHERE id = 2", (NOW - timedelta(hours=1), NOW))
    wanted = [{"league": str(LEAGUE), "season": str(SEASON)}]
    assert list(league_seasons_scored(config, quiet, NOW)) == []
    assert list(league_seasons_played(config, quiet, NOW)) == wanted  # standings: hourly while live
    quiet.execute("UPDATE core.fixtures SET status_short = 'FT', status_group = 'finished' WHERE id = 2")
    assert list(league_seasons_scored(config, quiet, NOW)) == wanted


def test_players_age_from_their_last_league_wide_run_not_from_a_top_scorer_row(quiet):
    """The drill found it: top scorers rewrite a few players' season rows every match day, and that newest
    row made a list weeks old look fresh, so /players was never asked again."""
    with quiet.transaction():
        data.add(quiet, "core.players", id=10, name="Scorer")
        data.add(quiet, "core.player_season_stats", player_id=10, team_id=1, league_id=LEAGUE, season=SEASON,
                 updated_at=NOW - timedelta(hours=1))  # written by a top scorers answer
        data.add_raw(quiet, "players", {"league": LEAGUE, "season": SEASON}, NOW - timedelta(days=14), 40)
    [players] = compute(quiet, CoverageConfig(endpoints=["players"]), [(LEAGUE, SEASON)], NOW)
    assert players.lag_minutes == 14 * 1440 and players.freshness_pct == 50.0
