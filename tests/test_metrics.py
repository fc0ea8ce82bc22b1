"""Prometheus textfiles: names, values from the database, atomic 0644 replacement."""

from __future__ import annotations

import os
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from afc.collect.breaker import DbBreaker
from afc.collect.ledger import Ledger
from afc.config.settings import Floors
from afc.ops import heartbeat
from afc.ops.metrics import METRICS, render, write_group, write_textfile

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
RUN = """
INSERT INTO ops.job_runs (job_id, command, status, started_at, finished_at, calls, rows_inserted, rows_updated,
                          quarantined, error)
VALUES (%s, 'bootstrap', %s, %s, %s, %s, %s, %s, %s, %s)"""


def add_run(db, job_id: str, status: str, finished: datetime, calls: int, inserted: int, updated: int) -> None:
    with db.transaction():
        db.execute(RUN, (job_id, status, finished - timedelta(seconds=42.5), finished, calls, inserted, updated, 1,
                         None if status == "ok" else "boom"))


def test_group_file_and_state_file(db, clock, tmp_path: Path):
    add_run(db, "bootstrap_countries", "ok", NOW - timedelta(days=1), 1, 160, 0)
    add_run(db, "bootstrap_countries", "failed", NOW, 2, 0, 3)
    DbBreaker(db, clock, threshold=1).record("teams", ok=False)
    heartbeat.beat(db, "live", NOW)
    ledger = Ledger(db, clock, account="main", daily_limit=7500, minute_limit=300, floors=Floors())
    paths = write_group(tmp_path / "metrics", db, "bootstrap", ["bootstrap_countries", "bootstrap_never_ran"],
                        ledger.status())
    assert [p.name for p in paths] == ["afc_job_bootstrap.prom", "afc_state.prom"]
    lbl = 'group="bootstrap",job="bootstrap_countries"'
    success = int((NOW - timedelta(days=1)).timestamp())
    assert paths[0].read_text() == "\n".join([
        "# HELP afc_job_last_run_timestamp_seconds " + METRICS["afc_job_last_run_timestamp_seconds"],
        "# TYPE afc_job_last_run_timestamp_seconds gauge",
        f"afc_job_last_run_timestamp_seconds{{{lbl}}} {int(NOW.timestamp())}",
        "# HELP afc_job_last_success_timestamp_seconds Unix time the job last finished successfully.",
        "# TYPE afc_job_last_success_timestamp_seconds gauge",
        f"afc_job_last_success_timestamp_seconds{{{lbl}}} {success}",
        "# HELP afc_job_last_duration_seconds Wall time of the job's last run.",
        "# TYPE afc_job_last_duration_seconds gauge",
        f"afc_job_last_duration_seconds{{{lbl}}} 42.5",
        "# HELP afc_job_last_success 1 if the job's last run succeeded, else 0.",
        "# TYPE afc_job_last_success gauge",
        f"afc_job_last_success{{{lbl}}} 0",
        "# HELP afc_job_last_calls API calls the job's last run made.",
        "# TYPE afc_job_last_calls gauge",
        f"afc_job_last_calls{{{lbl}}} 2",
        "# HELP afc_job_last_rows_written Rows the job's last run inserted or changed.",
        "# TYPE afc_job_last_rows_written gauge",
        f"afc_job_last_rows_written{{{lbl}}} 3",
        "# HELP afc_job_last_quarantined Items the job's last run quarantined.",
        "# TYPE afc_job_last_quarantined gauge",
        f"afc_job_last_quarantined{{{lbl}}} 1",
    ]) + "\n"
    state = paths[1].read_text()
    assert 'afc_quota_remaining_today{account="main"} 7500\n' in state
    assert 'afc_quota_daily_limit{account="main"} 7500\n' in state
    assert 'afc_breaker_open{endpoint="teams"} 1\n' in state
    assert f'afc_heartbeat_timestamp_seconds{{loop="live"}} {int(NOW.timestamp())}\n' in state
    assert "afc_live_last_tick_timestamp_seconds" not in state  # the loop has never ticked
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in (tmp_path / "metrics").iterdir()) == ["afc_job_bootstrap.prom", "afc_state.prom"]


def test_label_values_are_escaped_and_none_dropped():
    text = render([("afc_job_last_calls", {"job": 'a"b\\c\nd'}, 3),
                   ("afc_job_last_duration_seconds", {"job": "x"}, None)])
    assert text.splitlines()[-1] == 'afc_job_last_calls{job="a\\"b\\\\c\\nd"} 3'
    assert "afc_job_last_duration_seconds" not in text
    assert render([]) == ""


def test_replacement_is_atomic_readers_never_see_a_partial_file(tmp_path: Path):
    target = tmp_path / "afc_job_daily.prom"
    bodies = [("# HELP x y\n" + f'afc_job_last_calls{{job="j"}} {i}\n') * 2000 for i in range(2)]
    write_textfile(target, bodies[0])
    seen: set[str] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(target.read_text())

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(200):
        write_textfile(target, bodies[i % 2])
    stop.set()
    reader.join()
    assert seen <= set(bodies) and len(seen) >= 1
    assert [p.name for p in tmp_path.iterdir()] == ["afc_job_daily.prom"]  # no temp file left behind


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path, monkeypatch):
    target = tmp_path / "afc_state.prom"
    write_textfile(target, "old\n")
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    try:
        write_textfile(target, "new\n")
    except OSError as exc:
        assert exc.strerror == "No space left on device"
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["afc_state.prom"]
