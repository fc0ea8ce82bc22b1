"""`afc notify`: fan new outbox events out to the targets, claim what is due, send, record — in a loop.

Each cycle sends the claimed deliveries in parallel (they head different (target, fixture) lines, so
order within a fixture holds) and records the outcomes in one short transaction. Whatever goes
wrong with one delivery is that delivery's failure; whatever goes wrong with the database is logged in
one line and the loop tries again after a pause.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from afc.api import outbound
from afc.clock import Clock
from afc.collect import outbox
from afc.config.notify import NotifyConfig
from afc.db import Database
from afc.errors import DatabaseError
from afc.notify import queue, send
from afc.redact import describe

log = logging.getLogger("afc.notify")
WORKERS = 8
PRUNE_EVERY = 3600.0  # seconds between deletions of old settled events
DB_PAUSE = 5.0  # seconds before trying again after a database error


@dataclass
class CycleReport:
    """What one cycle did."""

    queued: int = 0  # deliveries fanned out from new events
    delivered: int = 0
    failed: int = 0  # attempts that failed (retried later, or dead-lettered)
    dead: int = 0  # of those, deliveries that reached the dead-letter state


@dataclass
class Courier:
    """Delivers the outbox to the configured targets."""

    db: Database
    conf: NotifyConfig
    secrets: dict[str, bytes]
    clock: Clock
    reopen: Callable[[], Database] | None = None  # a fresh connection after the database went away

    def __post_init__(self) -> None:
        self.targets = {t.name: t for t in self.conf.targets}
        self.gaps = queue.Gaps()
        self.client = outbound.client(headers={"Accept": "*/*"})
        self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="afc-notify")
        self.pruned_at = float("-inf")

    def cycle(self) -> CycleReport:
        """Fan out, then claim and send once (and, hourly, delete old settled events); returns what happened."""
        if time.monotonic() - self.pruned_at >= PRUNE_EVERY:
            upto = queue.fanned_out(self.db, list(self.targets))
            outbox.prune(self.db, self.clock.now() - timedelta(seconds=self.conf.keep), upto)
            self.pruned_at = time.monotonic()
        report = CycleReport(queued=queue.fan_out(self.db, self.conf, self.clock.now(), self.gaps))
        # a target removed from the file keeps its rows, unsent, until it comes back
        claimed = queue.claim(self.db, list(self.targets), self.clock.now(), self.conf.batch, self.conf.lease)
        outcomes = list(zip(claimed, self.pool.map(self._send, claimed), strict=True))
        queue.settle(self.db, outcomes, self.clock.now(), self.conf)  # one commit for the whole cycle
        for item, error in outcomes:
            self._count(item, error, report)
        return report

    def _send(self, item: queue.Claimed) -> str | None:
        try:
            return send.attempt(self.client, self.targets[item.target], item.key, item.payload, self.secrets,
                                self.conf.timeout)
        except Exception as exc:  # noqa: BLE001 - one delivery's surprise must not stop the service
            return f"target {item.target}: {describe(exc)}"

    def _count(self, item: queue.Claimed, error: str | None, report: CycleReport) -> None:
        if error is None:
            report.delivered += 1
            return
        report.failed += 1
        last = item.failures + 1 >= self.conf.max_attempts
        report.dead += last
        log.warning("%s %s (attempt %d%s)", item.key, error, item.failures + 1, "; dead-lettered" if last else "")

    def serve(self, stop: threading.Event, on_cycle: Callable[[CycleReport], None] | None = None) -> None:
        """Cycle until `stop` is set, pausing only when a cycle found nothing to do."""
        while not stop.is_set():
            try:
                report = self.cycle()
            except DatabaseError as exc:
                log.warning("notify: database unavailable, trying again in %gs: %s", DB_PAUSE, exc)
                stop.wait(DB_PAUSE)
                self._reconnect()
                continue
            if on_cycle is not None:
                on_cycle(report)
            if not (report.delivered or report.failed or report.queued):
                stop.wait(self.conf.poll_interval)

    def _reconnect(self) -> None:
        if self.reopen is None:
            return
        self.db.close()
        try:
            self.db = self.reopen()
        except DatabaseError as exc:  # still down: the next cycle fails alike and comes back here
            log.warning("notify: reconnecting failed: %s", exc)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.client.close()


def drain(courier: Courier) -> CycleReport:
    """Cycle until nothing is due (`afc notify --once`, for cron); returns the totals."""
    total = CycleReport()
    while True:
        report = courier.cycle()
        total.queued += report.queued
        total.delivered += report.delivered
        total.failed += report.failed
        total.dead += report.dead
        if not (report.delivered or report.failed or report.queued):
            return total
