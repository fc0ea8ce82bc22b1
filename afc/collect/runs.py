"""Job runs: one row per command or job execution, updated with every response it stores.

The one owner of `ops.job_runs` SQL: other modules call these functions (the MCP tools run the
query constants below through their read-only runner).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from afc.db import Database
from afc.db.upsert import Counts

START = """
INSERT INTO ops.job_runs (job_id, command, status, started_at, host, pid)
VALUES (%(job_id)s, %(command)s, 'running', %(now)s, %(host)s, %(pid)s) RETURNING id"""
ADD = """
UPDATE ops.job_runs SET calls = calls + %(calls)s, rows_inserted = rows_inserted + %(inserted)s,
    rows_updated = rows_updated + %(updated)s, rows_unchanged = rows_unchanged + %(unchanged)s,
    quarantined = quarantined + %(quarantined)s
WHERE id = %(id)s"""
FINISH = """
UPDATE ops.job_runs SET status = %(status)s, finished_at = %(now)s, error = %(error)s WHERE id = %(id)s"""
TOTALS = """
SELECT calls, rows_inserted, rows_updated, rows_unchanged, quarantined FROM ops.job_runs WHERE id = %(id)s"""
RUNNING_HERE = "SELECT id, pid FROM ops.job_runs WHERE status = 'running' AND host = %s"
ORPHANED = """
UPDATE ops.job_runs SET status = 'interrupted', finished_at = %(now)s,
    error = 'the process ended without closing its run (killed, or the database went away)'
WHERE id = %(id)s AND status = 'running'"""
RESTORED = """
UPDATE ops.job_runs SET status = 'interrupted', finished_at = %(now)s, error = 'restored from a backup taken mid-run'
WHERE status = 'running'"""
SUCCEEDED = "SELECT 1 FROM ops.job_runs WHERE job_id = %s AND status = 'ok' LIMIT 1"
LATEST = """
SELECT status, started_at, finished_at, calls, rows_inserted + rows_updated, quarantined
FROM ops.job_runs WHERE job_id = %s ORDER BY id DESC LIMIT 1"""
LAST_OK_AT = """
SELECT finished_at FROM ops.job_runs WHERE job_id = %s AND status = 'ok' ORDER BY id DESC LIMIT 1"""
LAST_PER_JOB = """
SELECT job_id, MAX(CASE WHEN status IN ('ok', 'quota') THEN finished_at END), MAX(started_at)
FROM ops.job_runs GROUP BY job_id"""
# Read by the MCP tools through their read-only runner (named parameters, rows as dicts).
LAST_RUN_PER_JOB = """
SELECT job_id, id AS run_id, command, status, started_at, finished_at, calls, rows_inserted, rows_updated, error
FROM ops.job_runs WHERE id IN (SELECT max(id) FROM ops.job_runs GROUP BY job_id)"""
RUNS_SINCE = """
SELECT job_id, count(*) AS runs, sum(calls) AS calls FROM ops.job_runs
WHERE started_at >= %(since)s GROUP BY job_id"""
RECENT = """
SELECT id, job_id, command, status, started_at, finished_at, calls, rows_inserted, rows_updated,
       rows_unchanged, quarantined, error, host
FROM ops.job_runs
WHERE (%(failed)s = 0 OR status NOT IN ('ok', 'running'))
ORDER BY id DESC LIMIT %(limit)s"""
FAILED_SINCE = """
SELECT id AS run_id, job_id, command, status, started_at, finished_at, calls, quarantined, error, host
FROM ops.job_runs
WHERE status NOT IN ('ok', 'running') AND started_at >= %(since)s
ORDER BY id DESC"""


@dataclass(frozen=True)
class RunTotals:
    """What one run did so far."""

    calls: int
    inserted: int
    updated: int
    unchanged: int
    quarantined: int


def start(db: Database, job_id: str, command: str, now: datetime) -> int:
    """Record that a run started (closing this host's runs whose process is gone); returns its id."""
    close_orphans(db, now)
    with db.transaction():
        row = db.fetchone(START, {"job_id": job_id, "command": command, "now": now,
                                  "host": socket.gethostname(), "pid": os.getpid()})
    assert row is not None  # INSERT … RETURNING always returns the row
    return int(row[0])


def close_orphans(db: Database, now: datetime) -> int:
    """Mark 'running' runs of this host whose process no longer exists as interrupted."""
    orphans = [run_id for run_id, pid in db.fetchall(RUNNING_HERE, (socket.gethostname(),))
               if pid != os.getpid() and not _alive(pid)]
    if orphans:
        with db.transaction():
            for run_id in orphans:
                db.execute(ORPHANED, {"id": run_id, "now": now})
    return len(orphans)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def add(db: Database, run_id: int, counts: Counts, *, calls: int = 1, quarantined: int = 0) -> None:
    """Add one response's effect to the run (called inside the response's transaction)."""
    db.send(ADD, {"id": run_id, "calls": calls, "inserted": counts.inserted,
                     "updated": counts.updated + counts.deleted, "unchanged": counts.unchanged,
                     "quarantined": quarantined})


# A run stopped by SIGINT or SIGTERM: closed as such, not 'ok' (its finally clauses used to record a success).
INTERRUPTED = "interrupted by a signal (SIGINT or SIGTERM) before its work was done"


def finish(db: Database, run_id: int, status: str, now: datetime, error: str | None = None) -> None:
    """Close the run: ok, failed, quota (stopped at the floor) or interrupted."""
    with db.transaction():
        db.execute(FINISH, {"id": run_id, "status": status, "now": now, "error": error})


def totals(db: Database, run_id: int) -> RunTotals:
    """The run's counters."""
    row = db.fetchone(TOTALS, {"id": run_id}) or (0, 0, 0, 0, 0)
    return RunTotals(*row)


def mark_restored(db: Database, now: datetime) -> int:
    """Close the runs a restored backup shows as running (their processes belong to the past)."""
    return db.execute(RESTORED, {"now": now})


def has_succeeded(db: Database, job_id: str) -> bool:
    """Whether the job ever ended ok."""
    return db.fetchone(SUCCEEDED, (job_id,)) is not None


def latest(db: Database, job_id: str) -> tuple[Any, ...] | None:
    """The job's last run: status, started, finished, calls, rows written, quarantined."""
    return db.fetchone(LATEST, (job_id,))


def last_ok_at(db: Database, job_id: str) -> Any:
    """When the job last ended ok (as the backend returns it), or None."""
    row = db.fetchone(LAST_OK_AT, (job_id,))
    return row[0] if row else None


def last_per_job(db: Database) -> list[tuple[Any, ...]]:
    """Per job: when it last finished ok (or at the quota floor) and when it last started."""
    return db.fetchall(LAST_PER_JOB)
