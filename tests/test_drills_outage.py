"""Database outage mid-run: the run fails cleanly with one line, nothing partial is committed.

PostgreSQL only: the drill terminates the collector's own backend while it is storing responses.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import psycopg

from afc.clock import SimClock
from afc.db import connect
from afc.sandbox import SandboxConfig, start_sandbox
from tests.conftest import ROOT, pg_scalar, scalar


def _env(pg_url: str, sb, clock: SimClock) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AFC_", "API_FOOTBALL"))}
    return env | {"AFC_DATABASE_URL": pg_url, "API_FOOTBALL_KEY": sb.key, "AFC_API_BASE_URL": sb.url,
                  "AFC_CLOCK": clock.spec(), "AFC_DATA_DIR": str(ROOT / ".pytest-data")}


def test_killing_the_database_connection_mid_run_fails_cleanly(pg_url):
    clock = SimClock(datetime(2026, 11, 28, 12, tzinfo=UTC), speed=0)
    with start_sandbox(SandboxConfig(slow_seconds=(0.3, 0.3)), clock=clock) as sb:
        sb.set_faults({"slow": 1.0})  # every answer takes 0.3 s: time to pull the plug mid-run
        child = subprocess.Popen([sys.executable, "-m", "afc", "bootstrap", "all"], env=_env(pg_url, sb, clock),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        db = connect(pg_url)
        deadline = time.monotonic() + 30
        while scalar(db, "SELECT count(*) FROM raw.responses") < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        with psycopg.connect(pg_url, autocommit=True) as admin:
            killed = pg_scalar(admin, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                               "WHERE application_name = %s AND datname = current_database()",
                               (f"afc[{child.pid}]",))
        out, err = child.communicate(timeout=60)
    assert killed >= 1
    assert child.returncode == 1, err
    lines = [line for line in err.splitlines() if line.startswith("afc:")]
    assert len(lines) == 1 and "postgresql:" in lines[0] and "Traceback" not in err
    # Every committed response came with its run log: nothing half-written.
    stored = scalar(db, "SELECT count(*) FROM raw.responses")
    logged = scalar(db, "SELECT coalesce(sum(calls), 0) FROM ops.job_runs")
    assert stored >= 3 and logged == stored
    orphan = scalar(db, "SELECT status FROM ops.job_runs ORDER BY id DESC LIMIT 1")
    assert orphan == "running"  # the database was gone: nobody could close it …
    from afc.collect.runs import close_orphans

    assert close_orphans(db, clock.now()) >= 1  # … until the next run on this host notices
    assert scalar(db, "SELECT count(*) FROM ops.job_runs WHERE status = 'running'") == 0
    db.close()
