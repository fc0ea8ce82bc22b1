"""mart.league_summary: per league season, fixtures played vs scheduled, goals, the table leader.

A live tick rewrites fixtures in play, which cannot change a season's fixture and team counts nor its goals
(only finished matches count): those figures are recounted only for league seasons where a touched fixture
changed what the summary reads of it. The previous state of a fixture is its mart.daily_fixtures row, which is
why this refresher runs before that mart's (see afc.marts.refresh). Stored counts are trusted: every write
of core.fixtures comes through the mart refresh in its own transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from afc.db import Database, Params, among
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
# PostgreSQL: both in one scan of the league seasons' fixtures, the teams counted from the arrays of both sides
# (UNION ALL read the range twice, and the two statements were planned anew at every call).
COUNTS = """
SELECT league_id, season, count(*),
       sum(CASE WHEN status_group = 'finished' THEN 1 ELSE 0 END),
       sum(CASE WHEN status_group = 'finished' THEN COALESCE(home_goals, 0) + COALESCE(away_goals, 0) ELSE 0 END),
       (SELECT count(DISTINCT team_id) FROM unnest(array_agg(home_team_id) || array_agg(away_team_id)) AS team_id)
FROM core.fixtures WHERE {where} GROUP BY league_id, season"""
LEADERS = """
SELECT s.league_id, s.season, s.team_id, t.name, s.points, s.group_name
FROM core.standings s LEFT JOIN core.teams t ON t.id = s.team_id
WHERE s.rank = 1 AND s.league_id {leagues} AND s.season {seasons} AND (s.league_id, s.season) {keys}
ORDER BY s.league_id, s.season, COALESCE(s.points, -1), s.group_name DESC"""
NAMES = "SELECT id, name FROM core.leagues WHERE id {keys}"
STORED = """
SELECT league_id, season, fixtures_total, fixtures_played, goals, teams FROM mart.league_summary WHERE {where}"""
# A touched fixture now (core) and before this response (its dashboard row, written by the last refresh), compared
# in the database: one row per league season of the touched fixtures (`same`: 1 when every one of its fixtures reads
# the same to the summary as before) and one per league season a changed fixture was in before (`same` NULL). What
# the summary reads of a fixture: its league season, its two teams, and its goals when finished (NULL when not, so
# they tell finished from not too). A fixture without a dashboard row (new) or without a kickoff (the mart holds
# only dated fixtures: its row may be stale) is changed.
PRIOR = """
WITH p AS MATERIALIZED (
    SELECT f.league_id, f.season, d.fixture_id IS NOT NULL AS known, d.league_id AS was_league, d.season AS was_season,
           CASE WHEN f.kickoff_at IS NOT NULL AND d.fixture_id IS NOT NULL
                 AND f.league_id IS NOT DISTINCT FROM d.league_id AND f.season IS NOT DISTINCT FROM d.season
                 AND f.home_team_id IS NOT DISTINCT FROM d.home_team_id
                 AND f.away_team_id IS NOT DISTINCT FROM d.away_team_id
                 AND CASE WHEN f.status_group = 'finished' THEN COALESCE(f.home_goals, 0) + COALESCE(f.away_goals, 0)
                     END IS NOT DISTINCT FROM
                     CASE WHEN d.status_group = 'finished' THEN COALESCE(d.home_goals, 0) + COALESCE(d.away_goals, 0)
                     END
                THEN 1 ELSE 0 END AS same
    FROM core.fixtures f LEFT JOIN mart.daily_fixtures d ON d.fixture_id = f.id WHERE f.id {keys})
SELECT league_id, season, min(same) FROM p GROUP BY league_id, season
UNION ALL
SELECT DISTINCT was_league, was_season, CAST(NULL AS integer) FROM p
WHERE same = 0 AND known AND was_season IS NOT NULL
  AND (was_league IS DISTINCT FROM league_id OR was_season IS DISTINCT FROM season)"""
KEY = ("league_id", "season")
# SQLite scans a whole index for a row-value IN; the plain IN lists before it let it seek instead.
WHERE = "league_id {leagues} AND season {seasons} AND (league_id, season) {keys}"


Key = tuple[int, int]


def _tests(db: Database, keys: list[Key]) -> tuple[dict[str, str], list[Any], list[Any]]:
    """The key tests of WHERE by name, their parameters, and the leagues' alone."""
    leagues, seasons = sorted({k[0] for k in keys}), sorted({k[1] for k in keys})
    tests = [among(db, leagues), among(db, seasons), among(db, keys, ("integer", "integer"))]
    flat = [v for _, params in tests for v in params]
    return dict(zip(("leagues", "seasons", "keys"), (test for test, _ in tests), strict=True)), flat, tests[0][1]


def _summaries(db: Database, chunk: list[Key], unchanged: set[Key] | frozenset[Key] = frozenset()
               ) -> list[dict[str, Any]]:
    """The summary rows of `chunk`; the counts of `unchanged` keys are read from their stored rows, the rest
    recounted from core.fixtures (the names and the leader are always read again: a stub may fill them in)."""
    parts, flat, league_ids = _tests(db, chunk)
    counts, teams = _stored(db, sorted(unchanged & set(chunk)))
    recount = [k for k in chunk if k not in counts]
    reads: list[tuple[str, Params]] = [(LEADERS.format(**parts), flat),
                                       (NAMES.format(keys=parts["leagues"]), league_ids)]
    if recount:
        reads += _recounts(db, recount)
    found = db.fetchall_pipelined(reads)  # one round trip for the reads on PostgreSQL
    leaders = {(r[0], r[1]): r[2:5] for r in found[0]}  # last = best
    names = dict(found[1])
    if recount:
        _counted(found[2:], counts, teams)
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


def _recounts(db: Database, keys: list[Key]) -> list[tuple[str, Params]]:
    """The reads of the fixture counts, goals and teams of `keys`: PostgreSQL's one (COUNTS), SQLite's two."""
    parts, flat, _ = _tests(db, keys)
    where = WHERE.format(**parts)
    if db.backend == "postgres":
        return [(COUNTS.format(where=where), flat)]
    return [(FIXTURES.format(where=where), flat), (TEAMS.format(where=where), flat + flat)]


def _counted(found: list[list[tuple[Any, ...]]], counts: dict[Key, tuple[Any, ...]], teams: dict[Key, Any]) -> None:
    """`_recounts`' rows into `counts` (fixtures, played, goals) and `teams`."""
    for row in found[0]:
        counts[(row[0], row[1])] = tuple(row[2:5])
        if len(found) == 1:  # COUNTS: the teams are its last column
            teams[(row[0], row[1])] = row[5]
    for row in found[1] if len(found) > 1 else ():  # TEAMS
        teams[(row[0], row[1])] = row[2]


def _stored(db: Database, keys: list[Key]) -> tuple[dict[Key, tuple[Any, ...]], dict[Key, Any]]:
    """The stored counts of `keys` (those without a row are left out: they get recounted)."""
    if not keys:
        return {}, {}
    parts, flat, _ = _tests(db, keys)
    rows = db.fetchall(STORED.format(where=WHERE.format(**parts)), flat)
    return {(r[0], r[1]): tuple(r[2:5]) for r in rows}, {(r[0], r[1]): r[5] for r in rows}


def refresh_league_summary(db: Database, keys: set[Any], now: datetime, unchanged: set[Key] | None = None) -> int:
    """Recount the touched league seasons (each an indexed range of its own fixtures), but for the `unchanged`
    ones, whose fixture counts and goals the touched rows cannot have changed."""
    written = 0
    for chunk in chunks(keys):
        written += upsert(db, "mart.league_summary", KEY, _summaries(db, chunk, unchanged or set()), now)
    return written


def refresh_touched(db: Database, touched: dict[str, set[Any]], now: datetime) -> int:
    """The summaries of the touched league seasons, run before mart.daily_fixtures takes the new state; a
    fixture moved to another league season is recounted in the one it left too, and that season is touched for
    the refreshers after this one (coverage re-measures it)."""
    keys = {(int(k[0]), int(k[1])) for k in touched.get("league_season", ())}
    if not keys:
        return 0
    unchanged, left = compare(db, touched.get("fixture", set()))
    if left - keys:  # in place: the caller's set, which the refreshers after this one read
        touched["league_season"].update(left)
    return refresh_league_summary(db, keys | left, now, unchanged & keys)


def compare(db: Database, fixture_ids: set[Any]) -> tuple[set[Key], set[Key]]:
    """The league seasons of touched fixtures where every one reads the same to the summary as before, and the
    league seasons changed fixtures were in before (see PRIOR)."""
    seen: set[Key] = set()
    changed: set[Key] = set()
    left: set[Key] = set()
    for chunk in chunks(fixture_ids):
        test, params = among(db, chunk)
        for league_id, season, same in db.fetchall(PRIOR.format(keys=test), params):
            if same is None:
                left.add((league_id, season))
                continue
            seen.add((league_id, season))
            if not same:
                changed.add((league_id, season))
    return {k for k in seen - changed if k[1] is not None}, left
