"""What surrounds a fixture: injuries, pre-match odds, predictions; and /teams/statistics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from afc.transform import after, item
from afc.transform.fields import from_iso, from_timestamp, opt_int, opt_num, opt_text, path, req_int
from afc.transform.fixtures import fixture_row
from afc.transform.history import odds_price
from afc.transform.model import Batch, Json
from afc.transform.players import player_stub
from afc.transform.reference import league_season_stub, league_stub, team_stub

ODDS_KEY = ("fixture_id", "bookmaker_id", "bet_id", "value")


def fixture_stub(fixture: Any, league_id: int | None, season: int | None, batch: Batch) -> int:
    """The fixture an injury, odd or prediction belongs to, known only by id, time and league."""
    fixture_id = req_int(fixture, "id")
    batch.add("core.fixtures", ("id",), {
        "id": fixture_id, "league_id": league_id, "season": season,
        "kickoff_at": from_timestamp(fixture.get("timestamp")) or from_iso(fixture.get("date"))}, stub=True)
    return fixture_id


def _league(entry: dict[str, Any], batch: Batch) -> tuple[int, int | None]:
    league = entry.get("league") or {}
    league_id = league_stub(league, batch)
    season = opt_int(league.get("season"))
    if season is not None:
        league_season_stub(league_id, season, batch)
    return league_id, season


@item("injuries")
def injury(entry: Any, params: Mapping[str, str], batch: Batch) -> None:
    """One player missing (or doubtful for) one fixture."""
    league_id, season = _league(entry, batch)
    fixture = entry.get("fixture") or {}
    fixture_id = fixture_stub(fixture, league_id, season, batch)
    if not (params.get("player") or params.get("team")):  # unfiltered: the fixture's list is complete
        batch.replace_scope("core.injuries", ("fixture_id",))
    batch.add("core.injuries", ("fixture_id", "player_id"), {
        "fixture_id": fixture_id, "player_id": player_stub(entry.get("player"), batch),
        "team_id": team_stub(entry.get("team"), batch), "league_id": league_id, "season": season,
        "type": opt_text(path(entry, "player", "type")), "reason": opt_text(path(entry, "player", "reason")),
        "fixture_at": from_timestamp(fixture.get("timestamp")) or from_iso(fixture.get("date")),
    })


@after("injuries")
def injuries_named(params: Mapping[str, str], batch: Batch) -> None:
    """An unfiltered answer for named fixtures (`fixture=`, `ids=`) is each one's whole list: a fixture it leaves
    out has no injuries now, and those kept for it go (with its league season touched, for coverage)."""
    if params.get("player") or params.get("team"):
        return
    named = [params["fixture"]] if params.get("fixture") else (params.get("ids") or "").split("-")
    for text in named:
        fixture_id = opt_int(text.strip()) if text.strip() else None
        if fixture_id is not None:
            batch.empty_scope("core.injuries", ("fixture_id",), (fixture_id,),
                              touch=("league_season", ("league_id", "season")))


@item("odds")
def odds(entry: Any, params: Mapping[str, str], batch: Batch) -> None:
    """Every bookmaker × bet × value of one fixture; the odd parsed, its text kept."""
    league_id, season = _league(entry, batch)
    fixture_id = fixture_stub(entry.get("fixture") or {}, league_id, season, batch)
    if not params.get("bet"):
        batch.replace_scope("core.odds", ("fixture_id",) if not params.get("bookmaker") else
                            ("fixture_id", "bookmaker_id"))
    updated = from_iso(entry.get("update"))
    for bookmaker in entry.get("bookmakers") or []:
        bookmaker_id = req_int(bookmaker, "id")
        for bet in bookmaker.get("bets") or []:
            for value in bet.get("values") or []:
                price = {
                    "fixture_id": fixture_id, "bookmaker_id": bookmaker_id, "bet_id": req_int(bet, "id"),
                    "value": value_label(value.get("value")), "bookmaker_name": opt_text(bookmaker.get("name")),
                    "bet_name": opt_text(bet.get("name")), "odd": opt_num(value.get("odd")),
                    "odd_text": opt_text(value.get("odd")), "odds_updated_at": updated}
                batch.add("core.odds", ODDS_KEY, price)
                odds_price(batch, price, in_play=False)


def value_label(value: Any) -> str:
    """A bet's value as text: the API sends `4` or `"Home"` or `"Over 2.5"`."""
    if value is None:
        raise ValueError("odds: a bet value is missing")
    return str(value)


@item("teams/statistics")
def team_statistics(entry: Any, params: Mapping[str, str], batch: Batch) -> None:
    """A team's season statistics; a `date=`-limited answer is history and stays in raw only."""
    if params.get("date"):
        return
    league_id, season = _league(entry, batch)
    season = season if season is not None else req_int(params, "season")
    batch.add("core.team_statistics", ("league_id", "season", "team_id"), {
        "league_id": league_id, "season": season, "team_id": team_stub(entry.get("team"), batch),
        "form": opt_text(entry.get("form")),
        "played": opt_int(path(entry, "fixtures", "played", "total")),
        "wins": opt_int(path(entry, "fixtures", "wins", "total")),
        "draws": opt_int(path(entry, "fixtures", "draws", "total")),
        "loses": opt_int(path(entry, "fixtures", "loses", "total")),
        "goals_for": opt_int(path(entry, "goals", "for", "total", "total")),
        "goals_against": opt_int(path(entry, "goals", "against", "total", "total")),
        "clean_sheets": opt_int(path(entry, "clean_sheet", "total")),
        "failed_to_score": opt_int(path(entry, "failed_to_score", "total")),
        "stats": Json(entry),
    })


@item("predictions")
def prediction(entry: Any, params: Mapping[str, str], batch: Batch) -> None:
    """The API's prediction for one fixture ("45%" parsed); its head-to-head fixtures are stored too."""
    league_id, season = _league(entry, batch)
    fixture_id = req_int(params, "fixture")
    home, away = team_stub(path(entry, "teams", "home"), batch), team_stub(path(entry, "teams", "away"), batch)
    batch.add("core.fixtures", ("id",), {"id": fixture_id, "league_id": league_id, "season": season,
                                         "home_team_id": home, "away_team_id": away}, stub=True)
    for h2h in entry.get("h2h") or []:
        fixture_row(h2h, batch)
    prediction = entry.get("predictions") or {}
    batch.add("core.predictions", ("fixture_id",), {
        "fixture_id": fixture_id, "winner_team_id": opt_int(path(prediction, "winner", "id")),
        "advice": opt_text(prediction.get("advice")),
        "percent_home": opt_num(path(prediction, "percent", "home")),
        "percent_draw": opt_num(path(prediction, "percent", "draw")),
        "percent_away": opt_num(path(prediction, "percent", "away")),
        "data": Json({k: v for k, v in entry.items() if k != "h2h"}),
    })
    batch.touch("fixture", fixture_id)  # the daily dashboard shows the advice
