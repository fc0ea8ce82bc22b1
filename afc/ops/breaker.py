"""Circuit breaker per endpoint, persisted in the database so every afc process sees it.

Closed: calls flow. After `threshold` consecutive failures it opens for `cooldown` seconds; then
one probe is let through (half-open): success closes it, failure opens it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from afc.clock import Clock
from afc.db import Database, as_datetime
from afc.errors import CircuitOpen

GET = "SELECT state, failures, opened_at FROM ops.breakers WHERE endpoint = %s"
UPSERT = """
INSERT INTO ops.breakers AS b (endpoint, state, failures, opened_at, last_error_at, updated_at)
VALUES (%(endpoint)s, %(state)s, %(failures)s, %(opened_at)s, %(error_at)s, %(now)s)
ON CONFLICT (endpoint) DO UPDATE SET state = excluded.state, failures = excluded.failures,
    opened_at = excluded.opened_at, last_error_at = COALESCE(excluded.last_error_at, b.last_error_at),
    updated_at = excluded.updated_at"""
ALL = "SELECT endpoint, state, failures, opened_at, last_error_at FROM ops.breakers ORDER BY endpoint"


@dataclass(frozen=True)
class BreakerState:
    """One endpoint's breaker."""

    endpoint: str
    state: str  # closed | open | half-open
    failures: int
    opened_at: datetime | None
    last_error_at: datetime | None


class DbBreaker:
    """Breakers for every endpoint, stored in ops.breakers."""

    def __init__(self, db: Database, clock: Clock, *, threshold: int = 5, cooldown: float = 60.0):
        self.db, self.clock, self.threshold, self.cooldown = db, clock, threshold, cooldown

    def check(self, endpoint: str) -> None:
        """Raise CircuitOpen while the endpoint's breaker is open and cooling down."""
        row = self.db.fetchone(GET, (endpoint,))
        if row is None or row[0] == "closed":
            return
        opened = as_datetime(row[2])
        until = (opened or self.clock.now()) + timedelta(seconds=self.cooldown)
        now = self.clock.now()
        if row[0] == "open" and now < until:
            raise CircuitOpen(f"/{endpoint}: circuit open after {row[1]} consecutive failures; "
                              f"retrying after {until:%H:%M:%S} UTC")
        if row[0] == "open":
            self._write(endpoint, "half-open", row[1], opened, None)  # let one probe through

    def record(self, endpoint: str, ok: bool) -> None:
        """Count a success (closes) or a failure (opens at the threshold, or when a probe fails)."""
        row = self.db.fetchone(GET, (endpoint,))
        if ok:
            if row is not None and (row[0] != "closed" or row[1]):
                self._write(endpoint, "closed", 0, None, None)
            return
        failures = (row[1] if row else 0) + 1
        now = self.clock.now()
        if (row is not None and row[0] == "half-open") or failures >= self.threshold:
            self._write(endpoint, "open", failures, now, now)
        else:
            self._write(endpoint, "closed", failures, None, now)

    def _write(self, endpoint: str, state: str, failures: int, opened: datetime | None,
               error_at: datetime | None) -> None:
        with self.db.transaction():
            self.db.execute(UPSERT, {"endpoint": endpoint, "state": state, "failures": failures,
                                     "opened_at": opened, "error_at": error_at, "now": self.clock.now()})

    def states(self) -> list[BreakerState]:
        """Every endpoint that has failed at least once."""
        return [BreakerState(r[0], r[1], r[2], as_datetime(r[3]), as_datetime(r[4]))
                for r in self.db.fetchall(ALL)]
