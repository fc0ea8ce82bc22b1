"""Names the marts copy from core (a team's, a league's): when /teams or /leagues renames one, the mart rows
showing the old name are re-derived. Only rows whose name differs are found (indexed by team and by league on
core.fixtures), so an answer that renames nothing costs a look-up and writes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from afc.db import Database, among
from afc.marts import daily, history, live, summary
from afc.marts.common import chunks

TEAM_FIXTURES = """
SELECT m.fixture_id FROM core.fixtures f JOIN mart.daily_fixtures m ON m.fixture_id = f.id
JOIN core.teams t ON t.id = f.home_team_id WHERE f.home_team_id {keys} AND m.home_team IS DISTINCT FROM t.name
UNION
SELECT m.fixture_id FROM core.fixtures f JOIN mart.daily_fixtures m ON m.fixture_id = f.id
JOIN core.teams t ON t.id = f.away_team_id WHERE f.away_team_id {keys} AND m.away_team IS DISTINCT FROM t.name"""
TEAM_LEADS = """
SELECT m.league_id, m.season FROM mart.league_summary m JOIN core.teams t ON t.id = m.leader_team_id
WHERE m.leader_team_id {keys} AND m.leader_name IS DISTINCT FROM t.name"""
TEAM_ROUNDS = """
SELECT DISTINCT m.league_id, m.season, m.group_name, m.round FROM mart.table_by_round m
JOIN core.teams t ON t.id = m.team_id WHERE m.team_id {keys} AND m.team_name IS DISTINCT FROM t.name"""
LEAGUE_FIXTURES = """
SELECT m.fixture_id FROM core.fixtures f JOIN mart.daily_fixtures m ON m.fixture_id = f.id
JOIN core.leagues l ON l.id = f.league_id WHERE f.league_id {keys} AND m.league_name IS DISTINCT FROM l.name"""
LEAGUE_SEASONS = """
SELECT m.league_id, m.season FROM mart.league_summary m JOIN core.leagues l ON l.id = m.league_id
WHERE m.league_id {keys} AND m.league_name IS DISTINCT FROM l.name"""


def _found(db: Database, sql: str, keys: set[Any]) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    for chunk in chunks(keys):
        test, params = among(db, chunk)
        found += db.fetchall(sql.format(keys=test), params + params if sql.count("{keys}") == 2 else params)
    return found


def _rederive(db: Database, fixtures: set[Any], seasons: set[Any], now: datetime) -> int:
    written = 0
    if fixtures:
        written += daily.refresh_daily_fixtures(db, fixtures, now)
        written += live.refresh_live_panel(db, fixtures, now)
    if seasons:
        written += summary.refresh_league_summary(db, seasons, now)
    return written


def refresh_team_names(db: Database, keys: set[Any], now: datetime) -> int:
    """The dashboard, live panel, league summary and table-by-round rows still showing a touched team's former
    name (the table by round has no index by team: a scan of it, for /teams answers only)."""
    fixtures = {row[0] for row in _found(db, TEAM_FIXTURES, keys)}
    seasons = {(row[0], row[1]) for row in _found(db, TEAM_LEADS, keys)}
    rounds = {tuple(row) for row in _found(db, TEAM_ROUNDS, keys)}
    written = history.refresh_table_by_round(db, rounds, now) if rounds else 0
    return written + _rederive(db, fixtures, seasons, now)


def refresh_league_names(db: Database, keys: set[Any], now: datetime) -> int:
    """The same for a touched league's name."""
    fixtures = {row[0] for row in _found(db, LEAGUE_FIXTURES, keys)}
    seasons = {(row[0], row[1]) for row in _found(db, LEAGUE_SEASONS, keys)}
    return _rederive(db, fixtures, seasons, now)
