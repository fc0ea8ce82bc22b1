"""Heartbeats of long-running loops, read by `afc health` and the metrics.

The live loop calls `beat(db, "live", clock.now(), state)` after every iteration (idle and failing
ones too, at least once a minute), next to its systemd watchdog ping (`afc.ops.sdnotify`), and
`ticked(db, …)` after every tick that stored the API's answer. A beat says the process is alive; only
a tick says matches are followed. `afc health` and the metrics judge the loop by both while fixtures
are in play (`in_play`) in the leagues the loop follows (`follows`, recorded when it starts: `--leagues`
may differ from the jobs files health reads), and not at all while none are.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from afc.config.live import parse_leagues
from afc.db import Database, among, as_datetime
from afc.errors import ConfigError
from afc.marts.live import SETTLE_AFTER

BEAT = """
INSERT INTO ops.heartbeats AS h (name, beat_at, status, host, pid)
VALUES (%(name)s, %(now)s, %(status)s, %(host)s, %(pid)s)
ON CONFLICT (name) DO UPDATE SET beat_at = excluded.beat_at, status = excluded.status,
    host = excluded.host, pid = excluded.pid"""
LAST = "SELECT beat_at, status FROM ops.heartbeats WHERE name = %s"
LIVE, TICK, LEAGUES = "live", "live_tick", "live_leagues"
IN_PLAY = """
SELECT COUNT(*), MIN(kickoff_at) FROM core.fixtures
WHERE ((status_group = 'live' AND kickoff_at > %s)
    OR (status_group = 'scheduled' AND kickoff_at <= %s AND kickoff_at > %s))"""
_EVERY = re.compile(r"every (\d+) s")


def beat(db: Database, name: str, now: datetime, status: str = "ok") -> None:
    """Record that loop `name` is alive at `now` (its own short transaction)."""
    with db.transaction():
        db.execute(BEAT, {"name": name, "now": now, "status": status, "host": socket.gethostname(),
                          "pid": os.getpid()})


def last(db: Database, name: str) -> datetime | None:
    """When loop `name` last beat, or None if it never has."""
    row = db.fetchone(LAST, (name,))
    return as_datetime(row[0]) if row else None


def state(db: Database, name: str) -> str | None:
    """The state loop `name` reported with its last beat (polling, idle, quota, api-error, …)."""
    row = db.fetchone(LAST, (name,))
    return str(row[1]) if row else None


def ticked(db: Database, now: datetime, interval: int) -> None:
    """The live loop stored a tick at `now` and polls every `interval` seconds (the quota may stretch it)."""
    beat(db, TICK, now, f"every {interval} s")


def follows(db: Database, now: datetime, leagues: list[int] | None) -> None:
    """The live loop follows `leagues` (None: every league) from `now` on: health judges it by these."""
    beat(db, LEAGUES, now, "all" if leagues is None else ",".join(map(str, leagues)))


def followed(db: Database) -> list[int] | Literal["all"] | None:
    """The leagues the live loop last started with ("all": every league), None when no loop recorded them (or what
    is recorded does not read as `--leagues` would)."""
    row = db.fetchone(LAST, (LEAGUES,))
    if row is None:
        return None
    try:
        return parse_leagues(str(row[1]))
    except ConfigError:
        return None


@dataclass(frozen=True)
class Tick:
    """The live loop's last stored tick and the interval it was polling at."""

    at: datetime
    interval: int


def last_tick(db: Database) -> Tick | None:
    """The live loop's last stored tick, or None if it never ticked."""
    row = db.fetchone(LAST, (TICK,))
    at = as_datetime(row[0]) if row else None
    if row is None or at is None:
        return None
    every = _EVERY.fullmatch(str(row[1]))
    return Tick(at, int(every[1]) if every else 0)


@dataclass(frozen=True)
class InPlay:
    """Fixtures the live loop should be following now: how many, and the earliest kickoff among them."""

    fixtures: int
    since: datetime | None


def in_play(db: Database, now: datetime, leagues: list[int] | None) -> InPlay:
    """Fixtures of `leagues` (None: all) that are live (not a record stuck "live" for days) or were due to kick off
    in the last 3 h: those the live loop should be following now."""
    sql, params = IN_PLAY, [now - SETTLE_AFTER, now, now - timedelta(hours=3)]
    if leagues is not None:
        test, more = among(db, leagues)
        sql, params = f"{sql} AND league_id {test}", [*params, *more]
    row = db.fetchone(sql, params)
    return InPlay(int(row[0]), as_datetime(row[1])) if row and row[0] else InPlay(0, None)

