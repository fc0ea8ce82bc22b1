"""`afc export` on the command line: the summary, --json, and bad input in one line with nothing left behind."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from afc.cli import app
from afc.db import connect
from afc.export.files import LOCK_NAME
from afc.export.watermarks import Destination, store
from tests.conftest import sample
from tests.loading import AT, load

runner = CliRunner()
EPL = "fixtures/obissing__matches2023.json"


def season_at(url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of a database holding the 2023 Premier League season."""
    db = connect(url)
    load(db, "fixtures", {"league": "39", "season": "2023"}, sample(EPL)["response"])
    db.close()
    return {"AFC_DATABASE_URL": url, "AFC_DATA_DIR": str(tmp_path / "data"), "AFC_CLOCK": "2026-11-28T13:00:00Z@0"}


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return season_at(db_url, tmp_path)


@pytest.fixture
def sqlite_env(sqlite_url: str, tmp_path: Path) -> dict[str, str]:
    """Argument checks do not depend on the backend: SQLite only, to spare the shared PostgreSQL server."""
    return season_at(sqlite_url, tmp_path)


def invoke(env: dict[str, str], *args: str):
    return runner.invoke(app, ["export", *args], env=env)


def written(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.is_file() and p.name != LOCK_NAME) if out.exists() else []


def test_export_prints_a_line_per_table_then_nothing_changed(env, tmp_path):
    out = tmp_path / "out"
    result = invoke(env, "core.fixtures", "mart_daily_fixtures", "--out", str(out), "--since", "last")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"core.fixtures: 380 rows → {out}/core_fixtures/20261128T130000Z.parquet"
    assert lines[1].startswith("mart.daily_fixtures: 380 rows → ")
    assert result.stderr.startswith("exported 760 rows (parquet) in ")
    again = invoke(env, "core.fixtures", "--out", str(out), "--since", "last", "--json")
    report = json.loads(again.stdout)
    assert report["rows"] == 0 and report["tables"][0]["since"] == "2026-11-28T12:00:00+00:00"
    assert report["tables"][0]["file"] is None and len(written(out)) == 2


def test_each_run_is_a_job_run_with_metrics_and_a_failed_one_is_recorded(env, db_url, tmp_path):
    env = env | {"AFC_METRICS_DIR": str(tmp_path / "metrics")}
    assert invoke(env, "all", "--out", str(tmp_path / "out")).exit_code == 0
    textfile = (tmp_path / "metrics" / "afc_job_export.prom").read_text()
    assert 'afc_job_last_success{group="export",job="export"} 1' in textfile
    db = connect(db_url)
    store(db, "core.fixtures", Destination(str((tmp_path / "out").resolve()), "parquet", ""), AT.replace(year=2030),
          exported_at=AT, rows=1, file="x")
    db.close()
    assert invoke(env, "all", "--out", str(tmp_path / "out"), "--since", "last").exit_code == 1
    db = connect(db_url)
    statuses = db.fetchall("SELECT job_id, status, error FROM ops.job_runs ORDER BY id")
    db.close()
    assert [(job, status) for job, status, _ in statuses] == [("export", "ok"), ("export", "failed")]
    assert "the watermark for" in statuses[1][2] and "in the future" in statuses[1][2]
    textfile = (tmp_path / "metrics" / "afc_job_export.prom").read_text()
    assert 'afc_job_last_success{group="export",job="export"} 0' in textfile


def test_csv_with_a_since_time(env, tmp_path):
    out = tmp_path / "out"
    result = invoke(env, "fixtures", "--format", "csv", "--out", str(out), "--since", "2026-11-28T11:59:00Z")
    assert result.exit_code == 0, result.output
    [file] = written(out)
    assert file.suffix == ".csv" and len(file.read_text().splitlines()) == 381


@pytest.mark.parametrize(("args", "message"), [
    (["nope", "--out", "{out}"], "afc: export: no table 'nope' to export; use all or one of: core.countries, "),
    (["ops.job_runs", "--out", "{out}"], "afc: export: no table 'ops.job_runs' to export; "),
    (["all", "--out", "{out}", "--format", "xml"], "afc: export: --format 'xml': use parquet, csv or jsonl\n"),
    (["all", "--out", "{out}", "--since", "2030-01-01"],
     "afc: export: --since 2030-01-01: in the future (now 2026-11-28T13:00:00Z)\n"),
    (["all", "--out", "{out}", "--since", "yesterday"],
     "afc: export: --since 'yesterday': use last, or a UTC time such as 2026-11-28T12:00:00Z\n"),
    (["raw.responses", "--out", "{out}"],
     "afc: export: raw.responses: raw bodies are exported as JSON Lines only (--format jsonl)\n"),
    (["core.teams", "--out", "{out}", "--league", "39"], "afc: export: core.teams: has no league_id/season or "
     "fixture_id column to narrow by; export it without --league/--season\n"),
    (["all", "--out", "{file}/sub"], "afc: export: --out {file}/sub: cannot write there (Not a directory)\n"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(sqlite_env, tmp_path, args, message):
    out, file = tmp_path / "out", tmp_path / "a-file"
    file.write_text("")
    result = invoke(sqlite_env, *[a.format(out=out, file=file) for a in args])
    assert result.exit_code == 2
    assert result.stderr.startswith(message.format(file=file)) and result.stderr.count("\n") == 1
    assert result.stdout == "" and written(out) == []


def test_a_missing_pyarrow_is_named_in_one_line(sqlite_env, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # `import pyarrow` now raises ImportError
    result = invoke(sqlite_env, "all", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert result.stderr == ("afc: export: Parquet needs pyarrow, which is not installed: pip install 'pyarrow>=19' "
                             "into afc's environment (from a checkout: pip install '/path/to/afc[export]')\n")
    assert invoke(sqlite_env, "all", "--format", "jsonl", "--out", str(tmp_path / "out")).exit_code == 0


def test_a_watermark_in_the_future_fails_at_run_time_and_writes_nothing(env, db_url, tmp_path):
    out = (tmp_path / "out").absolute()
    db = connect(db_url)
    future = AT.replace(year=2030)
    store(db, "core.fixtures", Destination(str(out), "parquet", ""), future, exported_at=future, rows=1, file="x")
    db.close()
    result = invoke(env, "mart.daily_fixtures", "core.fixtures", "--out", str(out), "--since", "last")
    assert result.exit_code == 1
    assert result.stderr == (f"afc: export: core.fixtures: the watermark for {out} (parquet) is 2030-11-28T12:00:00Z, "
                             "in the future (has the clock gone back?); export without --since to start again\n")
    assert written(out) == []
    assert invoke(env, "core.fixtures", "--out", str(out)).exit_code == 0
    assert invoke(env, "core.fixtures", "--out", str(out), "--since", "last").exit_code == 0
