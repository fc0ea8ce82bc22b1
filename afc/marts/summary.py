"""mart.league_summary: per league season, fixtures played vs scheduled, goals, the table leader."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from afc.db import Database, among
from afc.marts.common import chunks, upsert

FIXTURES = """
SELECT league_id, season, count(*),
       sum(CASE WHEN status_group = 'finished' THEN 1 ELSE 0 END),
       sum(CASE WHEN status_group = 'finished' THEN COALESCE(home_goals, 0) + COALESCE(away_goals, 0) ELSE 0 END)
FROM core.fixtures WHERE {where} GROUP BY league_id, season"""
TEAMS = """
SELECT league_id, season, count(DISTINCT team_id) FROM (
    SELECT league_id, season, home_team_id AS team_id FROM core.fixtures WHERE {where}
    UNION ALL
    SELECT league_id, season, away_team_id FROM core.fixtures WHERE {where}
) sides GROUP BY league_id, season"""
LEADERS = """
SELECT s.league_id, s.season, s.team_id, t.name, s.points, s.group_name
FROM core.standings s LEFT JOIN core.teams t ON t.id = s.team_id
WHERE s.rank = 1 AND s.league_id {leagues} AND s.season {seasons} AND (s.league_id, s.season) {keys}
ORDER BY s.league_id, s.season, COALESCE(s.points, -1), s.group_name DESC"""
NAMES = "SELECT id, name FROM core.leagues WHERE id {keys}"
KEY = ("league_id", "season")
# SQLite scans a whole index for a row-value IN; the plain IN lists before it let it seek instead.
WHERE = "league_id {leagues} AND season {seasons} AND (league_id, season) {keys}"


def _summaries(db: Database, chunk: list[tuple[int, int]]) -> list[dict[str, Any]]:
    leagues, seasons = sorted({k[0] for k in chunk}), sorted({k[1] for k in chunk})
    tests = [among(db, leagues), among(db, seasons), among(db, chunk, ("integer", "integer"))]
    flat = [v for _, params in tests for v in params]
    parts = dict(zip(("leagues", "seasons", "keys"), (test for test, _ in tests), strict=True))
    where = WHERE.format(**parts)
    counts = {(r[0], r[1]): r[2:] for r in db.fetchall(FIXTURES.format(where=where), flat)}
    teams = {(r[0], r[1]): r[2] for r in db.fetchall(TEAMS.format(where=where), flat + flat)}
    leaders = {(r[0], r[1]): r[2:5] for r in db.fetchall(LEADERS.format(**parts), flat)}  # last = best
    names = dict(db.fetchall(NAMES.format(keys=parts["leagues"]), tests[0][1]))
    rows = []
    for key in chunk:
        if key not in counts and key not in leaders:
            continue
        total, played, goals = counts.get(key, (0, 0, 0))
        leader = leaders.get(key, (None, None, None))
        rows.append({
            "league_id": key[0], "season": key[1], "league_name": names.get(key[0]), "teams": teams.get(key, 0),
            "fixtures_total": int(total), "fixtures_played": int(played or 0), "goals": int(goals or 0),
            "goals_per_game": round(int(goals or 0) / int(played), 2) if played else None,
            "leader_team_id": leader[0], "leader_name": leader[1], "leader_points": leader[2],
        })
    return rows


def refresh_league_summary(db: Database, keys: set[Any], now: datetime) -> int:
    """Recount the touched league seasons (each an indexed range of its own fixtures)."""
    written = 0
    for chunk in chunks(keys):
        written += upsert(db, "mart.league_summary", KEY, _summaries(db, chunk), now)
    return written
