"""Reading the history back: a fixture's odds movement with each selection's path, a table after a round."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from afc.db import Database, as_datetime
from afc.errors import AfcError, ConfigError
from afc.marts.history import implied_change, odd_value

# One fixture's kept prices, oldest first per selection: pre-match ones up to kick-off (all of them while
# the kick-off is unknown), in-play ones all; optionally of one bookmaker and one bet.
PRICES = """
SELECT h.fixture_id, h.bookmaker_id, h.bet_id, h.value, h.value_label, h.bookmaker_name, h.bet_name, h.odd,
       h.fetched_at, f.kickoff_at
FROM core.odds_history h LEFT JOIN core.fixtures f ON f.id = h.fixture_id
WHERE h.fixture_id = %s AND h.in_play = %s AND (h.in_play = %s OR f.kickoff_at IS NULL OR h.fetched_at <= f.kickoff_at)
  AND (CAST(%s AS integer) IS NULL OR h.bookmaker_id = %s) AND (CAST(%s AS integer) IS NULL OR h.bet_id = %s)
ORDER BY h.fixture_id, h.bookmaker_id, h.bet_id, h.value, h.fetched_at"""
ROUNDS = """
SELECT DISTINCT round FROM mart.table_by_round WHERE league_id = %(league)s AND season = %(season)s ORDER BY round"""
TABLE = """
SELECT group_name, rank, team_id, team_name, played, win, draw, lose, goals_for, goals_against, goals_diff, points,
       form, description, as_of
FROM mart.table_by_round WHERE league_id = %(league)s AND season = %(season)s AND round = %(round)s
ORDER BY group_name, rank, team_id"""
TABLE_COLUMNS = ("group", "rank", "team_id", "team", "played", "win", "draw", "lose", "goals_for", "goals_against",
                 "goals_diff", "points", "form", "description", "as_of")


class NothingKept(AfcError):
    """The history holds nothing for what was asked."""


@dataclass(frozen=True)
class Selection:
    """One selection's movement (`afc.marts.history.movement` fields) and every price it took, in order."""

    in_play: bool
    summary: dict[str, Any]
    path: list[float]


def movement(prices: list[tuple[Any, ...]]) -> dict[str, Any]:
    """One selection's path (PRICES rows, oldest first) summarised as mart.odds_movement summarises it."""
    first, last = prices[0], prices[-1]
    odds = [o for o in (odd_value(p[7]) for p in prices) if o is not None]
    opening, closing = odd_value(first[7]), odd_value(last[7])
    return {"fixture_id": first[0], "bookmaker_id": first[1], "bet_id": first[2], "value": first[3],
            "value_label": last[4], "bookmaker_name": last[5], "bet_name": last[6],
            "kickoff_at": as_datetime(last[9]), "opening_odd": opening, "opening_at": as_datetime(first[8]),
            "closing_odd": closing, "closing_at": as_datetime(last[8]), "min_odd": min(odds, default=None),
            "max_odd": max(odds, default=None), "moves": len(prices) - 1,
            "implied_change": implied_change(opening, closing)}


def selections(rows: Iterable[tuple[Any, ...]]) -> list[list[tuple[Any, ...]]]:
    """PRICES rows grouped per selection (fixture, bookmaker, bet, value), in their order."""
    grouped: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        grouped.setdefault(tuple(row[:4]), []).append(row)
    return list(grouped.values())


def _selections(db: Database, sql: str, params: list[Any], in_play: bool) -> list[Selection]:
    return [Selection(in_play, movement(prices), [float(p[7]) for p in prices if p[7] is not None])
            for prices in selections(db.fetchall(sql, params))]


def odds_movement(db: Database, fixture: int, bookmaker: int | None = None, bet: int | None = None) -> list[Selection]:
    """A fixture's pre-match selections (opening → closing at kick-off), then its in-play ones."""
    chosen = [bookmaker, bookmaker, bet, bet]
    pre, live = (_selections(db, PRICES, [fixture, in_play, True, *chosen], in_play) for in_play in (False, True))
    if not pre and not live:
        raise NothingKept(f"history odds: no odds kept for fixture {fixture}"
                          + (" with that --bookmaker/--bet" if bookmaker or bet else ""))
    return pre + live


def rounds(db: Database, league: int, season: int) -> list[int]:
    """The rounds whose table is kept for a league season."""
    return [int(r[0]) for r in db.fetchall(ROUNDS, {"league": league, "season": season})]


def table_at_round(db: Database, league: int, season: int,
                   round_: int | None = None) -> tuple[int, list[dict[str, Any]]]:
    """The table (every group) after `round_` (default: the newest round kept) and the round shown."""
    held = rounds(db, league, season)
    if not held:
        raise NothingKept(f"history standings: no table kept for league {league} season {season}")
    if round_ is None:
        round_ = held[-1]
    elif round_ not in held:
        raise ConfigError(f"history standings: --round {round_}: no table kept for it; rounds held: "
                          f"{_ranges(held)}")
    rows = db.fetchall(TABLE, {"league": league, "season": season, "round": round_})
    return round_, [dict(zip(TABLE_COLUMNS, r, strict=True)) for r in rows]


def _ranges(values: list[int]) -> str:
    """[1, 2, 3, 5] → "1-3, 5"."""
    spans: list[list[int]] = []
    for value in values:
        if spans and value == spans[-1][-1] + 1:
            spans[-1].append(value)
        else:
            spans.append([value])
    return ", ".join(f"{s[0]}-{s[-1]}" if len(s) > 1 else str(s[0]) for s in spans)
