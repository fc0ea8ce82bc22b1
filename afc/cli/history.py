"""`afc history odds` and `afc history standings`: what afc kept that the API does not."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Annotated, Any

import typer

from afc.cli.app import DbOption, JsonOption, app, console, open_collector, within, write_json
from afc.config.bounds import FIRST_SEASON, LAST_SEASON

history_app = typer.Typer(no_args_is_help=True,
                          help="Odds movement and the table after each round (the API keeps neither).")
app.add_typer(history_app, name="history")
ID_MAX = 2**31 - 1
SPARKS = "▁▂▃▄▅▆▇█"
SPARK_POINTS = 24  # the newest prices a sparkline shows


def sparkline(path: list[float]) -> str:
    """The newest prices as block characters, lowest ▁ to highest █."""
    points = path[-SPARK_POINTS:]
    if not points:
        return ""
    low, high = min(points), max(points)
    scale = (len(SPARKS) - 1) / (high - low) if high > low else 0
    return "".join(SPARKS[round((p - low) * scale)] for p in points)


def _price(odd: Any, at: Any) -> str:
    return f"{odd} ({at:%d %b %H:%M})" if odd is not None and at is not None else str(odd)


@history_app.command("odds")
def history_odds(
    fixture: Annotated[int, typer.Option("--fixture", help="API fixture id.", callback=within(1, ID_MAX))],
    bookmaker: Annotated[int | None, typer.Option("--bookmaker", help="Only this bookmaker id (e.g. 8, Bet365).",
                                                  callback=within(0, ID_MAX))] = None,
    bet: Annotated[int | None, typer.Option("--bet", help="Only this bet id (e.g. 1, Match Winner).",
                                            callback=within(1, ID_MAX))] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A fixture's odds from opening to closing (the last price before kick-off), then in play."""
    from afc.marts.history_read import odds_movement

    found = odds_movement(open_collector(db).db, fixture, bookmaker, bet)
    if as_json:
        write_json({"fixture": fixture, "selections": [asdict(s) for s in found]})
        return
    from rich.table import Table

    spark = sys.stdout.isatty()
    table = Table(box=None)
    for name in ("bookmaker", "bet", "value", "opening", "closing", "min", "max", "moves", "Δ implied", "in play"):
        table.add_column(name, no_wrap=True)
    if spark:
        table.add_column("path", no_wrap=True)
    for s in found:
        m = s.summary
        cells = [m["bookmaker_name"] or str(m["bookmaker_id"]) if not s.in_play else "in play", m["bet_name"] or
                 str(m["bet_id"]), m["value_label"] or m["value"], _price(m["opening_odd"], m["opening_at"]),
                 _price(m["closing_odd"], m["closing_at"]), str(m["min_odd"]), str(m["max_odd"]), str(m["moves"]),
                 f"{m['implied_change']:+.4f}" if m["implied_change"] is not None else "", "yes" if s.in_play else ""]
        table.add_row(*cells, *([sparkline(s.path)] if spark else []))
    console().print(table)


@history_app.command("standings")
def history_standings(
    league: Annotated[int, typer.Option("--league", help="API league id.", callback=within(1, ID_MAX))],
    season: Annotated[int, typer.Option("--season", help="Season year, e.g. 2024.",
                                        callback=within(FIRST_SEASON, LAST_SEASON))],
    round_: Annotated[int | None, typer.Option("--round", help="The matchday (default: the newest kept).",
                                               callback=within(0, 999))] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The table as it stood after a round (every group), as afc kept it."""
    from afc.marts.history_read import rounds, table_at_round

    database = open_collector(db).db
    shown, rows = table_at_round(database, league, season, round_)
    if as_json:
        write_json({"league": league, "season": season, "round": shown, "rounds": rounds(database, league, season),
                    "table": rows})
        return
    from rich.table import Table

    out = console()
    for group in dict.fromkeys(r["group"] for r in rows):
        table = Table(title=f"{group} after round {shown}", box=None)
        for name in ("#", "team", "P", "W", "D", "L", "GF", "GA", "GD", "Pts", "form", "description"):
            table.add_column(name, no_wrap=True)
        for r in (r for r in rows if r["group"] == group):
            table.add_row(*(str(r[k]) if r[k] is not None else "" for k in (
                "rank", "team", "played", "win", "draw", "lose", "goals_for", "goals_against", "goals_diff", "points",
                "form", "description")))
        out.print(table)
