"""`afc coverage report` and `afc coverage gaps`: the table, the JSON, the exit codes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from afc.cli import app
from afc.db import connect
from tests import coverage_data as data
from tests.test_coverage import EXPECTED

runner = CliRunner()


@pytest.fixture
def env(db_url, tmp_path):
    db = connect(db_url)
    data.build(db)
    db.close()
    return {"AFC_DATABASE_URL": db_url, "AFC_JOBS_DIR": str(data.jobs_dir(tmp_path / "jobs")),
            "AFC_DATA_DIR": str(tmp_path / "data"), "AFC_CLOCK": "2026-11-28T12:00:00Z", "API_FOOTBALL_KEY": "",
            "COLUMNS": "200"}


def test_report_table_worst_first_with_figures_and_exit_1_on_critical(env):
    result = runner.invoke(app, ["-q", "coverage", "report"], env=env)
    assert result.exit_code == 1, result.output
    out = result.stdout
    for header in ("league", "endpoint", "status", "overall", "count", "freshness", "pipeline"):
        assert header in out
    lines = {name: next(i for i, line in enumerate(out.splitlines()) if f" {name} " in line) for name in EXPECTED}
    assert sorted(lines, key=lambda name: lines[name]) == list(EXPECTED)
    row = {name: out.splitlines()[i] for name, i in lines.items()}
    assert "39 Premier League" in row["fixtures"] and " 2026 " in row["fixtures"]
    assert "warning" in row["fixtures"] and "75.0% 6/8" in row["fixtures"] and "87.5% 7/8" in row["fixtures"]
    assert "34.3% 2d22h/1d" in row["standings"] and "83.6%" in row["standings"]
    assert "critical" in row["lineups"] and "50.0% 2/4" in row["lineups"] and "45.1%" in row["lineups"]
    assert "n/a" in row["odds"] and "no API coverage: cov_odds false" in row["odds"]
    assert "critical" in row["top_scorers"] and "0.0% 0/1" in row["top_scorers"]  # answered empty: not held


def test_report_json_for_scripts(env):
    result = runner.invoke(app, ["-q", "coverage", "report", "--json"], env=env)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["worst"], report["critical"]) == ("critical", 4)
    rows = {r["endpoint"]: r for r in report["rows"]}
    assert [r["endpoint"] for r in report["rows"]] == list(EXPECTED)
    for name, (_, _, count, lag, fresh, pipeline, overall, status) in EXPECTED.items():
        row = rows[name]
        assert (row["count_pct"], row["lag_minutes"], row["freshness_pct"], row["pipeline_pct"],
                row["overall_pct"], row["status"]) == (count, lag, fresh, pipeline, overall, status), name
    assert rows["fixtures"]["detail"]["quarantined"] == 1 and rows["fixtures"]["held"] == 6


def test_report_exits_0_when_nothing_is_critical(env, tmp_path):
    jobs = data.jobs_dir(tmp_path / "calm", "coverage:\n  endpoints: [fixtures, standings]\n")
    result = runner.invoke(app, ["-q", "coverage", "report", "--json"], env=env | {"AFC_JOBS_DIR": str(jobs)})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["worst"] == "warning"


def test_report_for_one_league_season_and_an_untracked_league(env):
    result = runner.invoke(app, ["-q", "coverage", "report", "--league", "39", "--season", "2026", "--json"],
                           env=env)
    assert {(r["league_id"], r["season"]) for r in json.loads(result.stdout)["rows"]} == {(39, 2026)}
    result = runner.invoke(app, ["-q", "coverage", "report", "--league", "140"], env=env)
    assert result.exit_code == 2
    assert "afc: league 140 is not tracked" in result.stderr and "pass --season" in result.stderr


def test_bad_coverage_config_is_one_line_and_exit_2(env, tmp_path):
    jobs = data.jobs_dir(tmp_path / "bad", "coverage:\n  thresholds: {warning: 10, critical: 20}\n")
    result = runner.invoke(app, ["coverage", "report"], env=env | {"AFC_JOBS_DIR": str(jobs)})
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"afc: {jobs / 'coverage.yaml'}: coverage.thresholds: "
                                     "critical (20) must not be above warning (10)")


def test_gaps_lists_the_calls_and_what_they_cost(env):
    result = runner.invoke(app, ["-q", "coverage", "gaps"], env=env)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "/fixtures?ids=2-3-4" in out and "/players?league=39&season=2026" in out and "2 of 4 held" in out
    assert "7 gaps, 11 calls;" in result.stderr and "available to LOW priority today" in result.stderr
    as_json = json.loads(runner.invoke(app, ["-q", "coverage", "gaps", "--json"], env=env).stdout)
    assert as_json["calls"] == 11 and as_json["available_low"] >= 0
    assert [g["endpoint"] for g in as_json["gaps"]] == ["fixtures", "details", "standings", "teams", "players",
                                                       "injuries", "top_scorers"]
    assert as_json["gaps"][1]["requests"] == ["/fixtures?ids=2-3-4"]


@pytest.mark.parametrize("columns", [None, "80", "40"])
def test_piped_tables_and_messages_are_never_cut(env, db_url, columns):
    """Under cron or a pipe stdout is no terminal: every cell and the summary line stay whole, at any COLUMNS."""
    long_name = "Primera División de la Liga Profesional del Fútbol Argentino"
    db = connect(db_url)
    with db.transaction():
        db.execute("UPDATE core.leagues SET name = %(name)s WHERE id = 39", {"name": long_name})
    db.close()
    env = {k: v for k, v in env.items() if k != "COLUMNS"} | ({"COLUMNS": columns} if columns else {})
    result = runner.invoke(app, ["-q", "coverage", "report"], env=env)
    assert result.exit_code == 1, result.output
    assert "…" not in result.stdout
    rows = [line for line in result.stdout.splitlines() if f"39 {long_name}" in line]
    assert len(rows) == len(EXPECTED)
    assert {name for name in EXPECTED if any(f" {name} " in row for row in rows)} == set(EXPECTED)
    gaps = runner.invoke(app, ["-q", "coverage", "gaps"], env=env)
    assert "/fixtures?ids=2-3-4" in gaps.stdout and "…" not in gaps.stdout
    summary = [line for line in gaps.stderr.splitlines() if "gaps," in line]
    assert summary == ["7 gaps, 11 calls; " + summary[0].split("; ", 1)[1]]
    assert summary[0].endswith("calls available to LOW priority today")
