"""Reference data: countries, timezones, leagues with their seasons' coverage, teams, venues."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from afc.transform import item
from afc.transform.fields import (
    opt_bool,
    opt_date,
    opt_int,
    opt_text,
    path,
    req_int,
    req_text,
    season_of,
)
from afc.transform.model import Batch

COVERAGE_FLAGS = {
    "cov_events": ("fixtures", "events"),
    "cov_lineups": ("fixtures", "lineups"),
    "cov_statistics_fixtures": ("fixtures", "statistics_fixtures"),
    "cov_statistics_players": ("fixtures", "statistics_players"),
    "cov_standings": ("standings",),
    "cov_players": ("players",),
    "cov_top_scorers": ("top_scorers",),
    "cov_top_assists": ("top_assists",),
    "cov_top_cards": ("top_cards",),
    "cov_injuries": ("injuries",),
    "cov_predictions": ("predictions",),
    "cov_odds": ("odds",),
}


@item("countries", "teams/countries")
def country(entry: Any, params: Mapping[str, str], batch: Batch) -> None:
    """A country, keyed by name: the API repeats codes (GB for four nations)."""
    row = {"name": req_text(entry, "name"), "code": opt_text(entry.get("code")), "flag": opt_text(entry.get("flag"))}
    batch.add("core.countries", ("name",), row)


@item("timezone", objects=False)
def timezone(name: Any, params: Mapping[str, str], batch: Batch) -> None:
    """One IANA timezone name."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"timezone: expected a name, got {name!r}")
    batch.add("core.timezones", ("name",), {"name": name})


def league_stub(league: dict[str, Any], batch: Batch, country: str | None = None) -> int:
    """The minimal league row another item carries (a fixture's or a standing's league)."""
    league_id = req_int(league, "id")
    name, logo, named = league.get("name"), league.get("logo"), league.get("country")
    source = (name, logo, country, named) if _plain(name) and _plain(logo) and _plain(named) else None
    country_name = country or opt_text(named)
    if source is None or not batch.holds_stub("core.leagues", league_id, source):
        batch.add_stub("core.leagues", ("id",), {"id": league_id, "name": opt_text(name), "logo": opt_text(logo),
                                                 "country_name": country_name}, source)
    if country_name:
        flag = league.get("flag")
        if not (_plain(flag) and batch.holds_stub("core.countries", country_name, (flag,))):
            batch.add_stub("core.countries", ("name",), {"name": country_name, "flag": opt_text(flag)},
                           (flag,) if _plain(flag) else None)
    return league_id


def _plain(value: Any) -> bool:
    """Text or null: equal values of these make equal columns (unlike 0.0 and -0.0, or 1 and True)."""
    return value is None or type(value) is str


def league_season_stub(league_id: int, season: int, batch: Batch) -> None:
    """A league season known only from something that belongs to it (touched: its coverage may change)."""
    if not batch.holds_stub("core.league_seasons", (league_id, season), ()):
        batch.add_stub("core.league_seasons", ("league_id", "season"), {"league_id": league_id, "season": season},
                       ())
    batch.touch("league_season", (league_id, season))


@item("leagues")
def league(entry: Any, params: Mapping[str, str], batch: Batch) -> None:
    """A league with its country and every season's dates and coverage flags."""
    league_id = req_int(entry, "league", "id")
    country = entry.get("country") or {}
    country_name = opt_text(country.get("name"))
    if country_name:
        batch.add("core.countries", ("name",), {"name": country_name, "code": opt_text(country.get("code")),
                                                "flag": opt_text(country.get("flag"))}, stub=True)
    batch.add("core.leagues", ("id",), {
        "id": league_id, "name": opt_text(path(entry, "league", "name")),
        "type": opt_text(path(entry, "league", "type")), "logo": opt_text(path(entry, "league", "logo")),
        "country_name": country_name,
    })
    batch.touch("league", league_id)  # marts showing its name follow a rename (afc.marts.names)
    for season in entry.get("seasons") or []:
        batch.add("core.league_seasons", ("league_id", "season"), league_season_row(league_id, season))
        batch.touch("league_season", (league_id, req_int(season, "year")))


def league_season_row(league_id: int, season: dict[str, Any]) -> dict[str, Any]:
    """One season of a league: dates, current flag, and every coverage flag the API returns."""
    coverage = season.get("coverage") or {}
    row: dict[str, Any] = {
        "league_id": league_id, "season": req_int(season, "year"),
        "start_date": opt_date(season.get("start")), "end_date": opt_date(season.get("end")),
        "current": opt_bool(season.get("current")),
    }
    for column, keys in COVERAGE_FLAGS.items():
        row[column] = opt_bool(path(coverage, *keys))
    return row


def venue_row(venue: dict[str, Any], venue_id: int, country: str | None) -> dict[str, Any]:
    """A full venue row (from /venues, or the venue a /teams item carries)."""
    return {
        "id": venue_id, "name": opt_text(venue.get("name")), "address": opt_text(venue.get("address")),
        "city": opt_text(venue.get("city")), "country": opt_text(venue.get("country")) or country,
        "capacity": opt_int(venue.get("capacity")), "surface": opt_text(venue.get("surface")),
        "image": opt_text(venue.get("image")),
    }


@item("venues")
def venue(entry: Any, params: Mapping[str, str], batch: Batch) -> None:
    """A venue."""
    batch.add("core.venues", ("id",), venue_row(entry, req_int(entry, "id"), None))


def team_stub(team: Any, batch: Batch) -> int:
    """The minimal team row a fixture, standing or player statistic carries."""
    team_id = req_int(team, "id")
    name, logo = team.get("name"), team.get("logo")
    source = (name, logo) if _plain(name) and _plain(logo) else None
    if source is None or not batch.holds_stub("core.teams", team_id, source):
        batch.add_stub("core.teams", ("id",), {"id": team_id, "name": opt_text(name), "logo": opt_text(logo)}, source)
    return team_id


# /teams parameters that narrow a league season's answer to some of its teams
TEAM_FILTERS = ("id", "name", "country", "code", "venue", "search")


@item("teams")
def team(entry: Any, params: Mapping[str, str], batch: Batch) -> None:
    """A team with its venue; with league+season in the request, its membership of that season."""
    info = entry.get("team") or {}
    team_id = req_int(info, "id")
    venue = entry.get("venue") or {}
    venue_id = opt_int(venue.get("id"))
    if venue_id is not None:
        batch.add("core.venues", ("id",), venue_row(venue, venue_id, opt_text(info.get("country"))))
    batch.add("core.teams", ("id",), {
        "id": team_id, "name": opt_text(info.get("name")), "code": opt_text(info.get("code")),
        "country": opt_text(info.get("country")), "founded": opt_int(info.get("founded")),
        "national": opt_bool(info.get("national")), "logo": opt_text(info.get("logo")), "venue_id": venue_id,
    })
    batch.touch("team", team_id)  # marts showing its name follow a rename (afc.marts.names)
    league_id, season = opt_int(params.get("league")), season_of(dict(params))
    if league_id is not None and season is not None:
        batch.add("core.leagues", ("id",), {"id": league_id}, stub=True)
        league_season_stub(league_id, season, batch)
        if not any(params.get(name) for name in TEAM_FILTERS):  # the season's whole list: a team gone from it goes
            batch.replace_scope("core.team_seasons", ("league_id", "season"))
        batch.add("core.team_seasons", ("league_id", "season", "team_id"),
                  {"league_id": league_id, "season": season, "team_id": team_id})
