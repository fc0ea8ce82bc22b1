"""The match day around the live list: confirmed lineups before kickoff, statistics and live odds in play.

Each kind runs on its own cadence inside the live loop, at its own priority (lineups HIGH, statistics
MEDIUM, live odds LOW; the live list stays CRITICAL), and only with the calls left after what the
kinds above it still need today (afc.live.plan): when the quota is short the low kinds are skipped
first, counted per kind and logged once. A failing call is logged and that kind waits for its next
turn (no retry storm, and the live list's tick is never delayed by it).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from afc.api.client import Request, Response
from afc.clock import next_utc_midnight
from afc.collect.step import Context, step
from afc.config.live import LiveConfig
from afc.db import Database, marks
from afc.errors import AfcError, AuthError, QuotaExhausted
from afc.live import followups, plan
from afc.live.schedule import Schedule, league_filter
from afc.live.tick import IDS_PER_CALL, statuses
from afc.words import count_calls

log = logging.getLogger("afc.live")
NEVER = datetime.min.replace(tzinfo=UTC)
WANTING_LINEUPS = """
SELECT f.id FROM core.fixtures f
LEFT JOIN core.fixture_details d ON d.fixture_id = f.id
LEFT JOIN core.league_seasons s ON s.league_id = f.league_id AND s.season = f.season
WHERE {leagues} AND f.kickoff_at > %(now)s AND f.kickoff_at <= %(until)s
  AND (f.status_group IS NULL OR f.status_group = 'scheduled') AND d.lineups_seen_at IS NULL
  AND COALESCE(s.cov_lineups, %(yes)s) = %(yes)s
ORDER BY f.kickoff_at, f.id"""
IN_PLAY = """
SELECT f.id, f.league_id, COALESCE(s.cov_statistics_fixtures, %s) FROM core.fixtures f
LEFT JOIN core.league_seasons s ON s.league_id = f.league_id AND s.season = f.season
WHERE f.id IN ({ids}) AND f.status_group = 'live' ORDER BY f.id"""


@dataclass
class Tally:
    """Calls made and skipped per kind (skipped: the quota left after the kinds above could not pay)."""

    made: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)


class MatchDay:
    """The cadences of the match-day kinds, and the calls they make when due."""

    def __init__(self, live: LiveConfig, leagues: list[int] | None):
        self.live, self.leagues = live, leagues
        self.due: dict[str, datetime] = dict.fromkeys(("lineups", "statistics", "odds_live"), NEVER)
        self.every = {"lineups": live.lineups_every, "statistics": live.statistics_every,
                      "odds_live": live.odds_live_every}
        self.tally = Tally()
        self._warned: set[tuple[str, date]] = set()  # a kind's skipping is logged once per UTC day

    def run(self, db: Database, context: Callable[[], Context], schedule: Schedule, interval: int) -> int:
        """Make the calls that are due now, highest priority first; returns calls made (a run record is
        opened through `context` only when there is something to call)."""
        now = schedule.now
        wanted = {kind: self._requests(db, kind, schedule) for kind, at in self.due.items() if now >= at}
        wanted = {kind: requests for kind, requests in wanted.items() if requests}
        if not wanted:
            return 0
        ctx = context()
        budget = plan.expected(plan.day_fixtures(ctx.db, self.leagues, now - plan.IN_PLAY, next_utc_midnight(now)),
                               self.live, now, next_utc_midnight(now), interval)
        made = 0
        for kind in plan.KINDS:
            if kind in wanted:
                made += self._spend(ctx, kind, wanted[kind], budget, now)
        return made

    def next_wake(self, schedule: Schedule) -> datetime | None:
        """When a kind is next due while nothing is in play: the lineups lead before the next kickoff."""
        if not self.live.lineups_lead or schedule.next_kickoff is None:
            return None
        at = max(self.due["lineups"], schedule.next_kickoff - timedelta(seconds=self.live.lineups_lead))
        return at if at > schedule.now else None  # nothing due now: the usual max_sleep applies

    def before_kickoff(self, schedule: Schedule) -> bool:
        """Whether the next kickoff is within the lineups lead (the loop keeps its run record open)."""
        kickoff = schedule.next_kickoff
        return bool(self.live.lineups_lead) and kickoff is not None and \
            kickoff - schedule.now <= timedelta(seconds=self.live.lineups_lead)

    def _requests(self, db: Database, kind: str, schedule: Schedule) -> list[Request]:
        if not self.every[kind] or (kind == "odds_live" and not self.live.odds_live):
            return []
        if kind == "lineups":
            return _ids_requests(lineups_wanted(db, self.leagues, schedule.now, self.live))
        playing = in_play(db, schedule.live)
        if kind == "statistics":
            return _ids_requests([fid for fid, _, covered in playing if covered])
        return odds_requests({league for _, league, _ in playing if league in self.live.odds_live})

    def _spend(self, ctx: Context, kind: str, requests: list[Request], budget: dict[str, int], now: datetime) -> int:
        """As many of `requests` as the quota left after the kinds above allows; the rest are skipped."""
        self.due[kind] = now + timedelta(seconds=self.every[kind])
        priority = plan.PRIORITIES[kind]
        spare = ctx.ledger.available(priority) - plan.needs_above(budget, kind)
        allowed = requests[: max(0, spare)]
        self._skip(kind, now, len(requests) - len(allowed), spare)
        made = 0
        for request in allowed:
            try:
                step(replace(ctx, priority=priority, attempts=1,
                             after_store=queue_ended if kind == "statistics" else None), request)
            except AuthError:
                raise
            except QuotaExhausted as exc:  # this priority's floor: skip; a spent day parks the next tick
                self._skip(kind, now, len(allowed) - made, 0, str(exc))
                break
            except AfcError as exc:
                log.warning("live: %s call failed (%s); next try in %d s", kind, exc, self.every[kind])
                break
            made += 1
        self.tally.made[kind] += made
        budget[kind] = max(0, budget[kind] - made)
        return made

    def _skip(self, kind: str, now: datetime, count: int, spare: int, why: str | None = None) -> None:
        if count <= 0:
            return
        self.tally.skipped[kind] += count
        if (kind, now.date()) not in self._warned:
            self._warned.add((kind, now.date()))
            log.warning("live: skipping %s calls (%s): %s", kind, count_calls(count),
                        why or f"the quota left today is kept for higher-priority calls ({spare} spare)")


def queue_ended(db: Database, response: Response, raw_id: int) -> None:
    """In a statistics answer's transaction: fixtures it shows no longer in play get their final details
    and the re-check (the live list's tick, which would have queued them, may not see them again)."""
    followups.queue(db, [i for i, group in statuses(response.items).items() if group != "live"], response.fetched_at)


def lineups_wanted(db: Database, leagues: list[int] | None, now: datetime, live: LiveConfig) -> list[int]:
    """Tracked fixtures kicking off within the lineups lead whose confirmed lineups core has not seen."""
    where, params = league_filter(leagues, "f.league_id")
    rows = db.fetchall(WANTING_LINEUPS.format(leagues=where), params | {
        "now": now, "until": now + timedelta(seconds=live.lineups_lead), "yes": True})
    return [row[0] for row in rows]


def in_play(db: Database, fixture_ids: tuple[int, ...]) -> list[tuple[int, int, Any]]:
    """(fixture, league, statistics covered) of the schedule's fixtures core still shows in play (the tick
    just before may have seen some finish: their details are the follow-ups' work)."""
    if not fixture_ids:
        return []
    rows = db.fetchall(IN_PLAY.format(ids=marks(len(fixture_ids))), [True, *fixture_ids])
    return [(fid, league, bool(covered)) for fid, league, covered in rows]


def odds_requests(leagues: set[int]) -> list[Request]:
    """`/odds/live?league=L` for one league in play; one unfiltered call (every fixture in play) for several,
    since the API takes one league per call and quota is scarcer than bandwidth."""
    if len(leagues) == 1:
        return [Request.of("odds/live", {"league": next(iter(leagues))})]
    return [Request.of("odds/live")] if leagues else []


def _ids_requests(fixture_ids: list[int]) -> list[Request]:
    return [Request.of("fixtures", {"ids": fixture_ids[i : i + IDS_PER_CALL]})
            for i in range(0, len(fixture_ids), IDS_PER_CALL)]
