"""The schedule from core: which tracked fixtures are in play or about to kick off, and what comes next.

In play or about to kick off means: core shows the fixture live (and it kicked off within
`live_window`, at most `afc.marts.live.SETTLE_AFTER`: the bound every view of "in play" uses), or it
is scheduled and kicks off within `lead`, or it kicked off within `lag_window`
and is not final yet (the API's data lags). Postponed, cancelled and abandoned fixtures never count.
All queries use the kickoff index, so their cost does not grow with the size of core.fixtures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from afc.clock import next_utc_midnight
from afc.config.live import LiveConfig
from afc.db import Database, as_datetime
from afc.marts.live import SETTLE_AFTER

OPEN = "(status_group IS NULL OR status_group IN ('scheduled', 'live'))"
AROUND = f"""
SELECT id, kickoff_at, status_group FROM core.fixtures
WHERE {{leagues}} AND ((status_group = 'live' AND kickoff_at >= %(live_since)s)
   OR (kickoff_at >= %(lag_since)s AND kickoff_at < %(until)s AND {OPEN}))"""
# One walk of the status index per status, stopping at the first row: an OR of the two statuses made
# SQLite read and sort every scheduled fixture of the season, on every iteration of the loop.
NEXT_KICKOFF = """
SELECT kickoff_at FROM (SELECT kickoff_at FROM core.fixtures
    WHERE {leagues} AND status_group = 'scheduled' AND kickoff_at > %(after)s ORDER BY kickoff_at LIMIT 1) scheduled
UNION ALL
SELECT kickoff_at FROM (SELECT kickoff_at FROM core.fixtures
    WHERE {leagues} AND status_group IS NULL AND kickoff_at > %(after)s ORDER BY kickoff_at LIMIT 1) unknown
ORDER BY kickoff_at LIMIT 1"""
EXPIRED = f"""
SELECT id FROM core.fixtures f
WHERE {{leagues}} AND kickoff_at >= %(since)s AND kickoff_at < %(lag_since)s AND {OPEN}
  AND NOT EXISTS (SELECT 1 FROM ops.live_followups q WHERE q.fixture_id = f.id)"""


@dataclass(frozen=True)
class Schedule:
    """The tracked fixtures around `now`, as core knows them."""

    now: datetime
    awake: tuple[int, ...]  # in play or about to kick off: the loop polls while this is not empty
    live: tuple[int, ...]  # of those, the ones core shows in play (seen live at the last tick)
    today: tuple[datetime, ...]  # kickoffs of today's fixtures not final yet (for the quota budget)
    next_kickoff: datetime | None  # the next scheduled kickoff beyond the lead time
    expired: tuple[int, ...]  # left the lag window without a final status: fetch their details


def league_filter(leagues: list[int] | None, column: str = "league_id") -> tuple[str, dict[str, Any]]:
    """`league_id IN (...)` (or `column`) with its parameters (every league when `leagues` is None)."""
    if leagues is None:
        return "1 = 1", {}
    names = {f"league_{i}": league for i, league in enumerate(leagues)}
    return f"{column} IN (" + ", ".join(f"%({n})s" for n in names) + ")", names


def read(db: Database, leagues: list[int] | None, now: datetime, live: LiveConfig) -> Schedule:
    """Read the schedule around `now` (four indexed queries)."""
    where, params = league_filter(leagues)
    lag_since = now - timedelta(seconds=live.lag_window)
    lead_until = now + timedelta(seconds=live.lead)
    midnight = next_utc_midnight(now)
    live_since = now - min(timedelta(seconds=live.live_window), SETTLE_AFTER)
    rows = db.fetchall(AROUND.format(leagues=where), params | {
        "live_since": live_since, "lag_since": lag_since, "until": max(midnight, lead_until + timedelta(seconds=1))})
    awake, in_play, today = _classify(rows, live_since, lag_since, lead_until, midnight)
    following = db.fetchone(NEXT_KICKOFF.format(leagues=where), params | {"after": lead_until})
    expired = db.fetchall(EXPIRED.format(leagues=where), params | {
        "since": lag_since - timedelta(days=1), "lag_since": lag_since})
    return Schedule(now, tuple(awake), tuple(in_play), tuple(today),
                    as_datetime(following[0]) if following else None, tuple(sorted(r[0] for r in expired)))


def _classify(rows: list[tuple[Any, ...]], live_since: datetime, lag_since: datetime, lead_until: datetime,
              midnight: datetime) -> tuple[list[int], list[int], list[datetime]]:
    awake, in_play, today = [], [], []
    for fixture_id, kickoff_value, group in sorted(rows):
        kickoff = as_datetime(kickoff_value)
        if kickoff is None:
            continue
        playing = group == "live" and kickoff >= live_since  # past the bound: unsettled, not in play
        if playing:
            in_play.append(fixture_id)
        if playing or lag_since <= kickoff <= lead_until:
            awake.append(fixture_id)
        if kickoff < midnight:
            today.append(kickoff)
    return awake, in_play, today


def wake_at(schedule: Schedule, followup_due: datetime | None, live: LiveConfig) -> datetime:
    """When the loop must look again: now while fixtures are on, else the next kickoff's lead or follow-up."""
    if schedule.awake:
        return schedule.now
    times = [schedule.now + timedelta(seconds=live.max_sleep)]
    if schedule.next_kickoff is not None:
        times.append(schedule.next_kickoff - timedelta(seconds=live.lead))
    if followup_due is not None:
        times.append(followup_due)
    return max(schedule.now, min(times))
