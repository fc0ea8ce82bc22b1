"""Heartbeats of long-running loops, and systemd's notify protocol without a dependency.

The live loop calls, once started, `sd_notify("READY=1")`; then after every iteration (idle ones
too, at least once a minute) `beat(db, "live", clock.now())` and `sd_notify("WATCHDOG=1")`.
`afc health` reports the loop as stalled when its beat is older than the configured minutes while
fixtures are in play.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
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


def sd_notify(state: str, env: Mapping[str, str] | None = None) -> bool:
    """Send `state` (e.g. READY=1, WATCHDOG=1) to systemd; False when not run by systemd."""
    address = (os.environ if env is None else env).get("NOTIFY_SOCKET")
    if not address:
        return False
    if address[0] == "@":
        address = "\0" + address[1:]  # abstract namespace
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.connect(address)
        sock.sendall(state.encode())
    return True
