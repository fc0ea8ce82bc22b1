"""Circuit breaker per endpoint, persisted in the database so every afc process sees it.

Closed: calls flow. After `threshold` consecutive failures it opens for `cooldown` seconds; then
exactly one probe is let through (half-open), claimed with a conditional UPDATE so two processes
never probe at once: success closes it, failure opens it again. A probe that never reports back
(its process died) is given up after another cool-down and a new probe is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from afc.clock import Clock
from afc.config.jobs import JobConfig
from afc.db import Database, as_datetime
from afc.errors import CircuitOpen

GET = "SELECT state, failures, opened_at, probe_at FROM ops.breakers WHERE endpoint = %s"
FAIL = """
INSERT INTO ops.breakers AS b (endpoint, state, failures, opened_at, last_error_at, updated_at)
VALUES (%(endpoint)s, CASE WHEN %(threshold)s <= 1 THEN 'open' ELSE 'closed' END, 1,
        CASE WHEN %(threshold)s <= 1 THEN %(now)s END, %(now)s, %(now)s)
ON CONFLICT (endpoint) DO UPDATE SET
    failures = b.failures + 1,
    state = CASE WHEN b.state = 'half-open' OR b.failures + 1 >= %(threshold)s THEN 'open' ELSE b.state END,
    opened_at = CASE WHEN b.state = 'half-open' OR (b.state = 'closed' AND b.failures + 1 >= %(threshold)s)
                     THEN %(now)s ELSE b.opened_at END,
    probe_at = NULL, last_error_at = %(now)s, updated_at = %(now)s"""
CLOSE = """
UPDATE ops.breakers SET state = 'closed', failures = 0, opened_at = NULL, probe_at = NULL, updated_at = %(now)s
WHERE endpoint = %(endpoint)s AND (state <> 'closed' OR failures <> 0)"""
CLAIM_PROBE = """
UPDATE ops.breakers SET state = 'half-open', probe_at = %(now)s, updated_at = %(now)s
WHERE endpoint = %(endpoint)s AND state = %(state)s
  AND (probe_at IS NULL OR probe_at <= %(stale)s) AND opened_at <= %(cooled)s"""
ALL = "SELECT endpoint, state, failures, opened_at, last_error_at, probe_at FROM ops.breakers ORDER BY endpoint"


@dataclass(frozen=True)
class BreakerState:
    """One endpoint's breaker, as `afc health` and the MCP server show it."""

    endpoint: str
    state: str  # closed | open | half-open
    failures: int
    opened_at: datetime | None
    last_error_at: datetime | None
    retry_at: datetime | None  # when an open breaker lets its probe through

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return {"endpoint": self.endpoint, "state": self.state, "failures": self.failures,
                "opened_at": _iso(self.opened_at), "last_error_at": _iso(self.last_error_at),
                "retry_at": _iso(self.retry_at)}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class DbBreaker:
    """Breakers for every endpoint, stored in ops.breakers."""

    def __init__(self, db: Database, clock: Clock, *, threshold: int = 5, cooldown: float = 60.0):
        self.db, self.clock, self.threshold, self.cooldown = db, clock, threshold, cooldown

    @classmethod
    def configured(cls, db: Database, clock: Clock, config: JobConfig) -> DbBreaker:
        """A breaker with the threshold and cool-down of the `ops:` section."""
        from afc.config.ops import ops_config

        conf = ops_config(config).breaker
        return cls(db, clock, threshold=conf.threshold, cooldown=conf.cooldown_seconds)

    def check(self, endpoint: str) -> None:
        """Raise CircuitOpen unless calls may go: closed, or this caller won the half-open probe."""
        row = self.db.fetchone(GET, (endpoint,))
        if row is None or row[0] == "closed":
            return
        now = self.clock.now()
        opened = as_datetime(row[2]) or now
        until = opened + timedelta(seconds=self.cooldown)
        if now >= until and self._claim_probe(endpoint, row[0], now):
            return
        if row[0] == "open" and now < until:
            raise CircuitOpen(f"/{endpoint}: circuit open after {row[1]} consecutive failures; "
                              f"calls resume after {until:%H:%M:%S} UTC")
        raise CircuitOpen(f"/{endpoint}: circuit half-open, another process is probing; "
                          f"try again after {now + timedelta(seconds=self.cooldown):%H:%M:%S} UTC")

    def _claim_probe(self, endpoint: str, state: str, now: datetime) -> bool:
        cutoff = now - timedelta(seconds=self.cooldown)
        with self.db.transaction():
            return self.db.execute(CLAIM_PROBE, {"endpoint": endpoint, "state": state, "now": now,
                                                 "stale": cutoff, "cooled": cutoff}) == 1

    def record(self, endpoint: str, ok: bool) -> None:
        """Count a success (closes) or a failure (opens at the threshold, or when a probe fails)."""
        now = self.clock.now()
        if ok:
            row = self.db.fetchone(GET, (endpoint,))
            if row is not None and (row[0] != "closed" or row[1]):
                with self.db.transaction():
                    self.db.execute(CLOSE, {"endpoint": endpoint, "now": now})
            return
        with self.db.transaction():
            self.db.execute(FAIL, {"endpoint": endpoint, "threshold": self.threshold, "now": now})

    def states(self) -> list[BreakerState]:
        """Every endpoint that has failed at least once."""
        return states(self.db, self.cooldown)


def states(db: Database, cooldown: float = 60.0) -> list[BreakerState]:
    """Every breaker row, read-only (the MCP server and `afc health` call this)."""
    found = []
    for endpoint, state, failures, opened, error_at, _probe in db.fetchall(ALL):
        opened_at = as_datetime(opened)
        retry = opened_at + timedelta(seconds=cooldown) if opened_at and state != "closed" else None
        found.append(BreakerState(endpoint, state, failures, opened_at, as_datetime(error_at), retry))
    return found


def open_breakers(db: Database, cooldown: float = 60.0) -> list[BreakerState]:
    """Breakers that currently stop calls (open or half-open)."""
    return [s for s in states(db, cooldown) if s.state != "closed"]
