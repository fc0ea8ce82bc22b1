"""Fan-outs over what core holds: the daily job's requests that depend on the database.

Each function yields the template values of one request: `ids` batches of fixtures (at most 20,
the API's limit), league seasons that played, or league-season days with upcoming fixtures. Only
tracked league seasons are considered, and coverage flags that say "none" are respected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, cast

from afc.api.client import Request
from afc.config.daily import daily_settings, odds_cadence
from afc.config.jobs import JobConfig
from afc.config.seasons import tracked_seasons
from afc.db import Database, as_datetime, dump_json

NEEDING_DETAILS = """
SELECT f.id FROM core.fixtures f
LEFT JOIN core.fixture_details d ON d.fixture_id = f.id
LEFT JOIN core.league_seasons s ON s.league_id = f.league_id AND s.season = f.season
WHERE (f.league_id, f.season) IN ({seasons}) AND f.status_group = 'finished'
  AND f.kickoff_at >= %(since)s AND f.kickoff_at <= %(now)s
  AND (d.final IS NULL OR d.final = %(no)s)
  AND NOT (COALESCE(s.cov_events, %(yes)s) = %(no)s AND COALESCE(s.cov_lineups, %(yes)s) = %(no)s
           AND COALESCE(s.cov_statistics_fixtures, %(yes)s) = %(no)s
           AND COALESCE(s.cov_statistics_players, %(yes)s) = %(no)s)
ORDER BY f.kickoff_at, f.id"""
TO_SWEEP = """
SELECT f.id FROM core.fixtures f
WHERE (f.league_id, f.season) IN ({seasons}) AND f.kickoff_at >= %(since)s AND f.kickoff_at <= %(until)s
  AND (f.status_short IN ('PST', 'TBD', 'SUSP', 'INT')
       OR (f.status_group = 'live' AND f.kickoff_at < %(stuck)s)
       OR (f.status_short = 'NS' AND f.kickoff_at < %(stuck)s))
ORDER BY f.kickoff_at, f.id"""
# {flag} is a coverage-flag column named in PLAYED_LISTS (code, not input).
PLAYED = """
SELECT f.league_id, f.season, max(f.updated_at), max(f.kickoff_at),
       sum(CASE WHEN f.status_group = 'live' THEN 1 ELSE 0 END) FROM core.fixtures f
LEFT JOIN core.league_seasons s ON s.league_id = f.league_id AND s.season = f.season
WHERE (f.league_id, f.season) IN ({seasons}) AND f.status_group IN ('live', 'finished')
  AND f.kickoff_at <= %(now)s AND COALESCE(s.{flag}, %(yes)s) = %(yes)s
GROUP BY f.league_id, f.season ORDER BY f.league_id, f.season"""
# The season-wide lists that change only when the league plays: endpoint and the flag that promises it.
PLAYED_LISTS = {"standings": "cov_standings", "players/topscorers": "cov_top_scorers"}
UPCOMING = """
SELECT f.league_id, f.season, f.kickoff_at FROM core.fixtures f
LEFT JOIN core.league_seasons s ON s.league_id = f.league_id AND s.season = f.season
WHERE (f.league_id, f.season) IN ({seasons}) AND f.status_short IN ('NS', 'TBD')
  AND f.kickoff_at >= %(now)s AND f.kickoff_at < %(until)s AND COALESCE(s.cov_odds, %(yes)s) = %(yes)s
ORDER BY f.kickoff_at"""
AHEAD = """
SELECT f.id, f.kickoff_at, p.fixture_id FROM core.fixtures f
LEFT JOIN core.predictions p ON p.fixture_id = f.id
LEFT JOIN core.league_seasons s ON s.league_id = f.league_id AND s.season = f.season
WHERE (f.league_id, f.season) IN ({seasons}) AND f.status_short IN ('NS', 'TBD')
  AND f.kickoff_at >= %(now)s AND f.kickoff_at < %(until)s AND COALESCE(s.cov_predictions, %(yes)s) = %(yes)s
ORDER BY f.kickoff_at, f.id"""
LAST_FETCH = """
SELECT max(fetched_at) FROM raw.responses
WHERE endpoint = %s AND params = %s AND status = 200 AND errors IS NULL"""


def _named(sql: str, config: JobConfig, db: Database, now: datetime, **values: Any) -> list[tuple[Any, ...]]:
    """Run a query over the tracked league seasons (`{seasons}` becomes a VALUES list of them)."""
    seasons = tracked_seasons(config, db, now)
    if not seasons:
        return []
    marks = "VALUES " + ", ".join(f"(%(l{i})s, %(s{i})s)" for i in range(len(seasons)))
    keys = {f"l{i}": ls.league for i, ls in enumerate(seasons)} | {f"s{i}": ls.season for i, ls in enumerate(seasons)}
    return db.fetchall(sql.format(seasons=marks), keys | {"yes": True, "no": False, "now": now} | values)


def _batches(ids: list[int], size: int) -> Iterator[dict[str, str]]:
    for start in range(0, len(ids), size):
        yield {"ids": "-".join(str(i) for i in ids[start : start + size])}


def fixtures_needing_details(config: JobConfig, db: Database, now: datetime) -> Iterator[dict[str, str]]:
    """Finished tracked fixtures of the last days whose details were not fetched after the final whistle."""
    conf = daily_settings(config)
    rows = _named(NEEDING_DETAILS, config, db, now, since=now - timedelta(days=conf.details_lookback_days))
    yield from _batches([r[0] for r in rows], conf.batch_size)


def fixtures_to_sweep(config: JobConfig, db: Database, now: datetime) -> Iterator[dict[str, str]]:
    """Postponed, TBD, suspended and stuck (in play or not started long after kick-off) fixtures."""
    conf = daily_settings(config)
    span = timedelta(days=conf.sweep_days)
    rows = _named(TO_SWEEP, config, db, now, since=now - span, until=now + span,
                  stuck=now - timedelta(hours=conf.stuck_after_hours))
    yield from _batches([r[0] for r in rows], conf.batch_size)


def last_fetch(db: Database, request: Request) -> datetime | None:
    """When the same request last got a good answer (from the raw archive)."""
    row = db.fetchone(LAST_FETCH, (request.endpoint, dump_json(request.query)))
    return as_datetime(row[0]) if row and row[0] is not None else None


def _played(endpoint: str, config: JobConfig, db: Database, now: datetime,
            settled: bool = False) -> Iterator[dict[str, str]]:
    """Tracked league seasons whose `endpoint` list is out of date: a played fixture of theirs changed
    after the last fetch (a late correction too), or never fetched and a match was played since yesterday
    (older seasons never fetched are backfill's work). `settled`: only once none of theirs is in play."""
    since = datetime.combine(now.date() - timedelta(days=1), datetime.min.time(), now.tzinfo)
    sql = PLAYED.replace("{flag}", PLAYED_LISTS[endpoint])
    for league, season, changed, kickoff, in_play in _named(sql, config, db, now):
        if settled and in_play:
            continue
        values = {"league": str(league), "season": str(season)}
        fetched = last_fetch(db, Request.of(endpoint, values))
        changed_at, last_kickoff = as_datetime(changed), as_datetime(kickoff)
        if fetched is None and last_kickoff is not None and last_kickoff >= since or \
                fetched is not None and changed_at is not None and fetched < changed_at:
            yield values


def league_seasons_played(config: JobConfig, db: Database, now: datetime) -> Iterator[dict[str, str]]:
    """League seasons that played since yesterday whose table was not fetched since it changed."""
    return _played("standings", config, db, now)


def league_seasons_scored(config: JobConfig, db: Database, now: datetime) -> Iterator[dict[str, str]]:
    """League seasons whose top scorers were not fetched since a match changed them, once none of their
    fixtures is in play (a 1-day list: one call after a run of matches, not one per hourly run)."""
    return _played("players/topscorers", config, db, now, settled=True)


def odds_upcoming(config: JobConfig, db: Database, now: datetime) -> Iterator[dict[str, str]]:
    """League-season days with upcoming fixtures whose odds are older than their cadence (every 3 h, or
    sharper near kick-off when `odds_final_hours` is set)."""
    conf = daily_settings(config)
    rows = _named(UPCOMING, config, db, now, until=now + timedelta(days=conf.odds_days_ahead))
    for values, kickoffs in upcoming_days(rows).items():
        fetched = last_fetch(db, Request.of("odds", dict(values)))
        if fetched is None or now - fetched >= odds_cadence(conf, now, kickoffs[0]):
            yield dict(values)


def upcoming(config: JobConfig, db: Database, now: datetime, until: datetime) -> dict[OddsDay, list[datetime]]:
    """Tracked league-season days with fixtures to be played in [now, until) and their kick-offs."""
    return upcoming_days(_named(UPCOMING, config, db, now, until=until))


OddsDay = tuple[tuple[str, str], ...]  # the /odds parameters of one league-season day


def upcoming_days(rows: list[tuple[Any, ...]]) -> dict[OddsDay, list[datetime]]:
    """UPCOMING rows (by kick-off) → each league-season day's /odds parameters and its kick-offs, in order."""
    days: dict[OddsDay, list[datetime]] = {}
    for league, season, at in rows:
        kickoff = cast(datetime, as_datetime(at))  # never NULL here: the query compares it with now
        key = (("league", str(league)), ("season", str(season)), ("date", kickoff.date().isoformat()))
        days.setdefault(key, []).append(kickoff)
    return days


def fixtures_needing_prediction(config: JobConfig, db: Database, now: datetime) -> Iterator[dict[str, str]]:
    """Upcoming tracked fixtures (within `predictions_days_ahead`) without a prediction yet, and today's
    once more on match day (the API's prediction moves with the latest form, lineups and injuries)."""
    days = daily_settings(config).predictions_days_ahead
    if not days:
        return
    midnight = datetime.combine(now.date(), datetime.min.time(), now.tzinfo)
    tomorrow = midnight + timedelta(days=1)
    for fixture_id, kickoff, predicted in _named(AHEAD, config, db, now, until=now + timedelta(days=days)):
        values = {"fixture": str(fixture_id)}
        fetched = last_fetch(db, Request.of("predictions", values))
        match_day = cast(datetime, as_datetime(kickoff)) < tomorrow
        if fetched is None or (predicted is None and fetched < now - timedelta(days=1)) or \
                (match_day and fetched < midnight):
            yield values


TARGETS: dict[str, Callable[[JobConfig, Database, datetime], Iterator[dict[str, str]]]] = {
    "fixtures_needing_details": fixtures_needing_details,
    "fixtures_to_sweep": fixtures_to_sweep,
    "league_seasons_played": league_seasons_played,
    "league_seasons_scored": league_seasons_scored,
    "odds_upcoming": odds_upcoming,
    "fixtures_needing_prediction": fixtures_needing_prediction,
}
