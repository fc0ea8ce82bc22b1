"""mart.odds_movement (opening → closing per selection) and mart.table_by_round, from the history tables.

Both are refreshed from core's history in the response's transaction, only for what it touched: the
fixtures whose odds a response carried, the group rounds whose table it carried.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from afc.db import Database, among, as_datetime, marks
from afc.marts.common import chunks, upsert

# The prices a response kept (an index seek per fixture) with their fixture's kick-off.
KEPT_NOW = """
SELECT h.fixture_id, h.bookmaker_id, h.bet_id, h.value, h.odd, h.fetched_at, h.value_label, h.bookmaker_name,
       h.bet_name, f.kickoff_at
FROM core.odds_history h LEFT JOIN core.fixtures f ON f.id = h.fixture_id
WHERE h.fixture_id {keys} AND h.fetched_at = %s AND h.in_play = %s"""
SUMMARISED = "SELECT DISTINCT fixture_id FROM mart.odds_movement WHERE fixture_id {keys}"
ALL_SERIES = """
SELECT DISTINCT fixture_id, bookmaker_id, bet_id, value FROM core.odds_history
WHERE fixture_id {keys} AND in_play = %s"""
HELD_FIELDS = ("opening_odd", "opening_at", "closing_at", "min_odd", "max_odd", "moves", "kickoff_at")
# The movement rows of some fixtures (a range of the primary key each, never a scan of the mart).
HELD = ("SELECT fixture_id, bookmaker_id, bet_id, value, " + ", ".join(HELD_FIELDS)
        + " FROM mart.odds_movement WHERE fixture_id {keys}")
SERIES = "WITH w (fixture_id, bookmaker_id, bet_id, value) AS ({values}) "
SAME_SERIES = ("h.fixture_id = w.fixture_id AND h.bookmaker_id = w.bookmaker_id AND h.bet_id = w.bet_id "
               "AND h.value = w.value")
# Each selection's range, moves, first and last moment up to kick-off (all prices while it is unknown).
SPANS = SERIES + f"""
SELECT h.fixture_id, h.bookmaker_id, h.bet_id, h.value, min(h.odd), max(h.odd), count(*), min(h.fetched_at),
       max(h.fetched_at), max(f.kickoff_at)
FROM w JOIN core.odds_history h ON {SAME_SERIES} LEFT JOIN core.fixtures f ON f.id = h.fixture_id
WHERE h.in_play = %s AND (f.kickoff_at IS NULL OR h.fetched_at <= f.kickoff_at)
GROUP BY h.fixture_id, h.bookmaker_id, h.bet_id, h.value"""
# The prices at given moments of given selections (the opening and the closing one).
PRICES_AT = """
WITH w (fixture_id, bookmaker_id, bet_id, value, fetched_at) AS ({values})
SELECT h.fixture_id, h.bookmaker_id, h.bet_id, h.value, h.fetched_at, h.odd, h.value_label, h.bookmaker_name,
       h.bet_name
FROM w JOIN core.odds_history h ON """ + SAME_SERIES + " AND h.fetched_at = w.fetched_at"
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


def odd_value(value: Any) -> float | None:
    """An odd as a float (PostgreSQL's numeric is a Decimal), None when there is none."""
    return float(value) if isinstance(value, (Decimal, int, float)) else None


def implied_change(opening: float | None, closing: float | None) -> float | None:
    """How much the implied probability moved from opening to closing (1/closing - 1/opening)."""
    return round(1 / closing - 1 / opening, 4) if opening and closing else None


def _summaries(db: Database, series: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """mart.odds_movement rows of `series` from all their kept prices (selections with no price before
    kick-off give none)."""
    spans = db.fetchall(SPANS.format(values=marks(len(series), 4)), [v for s in series for v in s] + [False])
    ends = [(*span[:4], moment) for span in spans for moment in (span[7], span[8])]
    prices = {tuple(r[:5]): r[5:] for r in db.fetchall(PRICES_AT.format(values=marks(len(ends), 5)),
                                                        [v for e in ends for v in e])} if ends else {}
    rows = []
    for key0, key1, key2, key3, low, high, count, first_at, last_at, kickoff in spans:
        key = (key0, key1, key2, key3)
        opening, closing = prices[(*key, first_at)], prices[(*key, last_at)]
        rows.append({"fixture_id": key0, "bookmaker_id": key1, "bet_id": key2, "value": key3,
                     "value_label": closing[1], "bookmaker_name": closing[2], "bet_name": closing[3],
                     "kickoff_at": as_datetime(kickoff), "opening_odd": odd_value(opening[0]),
                     "opening_at": as_datetime(first_at), "closing_odd": odd_value(closing[0]),
                     "closing_at": as_datetime(last_at), "min_odd": odd_value(low), "max_odd": odd_value(high),
                     "moves": int(count) - 1,
                     "implied_change": implied_change(odd_value(opening[0]), odd_value(closing[0]))})
    return rows


def _extreme(pick: Any, old: Any, new: float | None) -> float | None:
    values = [v for v in (odd_value(old), new) if v is not None]
    return pick(values) if values else None


def _moved(price: tuple[Any, ...], held: dict[str, Any] | None) -> dict[str, Any]:
    """A selection's movement row after one more price (KEPT_NOW row) on top of what the mart held."""
    odd, at = odd_value(price[4]), as_datetime(price[5])
    opening, opening_at = (held["opening_odd"], as_datetime(held["opening_at"])) if held else (odd, at)
    return {"fixture_id": price[0], "bookmaker_id": price[1], "bet_id": price[2], "value": price[3],
            "value_label": price[6], "bookmaker_name": price[7], "bet_name": price[8],
            "kickoff_at": as_datetime(price[9]), "opening_odd": odd_value(opening), "opening_at": opening_at,
            "closing_odd": odd, "closing_at": at, "min_odd": _extreme(min, held and held["min_odd"], odd),
            "max_odd": _extreme(max, held and held["max_odd"], odd), "moves": held["moves"] + 1 if held else 0,
            "implied_change": implied_change(odd_value(opening), odd)}


def _before(at: Any, moment: Any) -> bool:
    """Whether `at` is at or before `moment` (both as either backend returns them)."""
    first, second = as_datetime(at), as_datetime(moment)
    return first is not None and second is not None and first <= second


def _held(db: Database, fixtures: list[int]) -> dict[tuple[Any, ...], dict[str, Any]]:
    test, params = among(db, fixtures)
    rows = db.fetchall(HELD.format(keys=test), params)
    return {tuple(row[:4]): dict(zip(HELD_FIELDS, row[4:], strict=True)) for row in rows}


def _incremental(db: Database, fixtures: list[int], now: datetime) -> tuple[list[dict[str, Any]], list[tuple]]:
    """Rows moved by the prices kept now, from the mart's own rows; and the selections whose kick-off changed
    since they were summarised (those are summarised again from all their prices)."""
    test, params = among(db, fixtures)
    prices = db.fetchall(KEPT_NOW.format(keys=test), [*params, now, False])
    held = _held(db, sorted({p[0] for p in prices})) if prices else {}
    rows, again = [], []
    for price in prices:
        old, kickoff, at = held.get(tuple(price[:4])), as_datetime(price[9]), price[5]
        if old is not None and as_datetime(old["kickoff_at"]) != kickoff:
            again.append(tuple(price[:4]))
        elif (kickoff is None or _before(at, kickoff)) and (old is None or not _before(at, old["closing_at"])):
            rows.append(_moved(price, old))  # a price already summarised (a rebuild over held rows) is skipped
    return rows, again


def refresh_odds_movement(db: Database, keys: set[Any], now: datetime) -> int:
    """Move the touched selections on by the prices this response kept; fixtures not summarised yet (a
    rebuild after the mart was lost) and changed kick-offs are summarised from all their kept prices."""
    written = 0
    for chunk in chunks(keys):
        test, params = among(db, chunk)
        summarised = {r[0] for r in db.fetchall(SUMMARISED.format(keys=test), params)}
        fresh = [f for f in chunk if f not in summarised]
        rows, again = _incremental(db, sorted(summarised), now) if summarised else ([], [])
        if fresh:
            test, params = among(db, fresh)
            again += [tuple(r) for r in db.fetchall(ALL_SERIES.format(keys=test), [*params, False])]
        for part in chunks(again, 200):
            full = _summaries(db, part)
            rows += full
            for gone in set(part) - {tuple(row[k] for k in MOVEMENT_KEY) for row in full}:
                written += max(0, db.execute(DROP_MOVEMENT, gone))  # no price before a kick-off brought forward
        written += upsert(db, "mart.odds_movement", MOVEMENT_KEY, rows, now)
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
