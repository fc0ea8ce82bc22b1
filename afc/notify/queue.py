"""Delivery state in the database: one row per (event, target), claimed with a lease, so any number of
`afc notify` processes share the work without sending an event twice at once.

Fan-out copies each new outbox event into a pending delivery for every target whose filters want it;
a target's cursor advances only over ids that are committed (a gap is waited for briefly, since a
PostgreSQL sequence hands out ids before their transactions commit). A claim takes, per target and
fixture, only the oldest pending delivery, so a fixture's events reach a target in order; a process
killed mid-send leaves a lease that expires, and the delivery is sent again with the same key.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from afc.collect import outbox
from afc.config.notify import NotifyConfig, Target
from afc.db import Database, as_datetime, load_json

GAP_WAIT = 10.0  # seconds an id gap may stay open before it counts as a rolled-back transaction
FAN_OUT_LIMIT = 1000
CURSOR = "SELECT last_event_id FROM ops.notify_targets WHERE target = %(target)s"
NEW_CURSOR = """
INSERT INTO ops.notify_targets (target, last_event_id, updated_at) VALUES (%(target)s, %(last)s, %(now)s)
ON CONFLICT (target) DO NOTHING"""
ADVANCE = """
UPDATE ops.notify_targets SET last_event_id = %(last)s, updated_at = %(now)s
WHERE target = %(target)s AND last_event_id < %(last)s"""
ENQUEUE = """
INSERT INTO ops.notify_deliveries (event_id, target, fixture_id, state, next_attempt_at, created_at)
VALUES (%(event)s, %(target)s, %(fixture)s, 'pending', %(now)s, %(now)s)
ON CONFLICT (event_id, target) DO NOTHING"""
REQUEUE = """
INSERT INTO ops.notify_deliveries AS d (event_id, target, fixture_id, state, next_attempt_at, created_at)
VALUES (%(event)s, %(target)s, %(fixture)s, 'pending', %(now)s, %(now)s)
ON CONFLICT (event_id, target) DO UPDATE SET state = 'pending', failures = 0,
    next_attempt_at = excluded.next_attempt_at, leased_until = NULL, lease_token = NULL, last_error = NULL,
    delivered_at = NULL"""
CLAIMABLE = """
SELECT d.id FROM ops.notify_deliveries d
WHERE d.state = 'pending' AND d.target IN ({targets}) AND d.next_attempt_at <= %(now)s
  AND (d.leased_until IS NULL OR d.leased_until < %(now)s)
  AND NOT EXISTS (SELECT 1 FROM ops.notify_deliveries p WHERE p.state = 'pending' AND p.target = d.target
                  AND p.fixture_id = d.fixture_id AND p.event_id < d.event_id)
ORDER BY d.event_id LIMIT %(limit)s"""
LEASE = """
UPDATE ops.notify_deliveries SET leased_until = %(until)s, lease_token = %(token)s, attempts = attempts + 1
WHERE id = %(id)s"""
CLAIMED = """
SELECT d.id, d.target, d.failures, e.event_key, e.kind, e.payload
FROM ops.notify_deliveries d JOIN ops.events_outbox e ON e.id = d.event_id
WHERE d.lease_token = %(token)s ORDER BY d.event_id"""
DELIVERED = """
UPDATE ops.notify_deliveries SET state = 'delivered', delivered_at = %(now)s, leased_until = NULL, last_error = NULL
WHERE id = %(id)s AND state = 'pending'"""
FAILED = """
UPDATE ops.notify_deliveries SET failures = failures + 1, last_error = %(error)s, leased_until = NULL,
    next_attempt_at = %(retry_at)s, state = CASE WHEN failures + 1 >= %(max)s THEN 'dead' ELSE 'pending' END
WHERE id = %(id)s AND state = 'pending'"""
SINCE = """
SELECT id, kind, fixture_id, league_id, home_team_id, away_team_id FROM ops.events_outbox
WHERE created_at >= %(since)s ORDER BY id"""
COUNTS = """
SELECT d.target, d.state, COUNT(*), COALESCE(SUM(d.failures), 0), MIN(e.created_at)
FROM ops.notify_deliveries d JOIN ops.events_outbox e ON e.id = d.event_id
GROUP BY d.target, d.state ORDER BY d.target, d.state"""
WAITING = """
SELECT d.target, d.state, e.event_key, e.kind, e.created_at, d.failures, d.next_attempt_at, d.last_error
FROM ops.notify_deliveries d JOIN ops.events_outbox e ON e.id = d.event_id
WHERE d.state IN ('pending', 'dead') ORDER BY d.state DESC, e.id LIMIT %(limit)s"""


@dataclass(frozen=True)
class Claimed:
    """A delivery this process holds the lease of: the target's name and the event to send."""

    delivery_id: int
    target: str
    failures: int  # failed attempts before this one
    key: str
    kind: str
    payload: dict[str, Any]


@dataclass
class Gaps:
    """Outbox id gaps seen by this process, and since when (monotonic seconds)."""

    first_seen: dict[int, float] = field(default_factory=dict)

    def settled(self, missing: int) -> bool:
        """Whether the id `missing` has been absent long enough to be a rolled-back insert."""
        seen = self.first_seen.setdefault(missing, time.monotonic())
        return time.monotonic() - seen >= GAP_WAIT


def fan_out(db: Database, conf: NotifyConfig, now: datetime, gaps: Gaps) -> int:
    """Copy new outbox events into pending deliveries for the targets that want them; returns rows added."""
    added = 0
    for target in conf.targets:
        with db.transaction():
            added += _fan_out_target(db, target, conf, now, gaps)
    return added


def _fan_out_target(db: Database, target: Target, conf: NotifyConfig, now: datetime, gaps: Gaps) -> int:
    row = db.fetchone(CURSOR, {"target": target.name})
    if row is None:  # a new target hears of the last `start_window`, not of the whole history
        last = outbox.start_before(db, now - timedelta(seconds=conf.start_window))
        db.execute(NEW_CURSOR, {"target": target.name, "last": last, "now": now})
    else:
        last = int(row[0])
    added, reached = 0, last
    for event in outbox.after(db, last, FAN_OUT_LIMIT):
        if any(not gaps.settled(i) for i in range(reached + 1, event["id"])):
            break  # an earlier id may still commit: wait for it, so nothing is skipped
        if target.wants(event["kind"], event["league_id"], (event["home_team_id"], event["away_team_id"])):
            added += db.execute(ENQUEUE, {"event": event["id"], "target": target.name,
                                          "fixture": event["fixture_id"], "now": now})
        reached = event["id"]
    if reached > last:
        db.execute(ADVANCE, {"target": target.name, "last": reached, "now": now})
    return added


def fanned_out(db: Database, targets: list[str]) -> int:
    """The outbox id up to which every one of `targets` has fanned out (0 while one has not started)."""
    rows = dict(db.fetchall("SELECT target, last_event_id FROM ops.notify_targets"))
    return min((int(rows.get(name, 0)) for name in targets), default=0)


def claim(db: Database, targets: list[str], now: datetime, limit: int, lease: int) -> list[Claimed]:
    """Lease up to `limit` deliveries to `targets` that are due and head their (target, fixture) line."""
    if not targets:
        return []
    token = uuid.uuid4().hex
    lock = " FOR UPDATE OF d SKIP LOCKED" if db.backend == "postgres" else ""
    names = {f"t{i}": name for i, name in enumerate(targets)}
    sql = CLAIMABLE.format(targets=", ".join(f"%({key})s" for key in names)) + lock
    with db.transaction():
        ids = [r[0] for r in db.fetchall(sql, {"now": now, "limit": limit, **names})]
        until = now + timedelta(seconds=lease)
        for delivery_id in ids:
            db.execute(LEASE, {"id": delivery_id, "until": until, "token": token})
        rows = db.fetchall(CLAIMED, {"token": token}) if ids else []
    return [Claimed(r[0], r[1], r[2], r[3], r[4], load_json(r[5])) for r in rows]


def settle(db: Database, outcomes: list[tuple[Claimed, str | None]], now: datetime, conf: NotifyConfig) -> None:
    """Record a cycle's attempts in one transaction: delivered (error None), or failed — retried after a
    doubling backoff, dead-lettered after `max_attempts`."""
    with db.transaction():
        for claimed, error in outcomes:
            if error is None:
                db.execute(DELIVERED, {"id": claimed.delivery_id, "now": now})
                continue
            wait = min(conf.backoff * 2 ** min(claimed.failures, 30), conf.max_backoff)
            db.execute(FAILED, {"id": claimed.delivery_id, "error": error[:300],
                                "retry_at": now + timedelta(seconds=wait), "max": conf.max_attempts})


def replay(db: Database, conf: NotifyConfig, since: datetime, now: datetime, target: str | None = None) -> int:
    """Queue again every event created since `since` for the targets that want it (all, or `target`)."""
    chosen = [t for t in conf.targets if target is None or t.name == target]
    queued = 0
    with db.transaction():
        for row in db.fetchall(SINCE, {"since": since}):
            event_id, kind, fixture, league, home, away = row
            for t in chosen:
                if t.wants(kind, league, (home, away)):
                    db.execute(REQUEUE, {"event": event_id, "target": t.name, "fixture": fixture, "now": now})
                    queued += 1
    return queued


@dataclass(frozen=True)
class TargetCounts:
    """Deliveries of one target by state, failed attempts, and when its oldest pending event happened."""

    target: str
    pending: int = 0
    delivered: int = 0
    dead: int = 0
    failed_attempts: int = 0
    oldest_pending: datetime | None = None


def counts(db: Database) -> list[TargetCounts]:
    """Per target: deliveries by state and the oldest pending event's time."""
    found: dict[str, dict[str, Any]] = {}
    for target, state, number, failures, oldest in db.fetchall(COUNTS):
        entry = found.setdefault(target, {"target": target, "failed_attempts": 0})
        entry[state] = int(number)
        entry["failed_attempts"] += int(failures)
        if state == "pending":
            entry["oldest_pending"] = as_datetime(oldest)
    return [TargetCounts(**entry) for entry in found.values()]


def waiting(db: Database, limit: int = 50) -> list[dict[str, Any]]:
    """Dead-lettered then pending deliveries, oldest event first, for `afc notify status`."""
    rows = db.fetch_dicts(WAITING, {"limit": limit})
    return [r | {"created_at": as_datetime(r["created_at"]), "next_attempt_at": as_datetime(r["next_attempt_at"])}
            for r in rows]
