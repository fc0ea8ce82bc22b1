"""kill -9 anywhere: `afc backfill` runs as a child process against the sandbox served from this
process; it is killed after a random number of stored responses, resumed with `--resume`, and the
final core state must equal an uninterrupted run's, with no finished call made twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from afc.clock import SimClock
from afc.db import connect
from tests.test_backfill import (  # noqa: F401  (fixtures are used by name)
    NOW,
    SMALL,
    core_state,
    fresh_url,
    repeated_calls,
    run_backfill,
    sandbox,
    shared,
    small_reference,
)

ROOT = Path(__file__).resolve().parents[1]
KILLS = int(os.environ.get("AFC_DRILL_KILLS", "3"))  # the long drill (tests/bench/drill_crash.py) raises it
_FULL: dict[str, dict[str, str]] = {}


def child_env(sb: Any, url: str, tmp: Path) -> dict[str, str]:
    """The environment of an afc child process pointed at the sandbox, on the sandbox's frozen time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AFC_", "API_FOOTBALL"))}
    return env | {"API_FOOTBALL_KEY": sb.key, "AFC_API_BASE_URL": sb.url, "AFC_DATABASE_URL": url,
                  "AFC_DATA_DIR": str(tmp), "AFC_CLOCK": "2026-11-28T12:00:00Z@0", "AFC_LOG_FORMAT": "text"}


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """`python -m afc backfill ARGS` in the background, its output in `log`."""
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "afc", "backfill", *args], env=env, cwd=ROOT,
                                stdout=out, stderr=out, stdin=subprocess.DEVNULL)


def kill_after(url: str, proc: subprocess.Popen, responses: int, rng: random.Random) -> bool:
    """SIGKILL the child once raw holds `responses` rows (plus a random few ms); False if it ended first."""
    db = connect(url)  # one connection for the polling: connecting every few ms would slow the child
    try:
        deadline = time.monotonic() + 90
        while proc.poll() is None and time.monotonic() < deadline:
            row = db.fetchone("SELECT count(*) FROM raw.responses")
            if row and int(row[0]) >= responses:
                time.sleep(rng.uniform(0, 0.03))  # land anywhere: in a call, a transaction, or between tasks
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
                return proc.returncode == -signal.SIGKILL
            time.sleep(0.005)
    finally:
        db.close()
    proc.wait(timeout=10)
    return False


def resume(env: dict[str, str], log: Path) -> subprocess.CompletedProcess:
    """`afc backfill --resume` to the end."""
    with log.open("ab") as out:
        return subprocess.run([sys.executable, "-m", "afc", "backfill", "--resume"], env=env, cwd=ROOT,
                              stdout=out, stderr=out, stdin=subprocess.DEVNULL, timeout=180)


def test_kill_9_at_random_points_then_resume(db_url: str, fresh_url: Callable[[], str], sandbox: Any,  # noqa: F811
                                             tmp_path: Path) -> None:
    reference = small_reference(sandbox, fresh_url, tmp_path)
    sandbox.reset_counters()
    env, log, rng = child_env(sandbox, db_url, tmp_path), tmp_path / "afc.log", random.Random(db_url[:6])
    killed = 0
    for target in sorted(rng.sample(range(1, 15), min(KILLS, 14))):
        proc = spawn(["-l", SMALL[0], "-s", SMALL[1], "--what", SMALL[2], "--yes"], env, log)
        killed += kill_after(db_url, proc, target, rng)
    final = resume(env, log)
    assert final.returncode == 0, log.read_text()[-2000:]
    assert killed >= min(KILLS, 14) - 1
    assert core_state(db_url) == reference
    assert repeated_calls(db_url) == []
    assert 16 <= sandbox.total_calls <= 16 + killed  # at most the call in flight at each kill is made again


def test_kill_9_during_a_full_season_then_resume(db_url: str, fresh_url: Callable[[], str], sandbox: Any,  # noqa: F811
                                                 tmp_path: Path) -> None:
    backend = db_url.split(":", 1)[0]
    if backend not in _FULL:
        reference_url = fresh_url()
        run_backfill(sandbox, reference_url, SimClock(NOW, speed=0), tmp_path, "39", "2025")
        _FULL[backend] = core_state(reference_url)
    sandbox.reset_counters()
    sandbox.set_quota_used(0)
    env, log, rng = child_env(sandbox, db_url, tmp_path), tmp_path / "afc.log", random.Random(3)
    proc = spawn(["-l", "39", "-s", "2025", "--yes"], env, log)
    assert kill_after(db_url, proc, rng.randint(20, 45), rng), log.read_text()[-2000:]
    final = resume(env, log)
    assert final.returncode == 0, log.read_text()[-2000:]
    assert "backfill ok" in log.read_text()
    assert core_state(db_url) == _FULL[backend]
    assert repeated_calls(db_url) == []
    assert 55 <= sandbox.total_calls <= 56


def signal_after(url: str, proc: subprocess.Popen, responses: int, signum: int) -> None:
    """Send `signum` to the child once raw holds `responses` rows; wait for it to end."""
    db = connect(url)
    try:
        deadline = time.monotonic() + 90
        while proc.poll() is None and time.monotonic() < deadline:
            row = db.fetchone("SELECT count(*) FROM raw.responses")
            if row and int(row[0]) >= responses:
                os.kill(proc.pid, signum)
                break
            time.sleep(0.005)
    finally:
        db.close()
    proc.wait(timeout=30)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_closes_the_run_as_interrupted(db_url: str, fresh_url: Callable[[], str],  # noqa: F811
                                                     sandbox: Any, tmp_path: Path, signum: int) -> None:  # noqa: F811
    """`systemctl stop` (SIGTERM) or Ctrl-C mid-backfill: one line, the run closed 'interrupted' (SIGINT closed it
    'ok', so metrics and health called it a success; SIGTERM left it 'running' until a later run found the pid
    gone), the process ends by the signal (143 in a shell, a clean stop for systemd), and --resume finishes."""
    from afc.collect.runs import INTERRUPTED

    reference = small_reference(sandbox, fresh_url, tmp_path)
    sandbox.reset_counters()
    env, log = child_env(sandbox, db_url, tmp_path), tmp_path / "afc.log"
    proc = spawn(["-l", SMALL[0], "-s", SMALL[1], "--what", SMALL[2], "--yes"], env, log)
    signal_after(db_url, proc, 4, signum)
    text = log.read_text()
    assert proc.returncode == (-signal.SIGTERM if signum == signal.SIGTERM else 130), text[-2000:]
    assert "Traceback" not in text
    assert text.splitlines()[-1] == ("afc: terminated (SIGTERM)" if signum == signal.SIGTERM else "afc: interrupted")
    db = connect(db_url)
    try:
        assert db.fetchall("SELECT status, error FROM ops.job_runs WHERE job_id = 'backfill'") == [
            ("interrupted", INTERRUPTED)]
    finally:
        db.close()
    assert resume(env, log).returncode == 0, log.read_text()[-2000:]
    assert core_state(db_url) == reference
    assert repeated_calls(db_url) == []
