"""Output into a pipe its reader closed early (`afc coverage report | head -1`) ends quietly, as a coreutils program
does: killed by SIGPIPE (141 in a shell), nothing on stderr, and a collecting command's runs closed and its
responses whole in the database."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from afc.clock import SimClock
from afc.db import connect
from afc.sandbox import SandboxConfig, start_sandbox

AFC = [sys.executable, "-m", "afc"]
READERS = [["jobs", "list"], ["jobs", "list", "--json"], ["coverage", "report"], ["coverage", "report", "--json"],
           ["quota"], ["quota", "--json"], ["db", "status"], ["health"], ["backfill", "status"]]


def closed_pipe(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run afc with its stdout a pipe whose reader is gone before afc writes a byte."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(AFC + args, stdout=write, stderr=subprocess.PIPE, text=True, timeout=120, env=env)
    finally:
        os.close(write)
    return done


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'afc.db'}"
    environment = {**os.environ, "AFC_DATA_DIR": str(tmp_path / "data"), "AFC_DATABASE_URL": url}
    subprocess.run(AFC + ["db", "migrate"], env=environment, check=True, capture_output=True, timeout=60)
    return environment


def quiet(stderr: str) -> bool:
    return "Traceback" not in stderr and "Exception ignored" not in stderr and "BrokenPipe" not in stderr


@pytest.mark.parametrize("args", READERS, ids=" ".join)
def test_a_reading_command_dies_of_sigpipe_quietly(args: list[str], env: dict[str, str]) -> None:
    done = closed_pipe(args, env)
    assert done.returncode == -signal.SIGPIPE, done.stderr
    assert done.stderr == ""


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash reports a pipeline's statuses")
def test_a_shell_sees_141_as_from_coreutils(env: dict[str, str]) -> None:
    script = '"$PYTHON" -m afc jobs list | true; echo "${PIPESTATUS[0]}"'
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                          env={**env, "PYTHON": sys.executable})
    assert done.stdout == "141\n" and done.stderr == ""


def test_daily_into_a_closed_pipe_closes_its_runs_and_keeps_whole_responses(env: dict[str, str]) -> None:
    evening = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)
    with start_sandbox(SandboxConfig(seed=42, plan="pro"), clock=SimClock(evening, speed=0), port=0) as sandbox:
        env = {**env, "API_FOOTBALL_KEY": sandbox.key, "AFC_API_BASE_URL": sandbox.url,
               "AFC_CLOCK": sandbox.clock.spec()}
        done = closed_pipe(["daily", "--json"], env)
    assert done.returncode == -signal.SIGPIPE, done.stderr
    assert quiet(done.stderr), done.stderr
    db = connect(env["AFC_DATABASE_URL"])
    try:
        runs = db.fetchall("SELECT status, finished_at IS NOT NULL FROM ops.job_runs")
        assert runs and all(finished for _, finished in runs) and {s for s, _ in runs} <= {"ok", "failed"}, runs
        assert db.fetchone("SELECT count(*) FROM ops.job_runs WHERE status = 'ok'") != (0,)
        # every response archived is whole: its fixtures reached core in the same transaction
        assert db.fetchone("SELECT count(*) FROM raw.responses WHERE endpoint = 'fixtures'") != (0,)
        assert db.fetchone("SELECT count(*) FROM core.fixtures") != (0,)
    finally:
        db.close()
    again = closed_pipe(["coverage", "report"], env)  # records a run of its own, then writes
    assert again.returncode == -signal.SIGPIPE and again.stderr == ""


def in_shell(redirections: str, args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """afc run by bash with its streams redirected (`2>&-`, `>/dev/full`), stderr of bash itself captured."""
    script = f'exec 3>&2; "$PYTHON" -m afc {args} {redirections}'
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                          env={**env, "PYTHON": sys.executable})


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash closes a stream with 2>&-")
def test_a_closed_stderr_loses_only_the_diagnostics(env: dict[str, str]) -> None:
    """Python leaves a stream closed at start None: `afc quota 2>&-` was an AttributeError, exit 1."""
    done = in_shell("2>&-", "quota", env)
    assert done.returncode == 0 and done.stdout.startswith("account default,"), done.stdout
    missing = in_shell("2>&-", "quota --db sqlite:///does/not/exist.db", env)
    assert missing.returncode == 2 and missing.stdout == ""


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash closes a stream with >&-")
@pytest.mark.parametrize("args", [["quota"], ["quota", "--json"], ["jobs", "list"]], ids=" ".join)
def test_a_closed_stdout_is_output_that_cannot_be_written(args: list[str], env: dict[str, str]) -> None:
    done = in_shell(">&- 2>&3", " ".join(args), env)
    assert done.returncode == 1
    assert done.stderr == "afc: cannot write the output: Bad file descriptor\n"


@pytest.mark.parametrize(("args", "code"), [(["quota", "--db", "sqlite:///does/not/exist.db"], 2),
                                            (["jobs", "validate", "--jobs-dir", "/does/not/exist"], 2),
                                            (["jobs", "validate", "--bogus"], 2)])
def test_a_full_stderr_keeps_the_commands_exit_code(args: list[str], code: int, env: dict[str, str]) -> None:
    """The one line is lost (as a coreutils program's), not turned into exit 1 by the failed write."""
    with open("/dev/full", "w") as full:
        done = subprocess.run(AFC + args, stdout=subprocess.PIPE, stderr=full, text=True, timeout=60, env=env)
    assert done.returncode == code and done.stdout == ""


def test_a_broken_pipe_that_is_not_the_output_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A BrokenPipeError from anything but stdout or stderr (a socket closed by its peer) is reported, one line and
    exit 1, while the output is still there: not taken for the end of a pipeline (killed by SIGPIPE, silent)."""
    from typer.testing import CliRunner

    from afc.cli import app
    from afc.collect.ledger import Ledger

    def closed(*_: object) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    url, env = f"sqlite:///{tmp_path / 'afc.db'}", {"AFC_DATA_DIR": str(tmp_path), "AFC_LOG_FORMAT": "text"}
    assert CliRunner().invoke(app, ["db", "migrate", "--db", url], env=env).exit_code == 0
    monkeypatch.setattr(Ledger, "status", closed)
    result = CliRunner().invoke(app, ["quota", "--db", url], env=env)
    assert result.exit_code == 1, result.output
    assert [line for line in result.stderr.splitlines() if line.startswith("afc: ")] == [
        "afc: a connection closed while afc wrote to it (Broken pipe)"]
