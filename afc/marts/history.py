"""mart.odds_movement (opening → closing per selection) and mart.table_by_round, from the history tables.

Both are refreshed from core's history in the response's transaction, only for what it touched: the
fixtures whose odds a response carried, the group rounds whose table it carried.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from afc.db import Database, as_datetime
from afc.marts.common import chunks, marks, upsert

# Fixtures whose movement may have changed: a price was kept at this response's moment, or none is held yet.
STALE_FIXTURES = """
SELECT DISTINCT h.fixture_id FROM core.odds_history h
WHERE h.fixture_id IN ({marks}) AND h.in_play = %s
  AND (h.fetched_at = %s OR NOT EXISTS (SELECT 1 FROM mart.odds_movement m WHERE m.fixture_id = h.fixture_id))"""
# Pre-match prices up to kick-off (all of them while the kick-off is unknown), oldest first per selection.
PRICES = """
SELECT h.fixture_id, h.bookmaker_id, h.bet_id, h.value, h.value_label, h.bookmaker_name, h.bet_name, h.odd,
       h.fetched_at, f.kickoff_at
FROM core.odds_history h LEFT JOIN core.fixtures f ON f.id = h.fixture_id
WHERE h.fixture_id IN ({marks}) AND h.in_play = %s AND (f.kickoff_at IS NULL OR h.fetched_at <= f.kickoff_at){filter}
ORDER BY h.fixture_id, h.bookmaker_id, h.bet_id, h.value, h.fetched_at"""
MOVEMENT_KEYS = "SELECT fixture_id, bookmaker_id, bet_id, value FROM mart.odds_movement WHERE fixture_id IN ({marks})"
DROP_MOVEMENT = """
DELETE FROM mart.odds_movement WHERE fixture_id = %s AND bookmaker_id = %s AND bet_id = %s AND value = %s"""
MOVEMENT_KEY = ("fixture_id", "bookmaker_id", "bet_id", "value")
# The newest version of one group's table after one round.
ROUND_TABLE = """
SELECT h.team_id, t.name, h.rank, h.points, h.goals_diff, h.played, h.win, h.draw, h.lose, h.goals_for,
       h.goals_against, h.form, h.description, h.fetched_at
FROM core.standings_history h LEFT JOIN core.teams t ON t.id = h.team_id
WHERE h.league_id = %(league)s AND h.season = %(season)s AND h.group_name = %(group)s AND h.round = %(round)s
  AND h.fetched_at = (SELECT max(fetched_at) FROM core.standings_history
                      WHERE league_id = %(league)s AND season = %(season)s AND group_name = %(group)s
                        AND round = %(round)s)"""
ROUND_TEAMS = """
SELECT team_id FROM mart.table_by_round
WHERE league_id = %(league)s AND season = %(season)s AND group_name = %(group)s AND round = %(round)s"""
DROP_ROUND_TEAM = """
DELETE FROM mart.table_by_round
WHERE league_id = %(league)s AND season = %(season)s AND group_name = %(group)s AND round = %(round)s
  AND team_id = %(team)s"""
ROUND_KEY = ("league_id", "season", "group_name", "round", "team_id")
TABLE_FIELDS = ("team_id", "team_name", "rank", "points", "goals_diff", "played", "win", "draw", "lose", "goals_for",
                "goals_against", "form", "description")


def _odd(value: Any) -> float | None:
    return float(value) if isinstance(value, (Decimal, int, float)) else None


def movement(prices: list[tuple[Any, ...]]) -> dict[str, Any]:
    """One selection's path (PRICES rows, oldest first) summarised: opening, closing, range, moves."""
    first, last = prices[0], prices[-1]
    odds = [o for o in (_odd(p[7]) for p in prices) if o is not None]
    opening, closing = _odd(first[7]), _odd(last[7])
    change = round(1 / closing - 1 / opening, 4) if opening and closing else None
    return {"fixture_id": first[0], "bookmaker_id": first[1], "bet_id": first[2], "value": first[3],
            "value_label": last[4], "bookmaker_name": last[5], "bet_name": last[6],
            "kickoff_at": as_datetime(last[9]), "opening_odd": opening, "opening_at": as_datetime(first[8]),
            "closing_odd": closing, "closing_at": as_datetime(last[8]), "min_odd": min(odds, default=None),
            "max_odd": max(odds, default=None), "moves": len(prices) - 1, "implied_change": change}


def selections(rows: Iterable[tuple[Any, ...]]) -> list[list[tuple[Any, ...]]]:
    """PRICES rows grouped per selection (fixture, bookmaker, bet, value), in their order."""
    grouped: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        grouped.setdefault(tuple(row[:4]), []).append(row)
    return list(grouped.values())


def refresh_odds_movement(db: Database, keys: set[Any], now: datetime) -> int:
    """Re-summarise the touched fixtures that kept a new price (or have no movement rows yet)."""
    written = 0
    for chunk in chunks(keys):
        stale = [r[0] for r in db.fetchall(STALE_FIXTURES.format(marks=marks(len(chunk))), [*chunk, False, now])]
        if not stale:
            continue
        rows = [movement(prices) for prices in
                selections(db.fetchall(PRICES.format(marks=marks(len(stale)), filter=""), [*stale, False]))]
        written += upsert(db, "mart.odds_movement", MOVEMENT_KEY, rows, now)
        kept = {tuple(row[k] for k in MOVEMENT_KEY) for row in rows}
        held = db.fetchall(MOVEMENT_KEYS.format(marks=marks(len(stale))), stale)
        for gone in {tuple(r) for r in held} - kept:  # a kick-off brought forward leaves fewer prices
            written += max(0, db.execute(DROP_MOVEMENT, gone))
    return written


def refresh_table_by_round(db: Database, keys: set[Any], now: datetime) -> int:
    """Set each touched group round to the newest table kept for it."""
    written = 0
    for league, season, group, matchday in sorted(keys):
        key = {"league": league, "season": season, "group": group, "round": matchday}
        rows = [dict(zip(TABLE_FIELDS, r[:-1], strict=True)) | {
            "league_id": league, "season": season, "group_name": group, "round": matchday,
            "as_of": as_datetime(r[-1])} for r in db.fetchall(ROUND_TABLE, key)]
        written += upsert(db, "mart.table_by_round", ROUND_KEY, rows, now)
        teams = {row["team_id"] for row in rows}
        for (team,) in db.fetchall(ROUND_TEAMS, key):
            if team not in teams:
                written += max(0, db.execute(DROP_ROUND_TEAM, key | {"team": team}))
    return written
