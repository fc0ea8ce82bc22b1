"""The raw archive as coverage reads it: the latest whole-season fetch of an endpoint for a league season.

A whole-season call names only the league and season (and the time zone, or a page of the answer): any other
parameter narrows it. Lookups go through a partial index of exactly those calls that succeeded
(`responses_season_call_idx`, migration 0016), so their cost follows the whole-season calls of that one
league season. The index of every call by league and season (0003) let them walk each daily `date=` call
of the season, newest first, reading its row — on SQLite past the stored body — to find a season's odds
list fetched weeks before: a lookup grew by the day (155 µs after 30 days, 7 µs now).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import cast

from afc.db import Database, among, as_datetime
from afc.marts.coverage.model import RawRun

# The coverage endpoint → the API endpoint whose `league`+`season` call returns the whole season.
SEASON_CALLS = {"fixtures": "fixtures", "standings": "standings", "teams": "teams", "players": "players",
                "injuries": "injuries", "odds": "odds", "top_scorers": "players/topscorers"}
# A successful call naming nothing but these: it returns the whole season. The text of each predicate is the
# partial index's own (migration 0016): the planners use the index only for a query that repeats it.
WHOLE_SEASON = {
    "sqlite": "status = 200 AND errors IS NULL "
              "AND json_remove(params, '$.league', '$.season', '$.timezone', '$.page') = '{}'",
    "postgres": "status = 200 AND errors IS NULL AND (params - '{league,season,timezone,page}'::text[]) = '{}'::jsonb",
}
SEASON = "endpoint = %(endpoint)s AND params->>'league' = %(league)s AND params->>'season' = %(season)s AND "
LATEST = "SELECT fetched_at FROM raw.responses WHERE " + SEASON + """{whole}
  AND params->>'page' IS NULL ORDER BY fetched_at DESC LIMIT 1"""
RUN = "SELECT id, results, paging_current, paging_total FROM raw.responses WHERE " + SEASON + """{whole}
  AND fetched_at >= %(since)s"""
EMPTY = "SELECT count(*), max(fetched_at) FROM raw.responses WHERE " + SEASON + """{whole}
  AND results = 0 AND params->>'page' IS NULL"""
# The newest all-league (or this league's) `date=` call: it answers every fixture or injury of that day.
# Walked newest first on the (endpoint, fetched_at) index, stopping at the first match or at `after`
# (live ticks share the endpoint; a max() would read all of them).
DATE_CALL = """
SELECT fetched_at FROM raw.responses
WHERE endpoint = %(endpoint)s AND fetched_at > %(after)s AND status = 200 AND errors IS NULL
  AND params->>'date' IS NOT NULL AND (params->>'league' IS NULL OR params->>'league' = %(league)s)
ORDER BY fetched_at DESC LIMIT 1"""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
QUARANTINED = "SELECT count(*) FROM ops.quarantine WHERE raw_id {ids}"


@lru_cache(maxsize=16)
def _sql(template: str, backend: str) -> str:
    return template.replace("{whole}", WHOLE_SEASON[backend])


def empty_answers(db: Database, endpoint: str, league: int, season: int) -> tuple[int, datetime | None]:
    """How many successful whole-season calls of `endpoint` answered an empty list, and the newest one."""
    api = SEASON_CALLS[endpoint]
    row = db.fetchone(_sql(EMPTY, db.backend), {"endpoint": api, "league": str(league), "season": str(season)})
    return (int(row[0]), as_datetime(row[1])) if row else (0, None)


def latest_date_call(db: Database, endpoint: str, league: int, after: datetime | None = None) -> datetime | None:
    """When a successful `date=` call of `endpoint` covering `league` (every league, or this one) last
    answered, if later than `after`."""
    keys = {"endpoint": SEASON_CALLS[endpoint], "league": str(league), "after": after or EPOCH}
    row = db.fetchone(DATE_CALL, keys)
    return as_datetime(row[0]) if row else None


def latest_run(db: Database, endpoint: str, league: int, season: int) -> RawRun | None:
    """The newest successful `league`+`season` call of `endpoint` with every page fetched after it."""
    api = SEASON_CALLS[endpoint]
    keys = {"endpoint": api, "league": str(league), "season": str(season)}
    first = db.fetchone(_sql(LATEST, db.backend), keys)
    if first is None:
        return None
    rows = db.fetchall(_sql(RUN, db.backend), keys | {"since": first[0]})  # as stored: exact on both backends
    ids = [int(r[0]) for r in rows]
    test, params = among(db, ids)
    quarantined = db.fetchone(QUARANTINED.format(ids=test), params) if ids else None
    return RawRun(
        fetched_at=cast(datetime, as_datetime(first[0])),  # fetched_at is NOT NULL
        items=sum(int(r[1] or 0) for r in rows),
        quarantined=int(quarantined[0]) if quarantined else 0,
        pages=len({int(r[2] or 1) for r in rows}),
        total_pages=max((int(r[3] or 1) for r in rows), default=1),
    )
