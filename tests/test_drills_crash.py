"""Crash consistency of the live loop: kill -9 at random points, restart, and end where an
uninterrupted run ends — the sandbox's final truth — with no response half-written.

(The backfill's kill -9 drill is in tests/test_backfill_kill.py; the 20-trial long version of both
is `python -m tests.bench.drill_crash` (10 kills per drill and backend).)
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from afc.clock import SimClock
from afc.config.settings import load_settings
from afc.db import connect
from afc.sandbox import SandboxConfig, start_sandbox
from tests.conftest import scalar
from tests.live_support import DAY, assert_core_matches_truth, seed_schedule

AFC = str(Path(sys.executable).with_name("afc"))
LEAGUE = 135  # Serie A plays at 11:30 on DAY in the sandbox world
SPEED = 1500  # 15 simulated seconds between live calls = 10 ms of real time


def _env(sb, db_url: str, data_dir: Path, clock: SimClock) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AFC_", "NOTIFY_", "WATCHDOG_"))}
    return env | {"API_FOOTBALL_KEY": sb.key, "AFC_API_BASE_URL": sb.url, "AFC_DATABASE_URL": db_url,
                  "AFC_DATA_DIR": str(data_dir), "AFC_CLOCK": clock.spec(), "AFC_LOG_FORMAT": "text"}


def kill_and_restart(trials: int, db_url: str, tmp_path: Path, seed: int) -> None:
    """Run the loop over a match day, killing it with SIGKILL `trials` times at random moments."""
    rng = random.Random(seed)
    clock = SimClock(DAY + timedelta(hours=11, minutes=20), speed=0)
    with start_sandbox(SandboxConfig(seed=42, rate_limit=False), clock=clock) as sb:
        settings = load_settings({}, api_key=sb.key, api_base_url=sb.url, database_url=db_url, data_dir=tmp_path)
        seed_schedule(settings, clock)
        fixtures = sb.world.fixtures_between(DAY, DAY + timedelta(days=1), [LEAGUE])
        last = max(done for fx in fixtures if (done := sb.world.finished_at(fx.id)) is not None)
        end = last + timedelta(minutes=35)  # past the re-check of silent corrections
        clock.set_speed(SPEED)
        env = _env(sb, db_url, tmp_path, clock)
        command = [AFC, "live-loop", "--leagues", str(LEAGUE)]
        kills = sorted(rng.uniform(0.3, (end - clock.now()).total_seconds() / SPEED * 0.8) for _ in range(trials))
        started = time.monotonic()
        for at in kills:
            proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(max(0.05, at - (time.monotonic() - started)))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        while clock.now() < end and proc.poll() is None:
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        clock.set_speed(0)
        db = connect(db_url)
        try:
            day = type("Day", (), {"sb": sb, "fixtures": fixtures})
            assert_core_matches_truth(db, day, require_correction=False)  # type: ignore[arg-type]
            stored = scalar(db, "SELECT count(*) FROM raw.responses WHERE endpoint = 'fixtures'")
            logged = scalar(db, "SELECT coalesce(sum(calls), 0) FROM ops.job_runs WHERE job_id = 'live_loop'")
            assert stored - 1 <= logged  # every stored live response came with its run log (seed excluded)
            running = "SELECT count(*) FROM ops.job_runs WHERE job_id = 'live_loop' AND status = 'running'"
            assert scalar(db, running) == 0
        finally:
            db.close()


def test_the_live_loop_killed_at_random_points_ends_in_the_truth(db_url, tmp_path):
    kill_and_restart(int(os.environ.get("AFC_DRILL_KILLS", "3")), db_url, tmp_path, seed=7)
