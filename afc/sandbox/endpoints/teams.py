"""Teams, venues and standings: /teams, /teams/statistics, /teams/seasons, /teams/countries,
/venues, /standings."""

from __future__ import annotations

from datetime import UTC, datetime, time

from afc.sandbox.catalog import COUNTRIES
from afc.sandbox.contract import Answer, Endpoint, Invalid, Query, exclusive, requires
from afc.sandbox.endpoints.general import _country
from afc.sandbox.render import league_ref
from afc.sandbox.tables import standings as league_standings
from afc.sandbox.teamstats import team_statistics


def _code_rule(q: Query) -> None:
    code = q.get("code")
    if code is not None and len(code) != 3:
        raise Invalid({"code": "The Code field must contain 3 characters."})


def teams(q: Query) -> Answer:
    """/teams filtered by any combination of its parameters."""
    world = q.world
    league = q.int("league")  # a league comes with its season (the rules say so)
    pool = world.league_teams(league, q.required_int("season")) if league is not None else world.clubs()
    checks = (
        ("id", lambda t, v: t.id == int(v)),
        ("name", lambda t, v: t.name.lower() == v.lower()),
        ("country", lambda t, v: t.country.lower() == v.lower()),
        ("code", lambda t, v: t.code.lower() == v.lower()),
        ("venue", lambda t, v: t.venue.id == int(v)),
        ("search", lambda t, v: v.lower() in t.name.lower() or v.lower() in t.country.lower()),
    )
    found = [t for t in pool if all(check(t, q.get(n)) for n, check in checks if q.get(n) is not None)]
    return Answer([t.item() for t in found])


def _limit(q: Query) -> datetime:
    day = q.get("date")
    if day is None:
        return q.at
    return min(q.at, datetime.combine(datetime.fromisoformat(day).date(), time(23, 59, 59), UTC))


def teams_statistics(q: Query) -> Answer:
    """/teams/statistics: an object; `[]` when the team does not play that league-season."""
    league, season, team = q.required_int("league"), q.required_int("season"), q.required_int("team")
    if league not in q.world.leagues or all(t.id != team for t in q.world.league_teams(league, season)):
        return Answer([])
    body = team_statistics(q.world, league, season, team, _limit(q))
    return Answer(body, results=len(body))


def teams_seasons(q: Query) -> Answer:
    """/teams/seasons: the seasons a club has played."""
    return Answer(q.world.seasons(39) if q.world.has_team(q.required_int("team")) else [])


def teams_countries(q: Query) -> Answer:
    """/teams/countries: countries that have clubs."""
    names = {league.country for league in q.world.league_defs if league.type == "League"}
    return Answer([_country(*c) for c in COUNTRIES if c[0] in names])


def venues(q: Query) -> Answer:
    """/venues filtered by `id`, `name`, `city`, `country`, `search`."""
    checks = (
        ("id", lambda v, x: v.id == int(x)),
        ("name", lambda v, x: v.name.lower() == x.lower()),
        ("city", lambda v, x: v.city.lower() == x.lower()),
        ("country", lambda v, x: v.country.lower() == x.lower()),
        ("search", lambda v, x: x.lower() in v.name.lower() or x.lower() in v.city.lower()),
    )
    found = [v for v in q.world.venues() if all(check(v, q.get(n)) for n, check in checks if q.get(n) is not None)]
    return Answer([v.item() for v in found])


def _standing(q: Query, league_id: int, season: int, team: int | None) -> dict | None:
    tables = league_standings(q.world, league_id, season, q.at)
    if team is not None:
        tables = [[row for row in rows if row["team"]["id"] == team] for rows in tables]
        tables = [rows for rows in tables if rows]
    if not tables:
        return None
    return {"league": {**league_ref(league_id, season), "standings": tables}}


def standings(q: Query) -> Answer:
    """/standings: one item per league, `league.standings` one list per group."""
    season, team, league = q.required_int("season"), q.int("team"), q.int("league")
    if league is not None:
        leagues = [league] if league in q.world.leagues else []
    else:
        leagues = [lg for lg in q.world.leagues if any(t.id == team for t in q.world.league_teams(lg, season))]
    items = [_standing(q, league, season, team) for league in leagues if season in q.world.seasons(league)]
    return Answer([item for item in items if item])


ENDPOINTS = (
    Endpoint("teams", teams, ("id", "name", "league", "season", "country", "code", "venue", "search"),
             at_least_one=True, rules=(exclusive("league", "search"), requires("season", "league"),
                                       requires("league", "season"), _code_rule), static=True),
    Endpoint("teams/statistics", teams_statistics, ("league", "season", "team", "date"),
             required=("league", "season", "team")),
    Endpoint("teams/seasons", teams_seasons, ("team",), required=("team",), static=True),
    Endpoint("teams/countries", teams_countries, static=True),
    Endpoint("venues", venues, ("id", "name", "city", "country", "search"), at_least_one=True,
             rules=(exclusive("country", "search"),), static=True),
    Endpoint("standings", standings, ("league", "season", "team"), required=("season",),
             rules=(requires("season", "league", "team"),)),
)
