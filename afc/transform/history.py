"""History rows: each price of /odds and /odds/live and each group's table of /standings.

The rows carry no version: the database layer (`afc.db.history`) keeps one only when it differs
from the last one kept, so a re-fetched unchanged price or table writes nothing.
"""

from __future__ import annotations

from afc.transform.model import Batch, Row

ODDS = "core.odds_history"
ODDS_KEY = ("fixture_id", "bookmaker_id", "bet_id", "value")
STANDINGS = "core.standings_history"
STANDINGS_KEY = ("league_id", "season", "group_name", "team_id")
# The standings columns a version keeps, as core.standings names them.
TABLE_COLUMNS = ("league_id", "season", "group_name", "team_id", "rank", "points", "goals_diff", "played", "win",
                 "draw", "lose", "goals_for", "goals_against", "form", "status", "description",
                 "standing_updated_at")
IN_PLAY_BOOKMAKER = 0  # /odds/live is the API's own feed and names no bookmaker


def selection(label: str) -> str:
    """A selection's identity across fetches: its label folded, so "Home" and "home" stay one series."""
    return " ".join(label.split()).casefold()


def odds_price(batch: Batch, price: Row, *, in_play: bool) -> None:
    """One price of one selection (fixture, bookmaker, bet, value label, odd, API update time). An odd under 1
    is no price: the live feed sends "0" for a suspended line (reference §6.7), which would show as the
    selection's lowest and closing price; the series resumes with the line."""
    odd = price["odd"]
    if odd is None or odd < 1:
        return
    label = price["value"]
    batch.add(ODDS, ODDS_KEY, {
        "fixture_id": price["fixture_id"], "bookmaker_id": price["bookmaker_id"], "bet_id": price["bet_id"],
        "value": selection(label), "in_play": in_play, "value_label": label,
        "bookmaker_name": price["bookmaker_name"], "bet_name": price["bet_name"], "odd": odd,
        "odd_text": price["odd_text"], "odds_updated_at": price["odds_updated_at"]})
    if not in_play:
        batch.touch("odds_history", price["fixture_id"])


def table_round(table: list[Row]) -> int:
    """The matchday a group's table reflects: the most matches any of its teams has played."""
    return max((row["played"] or 0 for row in table), default=0)


def standings_table(batch: Batch, table: list[Row]) -> None:
    """One group's table (core.standings rows) as a version of the table after its round."""
    if not table:
        return
    matchday = table_round(table)
    for row in table:
        batch.add(STANDINGS, STANDINGS_KEY, {c: row[c] for c in TABLE_COLUMNS} | {"round": matchday})
    first = table[0]
    batch.touch("standings_history", (first["league_id"], first["season"], first["group_name"], matchday))
