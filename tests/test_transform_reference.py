"""Reference-data transforms over real recorded responses."""

from __future__ import annotations

from datetime import date

from afc import transform
from tests.conftest import sample


def rows(batch, table: str, *, stub: bool = False) -> list[dict]:
    return [r for t in batch.tables() if t.table == table and t.stub == stub for r in t.rows]


def test_countries_are_keyed_by_name_because_codes_repeat():
    body = sample("countries/syurchen93__countries-full.json")
    batch = transform.run("countries", {}, body["response"])
    countries = {r["name"]: r for r in rows(batch, "core.countries")}
    assert len(countries) == 168
    gb = sorted(name for name, r in countries.items() if r["code"] == "GB")
    assert gb == ["England", "Northern-Ireland", "Scotland", "Wales"]
    assert countries["England"]["flag"] == "https://media.api-sports.io/flags/gb.svg"
    assert countries["World"]["code"] is None and batch.quarantined == []


def test_timezones():
    body = sample("timezone/syurchen93__timezones.json")
    batch = transform.run("timezone", {}, body["response"])
    names = [r["name"] for r in rows(batch, "core.timezones")]
    assert len(names) == 427 and "Europe/London" in names and names[0] == "Africa/Abidjan"


def test_leagues_carry_every_season_with_coverage_flags():
    body = sample("leagues/pilflo__leagues_id_39.json")
    batch = transform.run("leagues", {"id": "39"}, body["response"])
    league = rows(batch, "core.leagues")[0]
    assert league == {"id": 39, "name": "Premier League", "type": "League",
                      "logo": "https://media-4.api-sports.io/football/leagues/39.png", "country_name": "England"}
    seasons = {r["season"]: r for r in rows(batch, "core.league_seasons")}
    s2010 = seasons[2010]
    assert s2010["start_date"] == date(2010, 8, 14) and s2010["end_date"] == date(2011, 5, 17)
    assert s2010["cov_events"] is True and s2010["cov_statistics_fixtures"] is False
    assert s2010["cov_injuries"] is False and s2010["cov_odds"] is False and s2010["cov_predictions"] is True
    assert len(s2010) == 17  # league_id, season, dates, current and all twelve coverage flags
    assert ("league_season", (39, 2010)) in {(k, v) for k, vs in batch.touched.items() for v in vs}


def test_international_leagues_have_country_world_without_code():
    body = sample("leagues/TFM__leagues_search_WorldCup_2026-01-18_162440.json")
    batch = transform.run("leagues", {"search": "World Cup"}, body["response"])
    world_cup = next(r for r in rows(batch, "core.leagues") if r["id"] == 1)
    assert world_cup["country_name"] == "World"
    world = next(r for r in rows(batch, "core.countries", stub=True) if r["name"] == "World")
    assert world["code"] is None


def test_teams_with_venues_and_season_membership():
    body = sample("teams/footballay__39_teams_by_league.json")
    batch = transform.run("teams", {"league": "39", "season": "2023"}, body["response"])
    teams = {r["id"]: r for r in rows(batch, "core.teams")}
    assert len(teams) == 20
    assert teams[33] == {"id": 33, "name": "Manchester United", "code": "MUN", "country": "England",
                         "founded": 1878, "national": False,
                         "logo": "https://media.api-sports.io/football/teams/33.png", "venue_id": 556}
    venue = {r["id"]: r for r in rows(batch, "core.venues")}[556]
    assert venue["name"] == "Old Trafford" and venue["capacity"] == 76212 and venue["country"] == "England"
    members = rows(batch, "core.team_seasons")
    assert {(r["league_id"], r["season"]) for r in members} == {(39, 2023)} and len(members) == 20


def test_teams_without_league_params_have_no_membership():
    body = sample("teams/CSharpApiFootball__Test_TeamsInformation_Valid_Response.json")
    batch = transform.run("teams", {"id": "69"}, body["response"])
    assert rows(batch, "core.team_seasons") == [] and len(rows(batch, "core.teams")) == 1


def test_venues():
    body = sample("venues/syurchen93__venue-camp-nou.json")
    batch = transform.run("venues", {"search": "Nou"}, body["response"])
    venues = {r["id"]: r for r in rows(batch, "core.venues")}
    assert len(venues) == 42
    assert venues[1466]["city"] == "Barcelona" and venues[1466]["surface"] == "artificial turf"


def test_a_bad_item_is_quarantined_and_the_rest_lands():
    body = sample("countries/syurchen93__countries-full.json")
    items = body["response"][:3] + [{"code": "XX"}, "not an object"] + body["response"][3:5]
    batch = transform.run("countries", {}, items)
    assert len(rows(batch, "core.countries")) == 5
    assert [(q.index, q.reason) for q in batch.quarantined] == [
        (3, "name: required text, got None"), (4, "an item must be a JSON object, got a string")]


def test_endpoints_without_transform_produce_nothing():
    batch = transform.run("leagues/seasons", {}, [2020, 2021])
    assert list(batch.tables()) == [] and batch.quarantined == []
