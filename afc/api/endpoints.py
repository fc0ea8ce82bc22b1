"""The API's endpoints and the parameters each accepts (reference §4)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    """One API endpoint."""

    name: str
    params: frozenset[str]
    page_size: int | None = None  # only four endpoints page


def _spec(name: str, params: str, page_size: int | None = None) -> Endpoint:
    return Endpoint(name, frozenset(params.split()), page_size)


ENDPOINTS: dict[str, Endpoint] = {e.name: e for e in (
    _spec("status", ""),
    _spec("timezone", ""),
    _spec("countries", "name code search"),
    _spec("leagues", "id name country code season team type current search last"),
    _spec("leagues/seasons", ""),
    _spec("teams", "id name league season country code venue search"),
    _spec("teams/statistics", "league season team date"),
    _spec("teams/seasons", "team"),
    _spec("teams/countries", ""),
    _spec("venues", "id name city country search"),
    _spec("standings", "league season team"),
    _spec("fixtures/rounds", "league season current dates timezone"),
    _spec("fixtures", "id ids live date league season team last next from to round status venue timezone"),
    _spec("fixtures/headtohead", "h2h date league season last next from to status venue timezone"),
    _spec("fixtures/statistics", "fixture team type half"),
    _spec("fixtures/events", "fixture team player type"),
    _spec("fixtures/lineups", "fixture team player type"),
    _spec("fixtures/players", "fixture team"),
    _spec("injuries", "league season fixture team player date ids timezone"),
    _spec("predictions", "fixture"),
    _spec("coachs", "id team search"),
    _spec("players/seasons", "player"),
    _spec("players/profiles", "player search", 250),
    _spec("players", "id team league season search", 20),
    _spec("players/squads", "team player"),
    _spec("players/teams", "player"),
    _spec("players/topscorers", "league season"),
    _spec("players/topassists", "league season"),
    _spec("players/topyellowcards", "league season"),
    _spec("players/topredcards", "league season"),
    _spec("transfers", "player team"),
    _spec("trophies", "player players coach coachs"),
    _spec("sidelined", "player players coach coachs"),
    _spec("odds/live", "fixture league bet"),
    _spec("odds/live/bets", "id search"),
    _spec("odds", "fixture league season date timezone bookmaker bet", 10),
    _spec("odds/mapping", "", 100),
    _spec("odds/bookmakers", "id search"),
    _spec("odds/bets", "id search"),
)}
