"""Tracked league seasons: the job files' `tracked:` list with `current` resolved from core."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from afc.config.jobs import JobConfig
from afc.db import Database

# Several rows of a league may be flagged current (the API moves the flag late): the newest wins.
CURRENT_SEASONS = """
SELECT league_id, max(season) FROM core.league_seasons WHERE current = %(yes)s GROUP BY league_id"""


@dataclass(frozen=True)
class LeagueSeason:
    """A tracked league season."""

    league: int
    season: int


def guess_season(now: datetime) -> int:
    """The European season containing `now` (Aug–Jul), used until /leagues says which is current."""
    return now.year if now.month >= 7 else now.year - 1


def tracked_seasons(config: JobConfig, db: Database | None, now: datetime) -> list[LeagueSeason]:
    """Each tracked league's seasons, with `current` resolved from core (or guessed from the date)."""
    current: dict[int, int] = {}
    if db is not None:
        current = dict(db.fetchall(CURRENT_SEASONS, {"yes": True}))
    found: list[LeagueSeason] = []
    for tracked in config.tracked:
        for season in tracked.seasons:
            year = current.get(tracked.league, guess_season(now)) if season == "current" else int(season)
            item = LeagueSeason(tracked.league, year)
            if item not in found:
                found.append(item)
    return found
