"""`mart.coverage_status`, kept current: a full recompute per report, and per touched league season.

The refreshers run inside the transaction that stored a response. They recompute only league
seasons that already have rows (the tracked ones a report has measured), with the settings that
report saved, and of those only the endpoints the touched rows can change: a live tick that moved
the scores of matches in play re-measures fixtures, teams, players and odds, not the season's
details, standings, injuries or top scorers. So a response costs a few indexed lookups per league
season it touched, and every row it rewrites is what a full recompute at that moment gives.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from afc.config.coverage import DETAIL_PARTS, CoverageConfig, coverage_config
from afc.config.jobs import JobConfig
from afc.db import Database, among, dump_json, load_json
from afc.marts.common import chunks, upsert
from afc.marts.coverage.calculate import compute, select
from afc.marts.coverage.model import Coverage, CoverageReport

KEY = ("league_id", "season", "endpoint")
SAVE_SETTINGS = """
INSERT INTO mart.coverage_settings (id, settings, updated_at) VALUES (1, %(settings)s, %(now)s)
ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at"""
SETTINGS = "SELECT settings FROM mart.coverage_settings WHERE id = 1"
MEASURED = "SELECT DISTINCT league_id, season FROM mart.coverage_status WHERE (league_id, season) {keys}"
FIXTURE_SEASONS = "SELECT id, league_id, season FROM core.fixtures WHERE id {keys} AND season IS NOT NULL"
EXISTING = "SELECT league_id, season, endpoint FROM mart.coverage_status"
DELETE = "DELETE FROM mart.coverage_status WHERE league_id = %s AND season = %s AND endpoint = %s"
LEAGUE_NAMES = "SELECT id, name FROM core.leagues WHERE id {keys}"
# The endpoints whose figures a stored fixture row can change: its season's fixture count and list,
# the finished fixtures whose details are due, the teams the fixtures name (and the players expected
# of them), the upcoming fixtures odds are wanted for, and the freshness of standings and top scorers
# (stale from the first match change after their last fetch). Injuries read only their own table and
# raw answers, which a fixture's answer does not write.
BY_FIXTURE = frozenset({"fixtures", *DETAIL_PARTS, "teams", "players", "odds", "standings", "top_scorers"})
# A fixture stored in play is not finished, so the season's finished fixtures (details) stay as they were.
BY_LIVE_FIXTURE = BY_FIXTURE - set(DETAIL_PARTS)
# And once its sides are known (both play in another fixture of the season: it was stored before, as the
# daily calls store every fixture of the day), neither the season's teams nor the players expected of them
# change while it is played. These two measures were a third of a live tick's coverage time.
BY_KNOWN_LIVE_FIXTURE = BY_LIVE_FIXTURE - {"teams", "players"}
_SIDE_ELSEWHERE = """EXISTS (SELECT 1 FROM core.fixtures g WHERE g.{column} = f.{side} AND g.id <> f.id
      AND g.league_id = f.league_id AND g.season = f.season)"""
_SIDE_KNOWN = "(f.{side} IS NULL OR " + " OR ".join(
    _SIDE_ELSEWHERE.format(column=column, side="{side}") for column in ("home_team_id", "away_team_id")) + ")"
# The fixtures (of those asked) whose two sides each play in another fixture of their season, with the season.
KNOWN_SIDES = ("SELECT f.id, f.league_id, f.season FROM core.fixtures f\n"
               "WHERE f.id {keys} AND f.season IS NOT NULL"
               + "".join(" AND " + _SIDE_KNOWN.format(side=side) for side in ("home_team_id", "away_team_id")))


def report(db: Database, config: JobConfig, now: datetime, league: int | None = None,
           season: int | None = None) -> CoverageReport:
    """Recompute coverage (all tracked league seasons, or those asked for) and store it in the mart."""
    settings = coverage_config(config)
    seasons = select(config, db, now, league, season)
    with db.transaction():
        rows = compute(db, settings, seasons, now)
        db.execute(SAVE_SETTINGS, {"settings": settings.model_dump_json(), "now": now})
        write(db, rows, now)
        if league is None and season is None:
            _drop_others(db, rows)
    return CoverageReport(rows, now, league_names(db, {r.league_id for r in rows}))


def write(db: Database, rows: list[Coverage], now: datetime) -> int:
    """Upsert coverage rows into `mart.coverage_status`; returns rows written."""
    return upsert(db, "mart.coverage_status", KEY, [_mart_row(r) for r in rows], now)


def _mart_row(row: Coverage) -> dict[str, Any]:
    return {"league_id": row.league_id, "season": row.season, "endpoint": row.endpoint, "held": row.held,
            "expected": row.expected, "count_pct": row.count_pct, "lag_minutes": row.lag_minutes,
            "freshness_pct": row.freshness_pct, "pipeline_pct": row.pipeline_pct,
            "overall_pct": row.overall_pct, "status": row.status, "computed_at": row.computed_at,
            "detail": dump_json(row.detail)}


def _drop_others(db: Database, rows: list[Coverage]) -> None:
    """Rows of league seasons no longer tracked, or endpoints no longer measured, go."""
    keep = {(r.league_id, r.season, r.endpoint) for r in rows}
    for key in db.fetchall(EXISTING):
        if tuple(key) not in keep:
            db.execute(DELETE, tuple(key))


def league_names(db: Database, leagues: Iterable[int]) -> dict[int, str]:
    """League names from core (for display)."""
    ids = sorted(leagues)
    if not ids:
        return {}
    test, params = among(db, ids)
    return {int(k): v for k, v in db.fetchall(LEAGUE_NAMES.format(keys=test), params) if v}


def saved_settings(db: Database) -> CoverageConfig:
    """The settings the last report used (defaults before the first report)."""
    row = db.fetchone(SETTINGS)
    saved = row[0] if row else None
    return _settings(saved if saved is None or isinstance(saved, str) else dump_json(saved))


@lru_cache(maxsize=8)
def _settings(saved: str | None) -> CoverageConfig:
    # Parsed once per distinct saved text (every live tick reads the same), not once per response.
    return CoverageConfig.model_validate(load_json(saved) if saved is not None else {})


def refresh_seasons(db: Database, keys: Iterable[tuple[int, int]], now: datetime,
                    only: Mapping[tuple[int, int], Collection[str]] | None = None) -> int:
    """Recompute the measured league seasons among `keys` (of a season in `only`, the endpoints it names);
    returns mart rows written."""
    measured: set[tuple[int, int]] = set()
    for chunk in chunks({(int(k[0]), int(k[1])) for k in keys}):
        test, params = among(db, chunk, ("integer", "integer"))
        measured |= {(int(a), int(b)) for a, b in db.fetchall(MEASURED.format(keys=test), params)}
    if not measured:
        return 0
    return write(db, compute(db, saved_settings(db), sorted(measured), now, only), now)


def refresh_touched(db: Database, touched: dict[str, set[Any]], now: datetime) -> int:
    """Coverage of the league seasons touched, directly or through their fixtures (e.g. details fetched
    alone), each recomputed once per response: a fixture item touches both. A season reached through
    its fixtures re-measures only what fixtures can change (BY_FIXTURE, BY_LIVE_FIXTURE when every one
    was in play); one touched otherwise (its flags, standings, players, injuries, odds) is re-measured whole."""
    reached = fixture_endpoints(db, touched.get("fixture", set()), touched.get("fixture_live", set()))
    seasons = {(int(k[0]), int(k[1])) for k in touched.get("league_season", ())} | set(reached)
    return refresh_seasons(db, seasons, now, reached)


def fixture_endpoints(db: Database, fixtures: Collection[Any],
                      live: Collection[Any]) -> dict[tuple[int, int], set[str]]:
    """The league seasons of `fixtures`, each with the endpoints those fixtures can change (`live`: in play)."""
    live_ids = {int(k) for k in live}
    reached: dict[tuple[int, int], set[str]] = {}
    known = _in_play_with_known_sides(db, live_ids & {int(k) for k in fixtures}, reached)
    fixtures = {int(k) for k in fixtures} - known
    for chunk in chunks(set(fixtures)):
        test, params = among(db, chunk)
        for fixture_id, league, season in db.fetchall(FIXTURE_SEASONS.format(keys=test), params):
            endpoints = BY_LIVE_FIXTURE if int(fixture_id) in live_ids else BY_FIXTURE
            reached.setdefault((int(league), int(season)), set()).update(endpoints)
    return reached


def _in_play_with_known_sides(db: Database, live: set[int], reached: dict[tuple[int, int], set[str]]) -> set[int]:
    """The fixtures in play among `live` whose sides play elsewhere in their season: their seasons are
    noted in `reached` with BY_KNOWN_LIVE_FIXTURE. Returns their ids (the others are looked up as before)."""
    known = set()
    for chunk in chunks(live):
        test, params = among(db, chunk)
        for fixture_id, league, season in db.fetchall(KNOWN_SIDES.format(keys=test), params):
            known.add(int(fixture_id))
            reached.setdefault((int(league), int(season)), set()).update(BY_KNOWN_LIVE_FIXTURE)
    return known
