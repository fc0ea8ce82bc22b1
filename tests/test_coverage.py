"""Coverage on a small hand-built database: every figure below was computed by hand (tests/coverage_data.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from afc.config.coverage import CoverageConfig, Expectation
from afc.config.jobs import load
from afc.coverage import compute, coverage_config
from afc.db import load_json
from afc.errors import ConfigError
from afc.marts import refresh as mart
from afc.marts.coverage import refresh_seasons, report
from afc.marts.coverage.calculate import count_pct, freshness_pct, overall_pct, pipeline_pct
from tests import coverage_data as data
from tests.coverage_data import LEAGUE, NOW, SEASON

# endpoint: (held, expected, count, lag minutes, freshness, pipeline, overall, status)
EXPECTED = {
    "injuries": (0, 1, 0.0, None, 0.0, None, 0.0, "critical"),
    "statistics": (1, 4, 25.0, 8460.0, 17.0, None, 22.6, "critical"),
    # an empty answer although cov_top_scorers is true is not held (re-checked: see test_coverage_gaps)
    # fetched after the last match changed: not stale however old (FOLLOW_MATCHES)
    "top_scorers": (0, 1, 0.0, 0.0, 100.0, 100.0, 40.0, "critical"),
    "lineups": (2, 4, 50.0, 4320.0, 33.3, None, 45.1, "critical"),
    "players": (2, 4, 50.0, 360.0, 100.0, None, 64.7, "warning"),
    "events": (3, 4, 75.0, 2880.0, 50.0, None, 67.6, "warning"),
    "teams": (3, 4, 75.0, 360.0, 100.0, None, 82.4, "warning"),
    "fixtures": (6, 8, 75.0, 360.0, 100.0, 87.5, 83.1, "warning"),
    # fetched 3 days ago, out of date since fixture 3's result came in 2 hours later
    "standings": (1, 1, 100.0, 4200.0, 34.3, 100.0, 83.6, "warning"),
    "fixture_players": (0, 4, None, None, None, None, None, "not_applicable"),
    "odds": (0, 0, None, None, None, None, None, "not_applicable"),
}


@pytest.fixture
def built(db):
    data.build(db)
    return db


def figures(row) -> tuple:
    return (row.held, row.expected, row.count_pct, row.lag_minutes, row.freshness_pct, row.pipeline_pct,
            row.overall_pct, row.status)


def test_hand_computed_figures_worst_first(built):
    rows = compute(built, CoverageConfig(), [(LEAGUE, SEASON)], NOW)
    assert [r.endpoint for r in rows] == list(EXPECTED)
    for row in rows:
        assert figures(row)[2:] == EXPECTED[row.endpoint][2:], row.endpoint
        if row.status != "not_applicable":
            assert (row.held, row.expected) == EXPECTED[row.endpoint][:2], row.endpoint


def test_figures_behind_the_percentages_are_in_the_detail(built):
    rows = {r.endpoint: r for r in compute(built, CoverageConfig(), [(LEAGUE, SEASON)], NOW)}
    assert rows["fixtures"].detail.items() >= {"listed": 8, "raw_items": 8, "quarantined": 1,
                                               "max_lag_minutes": 1440}.items()
    assert rows["standings"].detail["rows"] == 4 and rows["standings"].detail["groups"] == 1
    assert rows["odds"].detail["reason"] == "no API coverage: cov_odds false"
    assert rows["fixture_players"].detail["reason"] == "no API coverage: cov_statistics_players false"
    assert rows["players"].detail["pages"] == 6 and rows["players"].detail["pages_estimated"] is True
    assert rows["events"].detail["oldest_missing_kickoff"] == "2026-11-26T12:00:00+00:00"


def test_a_season_never_fetched_is_zero_with_unknown_expectations(db):
    data.league(db, LEAGUE, 2025)
    rows = {r.endpoint: r for r in compute(db, CoverageConfig(), [(LEAGUE, 2025)], NOW)}
    assert (rows["fixtures"].expected, rows["fixtures"].count_pct, rows["fixtures"].status) == (None, 0.0, "critical")
    assert rows["events"].expected is None and rows["events"].freshness_pct == 0.0
    assert rows["teams"].expected is None and rows["odds"].status == "not_applicable"


def test_a_past_season_is_not_scored_on_freshness(db):
    data.league(db, LEAGUE, 2020, current=False)
    data.add(db, "core.teams", id=1)
    data.add(db, "core.teams", id=2)
    data.fixture(db, 1, NOW - timedelta(days=2000), True, 1, 2, season=2020)
    data.add_raw(db, "fixtures", {"league": LEAGUE, "season": 2020}, NOW - timedelta(days=1900), 1)
    row = next(r for r in compute(db, CoverageConfig(), [(LEAGUE, 2020)], NOW) if r.endpoint == "fixtures")
    assert (row.count_pct, row.freshness_pct, row.pipeline_pct, row.overall_pct, row.status) == (
        100.0, None, 100.0, 100.0, "ok")


def test_filtered_and_failed_calls_are_not_the_season_list(db):
    data.league(db)
    params = {"league": LEAGUE, "season": SEASON}
    data.add_raw(db, "fixtures", params | {"round": "Regular Season - 1"}, NOW, 10)
    data.add_raw(db, "fixtures", params, NOW, 0, status=500)
    row = next(r for r in compute(db, CoverageConfig(), [(LEAGUE, SEASON)], NOW) if r.endpoint == "fixtures")
    assert row.expected is None and row.detail["listed"] is None
    data.add_raw(db, "fixtures", params | {"timezone": "Europe/London"}, NOW - timedelta(hours=1), 380)
    row = next(r for r in compute(db, CoverageConfig(), [(LEAGUE, SEASON)], NOW) if r.endpoint == "fixtures")
    assert (row.expected, row.lag_minutes) == (380, 60.0)


def test_targets_override_expectations_and_disable_endpoints(built):
    config = CoverageConfig(targets=[
        Expectation(endpoint="players", percent=50), Expectation(endpoint="teams", league=LEAGUE, expected=3),
        Expectation(endpoint="teams", expected=10),
        Expectation(endpoint="injuries", league=LEAGUE, season=SEASON, enabled=False)])
    rows = {r.endpoint: r for r in compute(built, config, [(LEAGUE, SEASON)], NOW)}
    assert (rows["players"].count_pct, rows["players"].detail["target"]) == (100.0, {"endpoint": "players",
                                                                                   "percent": 50.0, "enabled": True})
    assert (rows["teams"].expected, rows["teams"].count_pct) == (3, 100.0)  # the league's target beats the global one
    assert rows["injuries"].status == "not_applicable"
    assert rows["injuries"].detail["reason"] == "disabled in the coverage config"


def test_weights_and_thresholds_come_from_config(built):
    config = CoverageConfig(weights={"count": 1, "freshness": 0, "pipeline": 0}, thresholds={"warning": 80,
                                                                                            "critical": 30})
    rows = {r.endpoint: r for r in compute(built, config, [(LEAGUE, SEASON)], NOW)}
    assert (rows["standings"].overall_pct, rows["standings"].status) == (100.0, "ok")
    assert (rows["lineups"].overall_pct, rows["lineups"].status) == (50.0, "warning")
    assert (rows["statistics"].overall_pct, rows["statistics"].status) == (25.0, "critical")


def test_only_the_configured_endpoints_are_measured(built):
    rows = compute(built, CoverageConfig(endpoints=["fixtures", "events"]), [(LEAGUE, SEASON)], NOW)
    assert sorted(r.endpoint for r in rows) == ["events", "fixtures"]


@pytest.mark.parametrize(("held", "expected", "target", "pct"), [
    (3, 4, None, 75.0), (5, 4, None, 100.0), (0, 0, None, 100.0), (9, None, None, 0.0),
    (2, 4, Expectation(endpoint="odds", percent=50), 100.0), (1, 3, Expectation(endpoint="odds", percent=50), 50.0),
    (0, 4, Expectation(endpoint="odds", percent=0), 100.0)])
def test_count_pct(held, expected, target, pct):
    assert count_pct(held, expected, target) == pct


def test_freshness_pipeline_and_overall_formulas():
    assert (freshness_pct(None, 60), freshness_pct(60, 60), freshness_pct(120, 60), freshness_pct(600, 60)) == (
        0.0, 100.0, 50.0, 10.0)
    assert (pipeline_pct(0, 0), pipeline_pct(8, 1), pipeline_pct(4, 4)) == (100.0, 87.5, 0.0)
    config = CoverageConfig()
    assert overall_pct({"count": 50.0, "freshness": 100.0, "pipeline": None}, config) == pytest.approx(55 / 0.85)
    assert overall_pct({"count": 80.0, "freshness": 100.0, "pipeline": 40.0}, config) == pytest.approx(79.0)


def test_report_writes_the_mart_and_drops_untracked_rows(built, tmp_path):
    config = load(data.jobs_dir(tmp_path / "jobs"))
    built.execute("INSERT INTO mart.coverage_status (league_id, season, endpoint, held, status, computed_at, "
                  "updated_at) VALUES (99, 2020, 'fixtures', 0, 'critical', %s, %s)", (NOW, NOW))
    result = report(built, config, NOW)
    assert [r.endpoint for r in result.rows] == list(EXPECTED) and result.worst == "critical"
    assert result.league_names == {39: "Premier League"} and len(result.critical) == 4
    stored = {r["endpoint"]: r for r in built.fetch_dicts("SELECT * FROM mart.coverage_status")}
    assert set(stored) == set(EXPECTED)
    lineups = stored["lineups"]
    assert (lineups["held"], lineups["expected"], float(lineups["count_pct"]), float(lineups["lag_minutes"]),
            float(lineups["freshness_pct"]), lineups["pipeline_pct"], float(lineups["overall_pct"]),
            lineups["status"]) == (2, 4, 50.0, 4320.0, 33.3, None, 45.1, "critical")
    assert load_json(stored["fixtures"]["detail"])["quarantined"] == 1
    saved = load_json(built.fetchone("SELECT settings FROM mart.coverage_settings")[0])
    assert saved["thresholds"] == {"warning": 90.0, "critical": 50.0}


def test_a_response_refreshes_only_its_measured_league_season(built, tmp_path):
    report(built, load(data.jobs_dir(tmp_path / "jobs")), NOW)
    later = NOW + timedelta(hours=1)
    with built.transaction():
        # a non-empty answer (an empty one would be a gap: see test_coverage_gaps)
        data.add_raw(built, "injuries", {"league": LEAGUE, "season": SEASON}, later, 3)
        written = mart.refresh(built, {"league_season": {(LEAGUE, SEASON), (140, 2026)}}, later)
    assert written >= 11
    row = built.fetch_dicts("SELECT * FROM mart.coverage_status WHERE endpoint = 'injuries'")[0]
    assert (row["held"], float(row["count_pct"]), float(row["overall_pct"]), row["status"]) == (1, 100.0, 100.0, "ok")
    assert built.fetchone("SELECT count(*) FROM mart.coverage_status WHERE league_id = 140")[0] == 0


def test_a_touched_fixture_refreshes_its_league_season(built, tmp_path):
    report(built, load(data.jobs_dir(tmp_path / "jobs")), NOW)
    with built.transaction():
        built.execute("UPDATE core.fixture_details SET statistics = %s WHERE fixture_id = 2", (data.HELD_PART,))
        mart.refresh(built, {"fixture": {2}}, NOW)
    row = built.fetch_dicts("SELECT held, count_pct FROM mart.coverage_status WHERE endpoint = 'statistics'")[0]
    assert (row["held"], float(row["count_pct"])) == (2, 50.0)


def test_a_fixture_and_its_league_season_touched_together_are_recomputed_once(built, tmp_path, monkeypatch):
    """Found by `afc rehearse`: every live tick recomputed its seasons' coverage twice (a fixture item
    touches both kinds), 70 % of the tick's time."""
    import afc.marts.coverage as coverage_mart

    report(built, load(data.jobs_dir(tmp_path / "jobs")), NOW)
    calls: list[list[tuple[int, int]]] = []
    real = coverage_mart.compute
    def counted(db, c, seasons, now, only=None):
        calls.append(seasons)
        return real(db, c, seasons, now, only)

    monkeypatch.setattr(coverage_mart, "compute", counted)
    with built.transaction():
        mart.refresh(built, {"fixture": {2}, "league_season": {(LEAGUE, SEASON)}}, NOW)
    assert calls == [[(LEAGUE, SEASON)]]


def test_refresh_before_any_report_writes_nothing(built):
    assert refresh_seasons(built, [(LEAGUE, SEASON)], NOW) == 0


def test_the_shipped_coverage_yaml_is_valid():
    config = coverage_config(load())
    assert config.thresholds.critical == 50 and config.max_lag("odds") == 360 and len(config.endpoints) == 11


@pytest.mark.parametrize(("section", "message"), [
    ("weights: {count: -1}", "coverage.weights.count: Input should be greater than or equal to 0, got -1"),
    ("thresholds: {warning: 40, critical: 60}", "coverage.thresholds: critical (60) must not be above warning (40)"),
    ("max_lag_minutes: {fixturez: 10}", "coverage.max_lag_minutes.fixturez.[key]: Input should be"),
    ("targets: [{endpoint: odds}]", "coverage.targets.0: give expected (a count), percent (the share wanted)"),
    ("odds_window: 3", "coverage.odds_window: Extra inputs are not permitted"),
])
def test_bad_config_names_file_and_field(tmp_path: Path, section: str, message: str):
    directory = data.jobs_dir(tmp_path, "coverage:\n  " + section + "\n")
    with pytest.raises(ConfigError) as caught:
        coverage_config(load(directory))
    assert str(caught.value).startswith(f"{directory / 'coverage.yaml'}: {message}")
