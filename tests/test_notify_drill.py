"""Drill: `afc notify` killed with SIGKILL mid-delivery ten times; every event still arrives, in order per
fixture, and a repeat (allowed: delivery is at least once) carries the same key and body — both backends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from afc.db import connect
from tests.conftest import ROOT, scalar
from tests.notify_support import Receiver, add_events, credentials, jobs_dir

KILLS = 10


def test_sigkill_mid_delivery_loses_nothing(db_url: str, tmp_path: Path) -> None:
    db = connect(db_url)
    keys = add_events(db, 40, datetime.now(UTC), fixtures=8)  # on the wall clock: leases must expire
    with Receiver(delay=0.15).running() as receiver:
        jobs = jobs_dir(tmp_path, receiver.url, lease="2s", timeout=1, backoff="1s", poll_interval=0.05,
                        start_window="1d")
        env = os.environ | {"AFC_DATABASE_URL": db_url, "CREDENTIALS_DIRECTORY": str(credentials(tmp_path)),
                            "AFC_JOBS_DIR": str(jobs)}
        for kill in range(KILLS):
            receiver.started.clear()
            service = subprocess.Popen([sys.executable, "-m", "afc", "notify"], env=env, cwd=ROOT,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            assert receiver.started.wait(30), f"kill {kill}: the service never started a delivery"
            os.kill(service.pid, signal.SIGKILL)  # mid-delivery: the receiver is still answering
            assert service.wait(10) == -signal.SIGKILL
        delivered_before_the_end = len(set(receiver.keys))
        for _ in range(30):  # `--once` sends what is due: leases of the last kill and retries come due
            time.sleep(1)
            finish = subprocess.run([sys.executable, "-m", "afc", "notify", "--once"], env=env, cwd=ROOT,
                                    capture_output=True, text=True, timeout=120)
            assert finish.returncode == 0, finish.stderr
            if not scalar(db, "SELECT COUNT(*) FROM ops.notify_deliveries WHERE state <> 'delivered'"):
                break
    assert 0 < delivered_before_the_end < len(keys)
    assert set(receiver.keys) == set(keys), "every event arrives"
    by_key = defaultdict(list)
    for body in receiver.bodies:
        by_key[body["key"]].append(body)
    assert all(len({str(b) for b in bodies}) == 1 for bodies in by_key.values())  # a repeat is the same event
    assert sum(receiver.keys.values()) - len(keys) <= KILLS * 8  # repeats only of what was in flight at a kill
    firsts: dict[int, list[int]] = defaultdict(list)
    for body in receiver.bodies:
        if body["minute"] not in firsts[body["fixture"]["id"]]:
            firsts[body["fixture"]["id"]].append(body["minute"])
    assert all(minutes == sorted(minutes) for minutes in firsts.values()), "order per fixture holds"
    assert scalar(db, "SELECT COUNT(*) FROM ops.notify_deliveries WHERE state = 'delivered'") == len(keys)
    db.close()
