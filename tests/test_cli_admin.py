"""The operations commands end to end: exit codes and messages on both backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from afc.cli import app
from afc.collect.breaker import DbBreaker
from afc.db import connect
from tests.fakeapi import KEY, REFERENCE_ROUTES, FakeApi
from tests.test_lock import held_elsewhere

runner = CliRunner()


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {"AFC_DATABASE_URL": db_url, "AFC_DATA_DIR": str(tmp_path / "data"), "API_FOOTBALL_KEY": KEY,
            "AFC_CLOCK": "2026-11-28T12:00:00Z@0", "AFC_JOBS_DIR": "", "AFC_METRICS_DIR": ""}


def invoke(env: dict[str, str], *args: str):
    return runner.invoke(app, list(args), env=env)


def test_health_ok_then_failing_with_reasons(env, db_url, clock):
    result = invoke(env, "health")
    assert result.exit_code == 0
    assert result.stdout.startswith("ok: 7 checks passed; live skipped (the live loop has never run here)")
    db = connect(db_url)
    DbBreaker(db, clock, threshold=1).record("standings", ok=False)
    db.close()
    result = invoke(env, "health")
    assert result.exit_code == 1
    assert result.stdout == "breaker_open: circuit open for /standings after 1 consecutive failures\n"
    data = json.loads(invoke(env, "health", "--json").stdout)
    assert data["ok"] is False
    assert data["problems"] == [{"check": "breaker_open", "key": "breaker:standings",
                                 "reason": "circuit open for /standings after 1 consecutive failures"}]


def test_health_reports_pending_migrations_without_applying_them(tmp_path: Path):
    (tmp_path / "empty.db").touch()  # a database nothing was applied to (a missing one is exit 2: test_db_missing)
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = runner.invoke(app, ["health", "--json", "--db", url], env={"AFC_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert problems[0]["check"] == "migrations_pending"
    assert problems[0]["reason"].startswith("migrations pending: 0001_foundation, 0002_match_data")


def test_prune_says_only_what_applies_to_the_backend(env, db_url):
    """SQLite has no partitions to drop: its line names none (it said "would drop 0 monthly partitions"); the dry
    run's count is what the real run then deletes row by row, not also the rows of the partitions it drops whole."""
    from tests.test_retention import seed

    db = connect(db_url)
    seed(db)
    db.close()
    cutoff = "raw before 2026-08-30 12:00 UTC: "
    if db_url.startswith("sqlite"):
        expected = ["would delete 2 responses", "deleted 2 responses", "deleted 0 responses"]
    else:
        expected = ["would drop 1 monthly partition (responses_2026_07) and delete 1 response",
                    "dropped 1 monthly partition (responses_2026_07) and deleted 1 response",
                    "dropped 0 monthly partitions and deleted 0 responses"]
    runs = [invoke(env, "prune", "--dry-run"), invoke(env, "prune"), invoke(env, "prune")]
    assert [(r.exit_code, r.stdout) for r in runs] == [(0, f"{cutoff}{line}\n") for line in expected]


def test_prune_bad_age(env):
    result = invoke(env, "prune", "--raw-older-than", "2w")
    assert result.exit_code == 2
    assert result.stderr == "afc: --raw-older-than: must be a duration such as 90d, got '2w'\n"


@pytest.mark.parametrize("args, message", [
    (["prune", "--raw-older-than", "99999999999d"],
     "--raw-older-than: must be between 1d and 36500d, got '99999999999d'"),
    (["prune", "--raw-older-than", "0d"], "--raw-older-than: must be between 1d and 36500d, got '0d'"),
    (["backup", "--keep", "0"], "--keep: must be between 1 and 1000, got 0"),
    (["live-loop", "--interval", "99999999999999"], "--interval: must be between 1 and 3600, got 99999999999999"),
    (["live-loop", "--leagues", "39,99999999999"], "--leagues: must be a league id such as 39 (1 to 2147483647), "
                                                   "got '99999999999'"),
    (["mcp", "stdio", "--timeout", "nan"], "--timeout: must be between 0.1 and 300.0, got nan"),
    (["mcp", "stdio", "--timeout", "inf"], "--timeout: must be between 0.1 and 300.0, got inf"),
    (["coverage", "report", "--league", "99999999999"], "--league: must be between 1 and 2147483647, got 99999999999"),
    (["coverage", "gaps", "--season", "20245"], "--season: must be between 1900 and 2199, got 20245"),
    (["rebuild", "--batch-size", "0"], "--batch-size: must be between 1 and 10000, got 0"),
    (["backfill", "--league", "99999999999", "--season", "2024", "--plan"],
     "--league: must be a league id such as 39 (1 to 2147483647), got '99999999999'"),
    (["sandbox", "--port", "70000"], "--port: must be between 0 and 65535, got 70000"),
    (["sandbox", "--clock-speed", "nan"], "--clock-speed must be >= 0 and at most 1000000, got nan"),
])
def test_numbers_and_durations_are_range_checked_in_one_line(env, args, message):
    result = invoke(env, *args)
    assert (result.exit_code, result.stderr) == (2, f"afc: {message}\n")
    assert "Traceback" not in result.output


def test_prune_records_a_maintenance_run(env, db_url):
    result = invoke(env, "prune", "--raw-older-than", "30d", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"cutoff": "2026-10-29T12:00:00+00:00", "partitions_dropped": [],
                                         "rows_deleted": 0, "dry_run": False}
    db = connect(db_url)
    assert db.fetchall("SELECT job_id, command, status FROM ops.job_runs") == [("maintenance_prune", "prune", "ok")]
    db.close()


def test_backup_then_restore(env, db_url, tmp_path: Path):
    db = connect(db_url)
    with db.transaction():
        db.execute("INSERT INTO core.countries (name, updated_at) VALUES ('Brazil', '2026-11-28T12:00:00+00:00')")
    result = invoke(env, "backup", "--dir", str(tmp_path / "b"), "--json")
    assert result.exit_code == 0, result.stderr
    path = Path(json.loads(result.stdout)["path"])
    assert path.parent == tmp_path / "b" and path.name.startswith("afc-20261128T120000Z")
    with db.transaction():
        db.execute("DELETE FROM core.countries")
    result = invoke(env, "restore", str(path))
    assert result.exit_code == 2
    assert result.stderr == f"afc: restore replaces everything in the database with {path}; add --yes to go ahead\n"
    result = invoke(env, "restore", str(path), "--yes")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(f"restored {path} into ")
    db.close()
    db = connect(db_url)
    assert db.fetchall("SELECT name FROM core.countries") == [("Brazil",)]
    # the backup's own run was mid-way in the snapshot: restored as interrupted, not left running
    assert db.fetchall("SELECT job_id, status FROM ops.job_runs") == [("maintenance_backup", "interrupted")]
    db.close()


def test_restore_waits_for_no_one(env, db_url, tmp_path: Path):
    with held_elsewhere(tmp_path / "data", db_url, "daily"):
        result = invoke(env, "restore", str(tmp_path / "x.db"), "--yes")
    assert result.exit_code == 75
    assert result.stderr.startswith("afc: daily: another afc run (pid ")


def test_a_second_bootstrap_process_exits_75(env, db_url, tmp_path: Path):
    api = FakeApi(REFERENCE_ROUTES)
    with api.serve() as base, held_elsewhere(tmp_path / "data", db_url, "bootstrap") as holder:
        proc = subprocess.run([sys.executable, "-m", "afc", "bootstrap", "countries"], capture_output=True, text=True,
                              env=os.environ | env | {"AFC_API_BASE_URL": base})
    assert proc.returncode == 75
    assert proc.stderr.endswith(f"afc: bootstrap: another afc run (pid {holder.pid}) holds "
                                f"{tmp_path}/data/locks/bootstrap.lock; nothing done\n")
    assert api.requests == []
    with api.serve() as base:
        result = invoke(env | {"AFC_API_BASE_URL": base}, "bootstrap", "countries", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["jobs"][0]["status"] == "ok"


def test_logs_redact_the_key_from_systemds_credentials_directory(tmp_path: Path):
    import logging

    from afc.cli.logs import Redact

    (tmp_path / "creds").mkdir()
    (tmp_path / "creds" / "api_key").write_text("cred-" + KEY + "\n")
    result = runner.invoke(app, ["systemd", "render", "--check", "--root", str(tmp_path)],
                           env={"CREDENTIALS_DIRECTORY": str(tmp_path / "creds"), "API_FOOTBALL_KEY": ""})
    assert result.exit_code == 1  # nothing rendered there yet
    redact = logging.getLogger().handlers[0].filters[0]
    assert isinstance(redact, Redact)
    record = logging.LogRecord("afc", logging.WARNING, __file__, 1, "answer for key %s", ("cred-" + KEY,), None)
    assert redact.filter(record) and record.getMessage() == "answer for key ***"


def test_usage_errors_outside_a_terminal_are_whole_lines(env):
    """Cron mail and journald get the error on one line, not in a box wrapped at 80 columns."""
    result = invoke(env | {"COLUMNS": "80"}, "backup", "--keep", "abc")
    assert result.exit_code == 2
    assert ("Error: Invalid value for '--keep': Input should be a valid integer, unable to parse string as an "
            "integer") in result.stderr.splitlines()
    assert "╭" not in result.stderr and "│" not in result.stderr


@pytest.mark.parametrize("args", [["db", "status", "--help"], ["db", "--help"], ["coverage", "report", "--help"]])
def test_help_outside_a_terminal_is_whole(args):
    """`afc db status --help | cat` at any width: plain text, no box cutting option names to '-…'."""
    result = runner.invoke(app, args, env={"COLUMNS": "20"}, prog_name="afc")
    assert result.exit_code == 0
    assert "╭" not in result.stdout and "…" not in result.stdout
    assert "Usage: afc " + " ".join(args[:-1]) in result.stdout


def test_a_non_utf8_terminal_gets_escapes_not_a_traceback(tmp_path):
    """LANG=en_US.ISO-8859-1 or PYTHONIOENCODING=ascii: a path with 'é' is shown escaped, exit 0."""
    data = tmp_path / "données"
    data.mkdir()
    (data / "afc.db").touch()
    env = os.environ | {"PYTHONIOENCODING": "ascii", "AFC_DATA_DIR": str(data)}
    result = subprocess.run([sys.executable, "-m", "afc", "db", "status", "--db", f"sqlite:///{data}/afc.db"],
                            env=env, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr
    assert b"donn\\xe9es" in result.stdout


def test_under_journald_each_line_carries_its_priority(tmp_path, monkeypatch):
    """journald stored every line at priority 6: `journalctl -p warning` showed none of afc's errors."""
    import io
    import logging

    from afc.cli import logs

    monkeypatch.setattr(logs, "under_journald", lambda: True)
    stream = io.StringIO()
    monkeypatch.setattr(logs.sys, "stderr", stream)
    logs.setup(logging.DEBUG)
    try:
        log = logging.getLogger("afc.test")
        log.warning("quota low")
        log.info("daily_odds: ok")
        log.error("broken")
    finally:
        logging.basicConfig(handlers=[logging.StreamHandler()], force=True)
    lines = stream.getvalue().splitlines()
    assert [line[:3] for line in lines] == ["<4>", "<6>", "<3>"]
    assert [json.loads(line[3:])["msg"] for line in lines] == ["quota low", "daily_odds: ok", "broken"]


def test_the_error_line_under_journald_is_an_error(tmp_path):
    """The one line afc writes for a failed command: a JSON record at priority 3 in the journal ('afc: …' was the one
    line there that was not JSON, at priority 6), plain elsewhere."""
    err = tmp_path / "stderr"
    with err.open("wb") as out:
        st = os.fstat(out.fileno())
        env = os.environ | {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}", "AFC_PLAN": "platinum",
                            "AFC_DATA_DIR": str(tmp_path)}
        code = subprocess.run([sys.executable, "-m", "afc", "quota"], env=env, stderr=out, stdout=subprocess.DEVNULL,
                              timeout=60).returncode
    assert code == 2
    text = err.read_text()
    assert text.startswith("<3>{") and len(text.splitlines()) == 1
    record = json.loads(text[3:])
    assert (record["level"], record["logger"]) == ("error", "afc") and "platinum" in record["msg"]


def test_health_json_when_the_database_is_down_is_still_json(tmp_path: Path):
    """A monitor parsing `afc health --json` got an empty stdout (and a JSON parse error) when it mattered most."""
    url = "postgresql://afc:hunter2pw@127.0.0.1:1/afc"  # nothing listens on port 1
    result = runner.invoke(app, ["health", "--json", "--db", url], env={"AFC_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["checks"] == []
    assert [p["check"] for p in data["problems"]] == ["database"]
    assert "cannot connect" in data["problems"][0]["reason"] and "hunter2pw" not in result.stdout
    plain = runner.invoke(app, ["health", "--db", url], env={"AFC_DATA_DIR": str(tmp_path)})
    assert plain.exit_code == 1 and plain.stderr.startswith("afc: postgresql: cannot connect")


@pytest.mark.parametrize("args", [["jobs", "list"], ["jobs", "list", "--json"], ["db", "--help"]])
def test_output_to_a_full_disk_is_one_line_and_exit_1(args, tmp_path):
    """`afc jobs list > file` on a full disk (here /dev/full) ended in an OSError traceback from Rich or at exit."""
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "afc", *args], stdout=full, capture_output=False,
                                stderr=subprocess.PIPE, env=os.environ | {"AFC_DATA_DIR": str(tmp_path)}, timeout=60)
    assert result.returncode == 1
    assert result.stderr.decode() == "afc: cannot write the output: No space left on device\n"
