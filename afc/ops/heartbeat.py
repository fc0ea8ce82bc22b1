"""Heartbeats of long-running loops, read by `afc health` and the metrics.

The live loop calls `beat(db, "live", clock.now())` after every iteration (idle ones too, at
least once a minute), next to its systemd watchdog ping (`afc.ops.sdnotify`).
`afc health` reports the loop as stalled when its beat is older than the configured minutes while
fixtures are in play.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime

from afc.db import Database, as_datetime

BEAT = """
INSERT INTO ops.heartbeats AS h (name, beat_at, status, host, pid)
VALUES (%(name)s, %(now)s, %(status)s, %(host)s, %(pid)s)
ON CONFLICT (name) DO UPDATE SET beat_at = excluded.beat_at, status = excluded.status,
    host = excluded.host, pid = excluded.pid"""
LAST = "SELECT beat_at FROM ops.heartbeats WHERE name = %s"


def beat(db: Database, name: str, now: datetime, status: str = "ok") -> None:
    """Record that loop `name` is alive at `now` (its own short transaction)."""
    with db.transaction():
        db.execute(BEAT, {"name": name, "now": now, "status": status, "host": socket.gethostname(),
                          "pid": os.getpid()})


def last(db: Database, name: str) -> datetime | None:
    """When loop `name` last beat, or None if it never has."""
    row = db.fetchone(LAST, (name,))
    return as_datetime(row[0]) if row else None

