"""The README's first command: `afc demo` collects from the sandbox into an embedded SQLite file."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

from typer.testing import CliRunner

from afc.cli import app
from tests.conftest import ROOT


def test_demo_collects_every_stage_into_its_own_file(tmp_path):
    env = {"AFC_DATA_DIR": str(tmp_path), "API_FOOTBALL_KEY": "", "AFC_DATABASE_URL": ""}
    result = CliRunner().invoke(app, ["-q", "demo", "--quick", "--json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["database"] == f"sqlite:///{tmp_path / 'demo.db'}"
    rows = report["rows"]
    for table in ("core.leagues", "core.teams", "core.fixtures", "core.standings", "mart.daily_fixtures",
                  "mart.coverage_status"):
        assert rows[table] > 0, table
    assert rows["raw.responses"] == report["calls"]  # every call the sandbox answered is archived
    steps = report["steps"]
    assert [s.split(":")[0] for s in steps] == ["bootstrap", "backfill", "daily", "live loop", "match day",
                                                "coverage report", "history"]
    assert "live calls" in steps["live loop: the first matches of the day, at 240x speed"]
    matchday = steps["match day: lineups before kickoff, statistics in play, predictions"]
    assert not matchday.startswith("0 fixtures with lineups") and rows["core.predictions"] > 0
    assert "in play with statistics on the live panel" in matchday
    history = steps["history: a day of odds moves, the table after each round"]
    assert "Bet365 match winner opening → closing: " in history and "table kept after rounds" in history
    assert rows["mart.odds_movement"] > 0 and rows["mart.table_by_round"] > 0
    assert not (tmp_path / "afc.db").exists()  # never the collector's own database
    # The sandbox speaks the API's contract: what it answers is the known shape, so a demo records no drift
    # (a finding would make `afc health` fail until acknowledged).
    drift = CliRunner().invoke(app, ["drift", "--db", report["database"]], env=env)
    assert drift.exit_code == 0 and "no schema drift recorded" in drift.output, drift.output


def test_the_wheel_ships_its_sql_and_job_files(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next(tmp_path.glob("afc-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    sql = "afc/_shipped/sql"
    assert f"{sql}/sqlite/0001_foundation.sql" in names and f"{sql}/postgres/0001_foundation.sql" in names
    assert "afc/_shipped/jobs/daily.yaml" in names and "afc/_shipped/jobs/leagues.yaml" in names
    assert any(n.startswith("afc/collect/drift/known/") for n in names)
    assert not any(n.startswith("tests/") for n in names)
