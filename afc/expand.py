"""Jobs → API requests: templates filled, fan-out over tracked leagues, seasons and teams."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from afc.api import Request
from afc.db import Database
from afc.jobs import TEMPLATE, Job, JobConfig

# Several rows of a league may be flagged current (the API moves the flag late): the newest wins.
CURRENT_SEASONS = """
SELECT league_id, max(season) FROM core.league_seasons WHERE current = %(yes)s GROUP BY league_id"""
TEAMS_OF = "SELECT team_id FROM core.team_seasons WHERE league_id = %s AND season = %s ORDER BY team_id"
COUNTRY_OF = "SELECT country_name FROM core.leagues WHERE id = %s"
INTERNATIONAL = {"World"}  # UEFA and other international competitions have no venues of their own


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
        current = {league: season for league, season in db.fetchall(CURRENT_SEASONS, {"yes": True})}
    found: list[LeagueSeason] = []
    for tracked in config.tracked:
        for season in tracked.seasons:
            year = current.get(tracked.league, guess_season(now)) if season == "current" else int(season)
            item = LeagueSeason(tracked.league, year)
            if item not in found:
                found.append(item)
    return found


def variables(now: datetime) -> dict[str, str]:
    """The date templates, in UTC."""
    today = now.date()
    return {"today": today.isoformat(), "yesterday": (today - timedelta(days=1)).isoformat(),
            "tomorrow": (today + timedelta(days=1)).isoformat(), "now": now.isoformat()}


def fill(params: dict[str, str | int | bool], values: dict[str, str]) -> dict[str, str | int | bool]:
    """Replace `{{ name }}` in every parameter value."""
    return {k: TEMPLATE.sub(lambda m: values[m[1]], v) if isinstance(v, str) else v for k, v in params.items()}


def expand(job: Job, config: JobConfig, db: Database | None, now: datetime) -> list[Request]:
    """The requests one run of `job` makes (one per tracked league, season or team when fanned out)."""
    base = variables(now)
    return [Request.of(job.endpoint, fill(job.params, base | extra)) for extra in _fanout(job, config, db, now)]


def _fanout(job: Job, config: JobConfig, db: Database | None, now: datetime) -> Iterable[dict[str, str]]:
    seasons = tracked_seasons(config, db, now)
    if job.for_each is None:
        yield {}
    elif job.for_each == "league":
        for league in dict.fromkeys(ls.league for ls in seasons):
            yield {"league": str(league)}
    elif job.for_each == "league_season":
        for ls in seasons:
            yield {"league": str(ls.league), "season": str(ls.season)}
    elif job.for_each == "country":
        yield from ({"country": c} for c in _countries(seasons, db))
    elif job.for_each == "team":
        for ls in seasons:
            for (team,) in (db.fetchall(TEAMS_OF, (ls.league, ls.season)) if db else []):
                yield {"league": str(ls.league), "season": str(ls.season), "team": str(team)}
    elif db is not None:
        from afc.targets import TARGETS  # fan-outs over core (imported here: they import this module)

        yield from TARGETS[job.for_each](config, db, now)


def _countries(seasons: list[LeagueSeason], db: Database | None) -> list[str]:
    """The countries of the tracked leagues, as /leagues recorded them."""
    found: list[str] = []
    for league in dict.fromkeys(ls.league for ls in seasons):
        row = db.fetchone(COUNTRY_OF, (league,)) if db else None
        if row and row[0] and row[0] not in INTERNATIONAL and row[0] not in found:
            found.append(row[0])
    return found
