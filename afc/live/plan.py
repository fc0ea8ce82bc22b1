"""A match day's expected calls per kind, from the fixtures core holds (for the budget and `--dry-run`).

Each kind is counted the way the loop makes its calls: the live list every interval over the merged
windows around kickoffs; two details fetches per finished fixture (an upper bound: fixtures finishing
together share them); confirmed lineups every
`lineups_every` from `lineups_lead` before each kickoff (one ids= call per 20 fixtures kicking off
within the lead; an upper bound, since the loop stops asking once a batch has both lineups);
statistics every `statistics_every` while fixtures are in play (one ids= call per 20 in play); live
odds every `odds_live_every` while an opted-in league plays (one call for all of them); predictions
twice per fixture (a few days ahead and on match day, by the daily job).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from afc.config.live import LiveConfig
from afc.config.settings import Priority
from afc.db import Database, as_datetime
from afc.live import pace
from afc.live.schedule import league_filter

# The call kinds of a match day, highest priority first: the order the budget serves them in.
KINDS = ("live", "details", "lineups", "statistics", "odds_live", "predictions")
PRIORITIES: dict[str, Priority] = {"live": "CRITICAL", "details": "CRITICAL", "lineups": "HIGH", "statistics": "MEDIUM",
              "odds_live": "LOW", "predictions": "LOW"}
IN_PLAY = timedelta(minutes=115)  # kickoff to full time, half-time included: when statistics move
DAY_FIXTURES = """
SELECT f.id, f.league_id, f.kickoff_at, d.lineups_seen_at FROM core.fixtures f
LEFT JOIN core.fixture_details d ON d.fixture_id = f.id
WHERE {leagues} AND f.kickoff_at >= %(start)s AND f.kickoff_at < %(end)s
  AND (f.status_group IS NULL OR f.status_group IN ('scheduled', 'live', 'finished'))
ORDER BY f.kickoff_at, f.id"""


@dataclass(frozen=True)
class Kickoff:
    """One tracked fixture of the day, as the plan needs it."""

    fixture_id: int
    league_id: int
    at: datetime
    lineups_seen: bool = False


def day_fixtures(db: Database, leagues: list[int] | None, start: datetime, end: datetime) -> list[Kickoff]:
    """The tracked fixtures kicking off in [start, end), postponed and cancelled ones left out."""
    where, params = league_filter(leagues, "f.league_id")
    rows = db.fetchall(DAY_FIXTURES.format(leagues=where),
                       params | {"start": start, "end": end})
    return [Kickoff(fid, league, at, seen is not None) for fid, league, kickoff, seen in rows
            if (at := as_datetime(kickoff)) is not None]


def expected(fixtures: list[Kickoff], live: LiveConfig, start: datetime, end: datetime,
             interval: int | None = None) -> dict[str, int]:
    """Calls per kind that `fixtures` still need in [start, end) (all kinds, highest priority first)."""
    kickoffs = [f.at for f in fixtures]
    spans = pace.windows(kickoffs, live.lead, live.match_length)
    return {
        "live": math.ceil(pace.merged_seconds(spans, start, end) / (interval or live.interval)),
        # Fixtures finish minutes apart, so each usually gets ids= calls of its own (at full time, the re-check).
        "details": 2 * sum(1 for f in fixtures if f.at + IN_PLAY >= start),
        "lineups": lineups_calls([f.at for f in fixtures if not f.lineups_seen], live, start, end),
        "statistics": statistics_calls(kickoffs, live, start, end),
        "odds_live": odds_calls(fixtures, live, start, end),
        "predictions": 2 * sum(1 for f in fixtures if f.at >= start),
    }


def _steps(first: datetime, end: datetime, every: int) -> Iterable[datetime]:
    moment = first
    while moment < end:
        yield moment
        moment += timedelta(seconds=every)


def _batches(count: int) -> int:
    return math.ceil(count / pace.DETAILS_PER_CALL)


def lineups_calls(kickoffs: list[datetime], live: LiveConfig, start: datetime, end: datetime) -> int:
    """ids= calls looking for lineups: each check asks for the fixtures kicking off within the lead."""
    if not live.lineups_lead or not kickoffs:
        return 0
    lead = timedelta(seconds=live.lineups_lead)
    first = max(start, min(kickoffs) - lead)
    return sum(_batches(sum(1 for k in kickoffs if t < k <= t + lead)) for t in _steps(first, end, live.lineups_every))


def statistics_calls(kickoffs: list[datetime], live: LiveConfig, start: datetime, end: datetime) -> int:
    """ids= calls for in-play statistics: one per 20 fixtures in play, every `statistics_every`."""
    if not live.statistics_every or not kickoffs:
        return 0
    first = max(start, min(kickoffs))
    return sum(_batches(sum(1 for k in kickoffs if k <= t < k + IN_PLAY))
               for t in _steps(first, end, live.statistics_every))


def odds_calls(fixtures: list[Kickoff], live: LiveConfig, start: datetime, end: datetime) -> int:
    """/odds/live calls: one every `odds_live_every` while an opted-in league has a fixture in play (one
    league's call or, for several, one call for every fixture in play)."""
    chosen = [f for f in fixtures if f.league_id in live.odds_live]
    if not chosen:
        return 0
    first = max(start, min(f.at for f in chosen))
    return sum(1 for t in _steps(first, end, live.odds_live_every) if any(f.at <= t < f.at + IN_PLAY for f in chosen))


def needs_above(plan: dict[str, int], kind: str) -> int:
    """The calls the kinds of higher priority than `kind` still need (what `kind` must leave them)."""
    return sum(plan[k] for k in KINDS[: KINDS.index(kind)] if k != "predictions")


@dataclass(frozen=True)
class DayPlan:
    """A match day's expected calls per kind for the followed leagues, and what today's quota allows."""

    day: str
    leagues: list[int] | None
    fixtures: int
    calls: dict[str, int]  # per kind, highest priority first
    priorities: dict[str, str]
    total: int
    available: int  # calls CRITICAL work may still make today (the budget's ceiling)


def match_day(db: Database, live: LiveConfig, leagues: list[int] | None, start: datetime,
              available: int) -> DayPlan:
    """The calls of the UTC day starting at `start`, from the fixtures core holds for it."""
    end = start + timedelta(days=1)
    # As the day starts: no lineups seen yet (a plan of a day already under way counts them all).
    fixtures = [Kickoff(f.fixture_id, f.league_id, f.at) for f in day_fixtures(db, leagues, start, end)]
    calls = expected(fixtures, live, start, end)
    return DayPlan(start.date().isoformat(), leagues, len(fixtures), calls, dict(PRIORITIES), sum(calls.values()),
                   available)

