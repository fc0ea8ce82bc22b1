"""General and reference endpoints: status, timezone, countries, leagues, leagues/seasons."""

from __future__ import annotations

from datetime import UTC, timedelta

from afc.sandbox.catalog import COUNTRIES, COUNTRY_BY_NAME, LEAGUE_BY_ID, UCL, LeagueDef, flag_url, league_logo
from afc.sandbox.contract import Answer, Endpoint, Query
from afc.sandbox.render import iso
from afc.sandbox.schedule import season_bounds
from afc.sandbox.timezones import TIMEZONES


def status(q: Query) -> Answer:
    """/status: the account, its plan and today's count (the call itself is not counted)."""
    account = q.account
    end = (q.at + timedelta(days=30)).replace(hour=23, minute=59, second=59, microsecond=0)
    return Answer({"account": {"firstname": "Sandbox", "lastname": "User", "email": "sandbox@example.com"},
                   "subscription": {"plan": account["plan"], "end": iso(end, UTC), "active": True},
                   "requests": {"current": account["current"], "limit_day": account["limit_day"]}})


def timezone(q: Query) -> Answer:
    """/timezone: every IANA name the `timezone` parameter accepts."""
    return Answer(list(TIMEZONES))


def _country(name: str, code: str | None, slug: str | None) -> dict:
    return {"name": name, "code": code, "flag": flag_url(name) if slug else None}


def countries(q: Query) -> Answer:
    """/countries filtered by `name`, `code`, `search`."""
    name, code, search = (q.get(p) for p in ("name", "code", "search"))
    items = [_country(*c) for c in COUNTRIES if c[0] != "World" or not code]
    if name:
        items = [c for c in items if c["name"].lower() == name.lower()]
    if code:
        items = [c for c in items if (c["code"] or "").lower() == code.lower()]
    if search:
        items = [c for c in items if search.lower() in c["name"].lower()]
    return Answer(items)


def season_entry(q: Query, league_id: int, year: int) -> dict:
    """One `seasons[]` entry of /leagues."""
    world = q.world
    if league_id == UCL:
        fixtures = world.fixtures(UCL, year)
        start, end = fixtures[0].kickoff.date(), fixtures[-1].kickoff.date()
    else:
        start, end = season_bounds(LEAGUE_BY_ID[league_id], year)
    return {"year": year, "start": start.isoformat(), "end": end.isoformat(),
            "current": year == world.current_season(league_id, q.at), "coverage": world.coverage(league_id, year)}


def _seasons_for(q: Query, league_id: int) -> list[int]:
    years = q.world.seasons(league_id)
    if q.get("season"):
        years = [y for y in years if y == q.int("season")]
    if q.get("current") is not None:
        want = q.flag("current")
        years = [y for y in years if (y == q.world.current_season(league_id, q.at)) == want]
    team = q.int("team")
    if team is not None:
        years = [y for y in years if any(t.id == team for t in q.world.league_teams(league_id, y))]
    return years


def _league_matches(q: Query, league: LeagueDef) -> bool:
    country = COUNTRY_BY_NAME.get(league.country, (league.country, None, None))
    checks = (
        ("id", lambda v: league.id == int(v)),
        ("name", lambda v: league.name.lower() == v.lower()),
        ("country", lambda v: league.country.lower() == v.lower()),
        ("code", lambda v: (country[1] or "").lower() == v.lower()),
        ("type", lambda v: league.type.lower() == v.lower()),
        ("search", lambda v: v.lower() in league.name.lower() or v.lower() in league.country.lower()),
    )
    return all(check(q.get(name)) for name, check in checks if q.get(name) is not None)


def leagues(q: Query) -> Answer:
    """/leagues; with `season`, `current` or `team` each item keeps only the matching seasons."""
    items: list[dict] = []
    filtered = any(q.get(p) is not None for p in ("season", "current", "team"))
    for league in q.world.league_defs:
        if not _league_matches(q, league):
            continue
        years = _seasons_for(q, league.id)
        if filtered and not years:
            continue
        _, code, slug = COUNTRY_BY_NAME.get(league.country, (league.country, None, None))
        items.append({"league": {"id": league.id, "name": league.name, "type": league.type,
                                 "logo": league_logo(league.id)},
                      "country": _country(league.country, code, slug),
                      "seasons": [season_entry(q, league.id, y) for y in years]})
    last = q.int("last")
    if last:
        items = sorted(items, key=lambda i: i["league"]["id"])[-last:]
    return Answer(items)


def leagues_seasons(q: Query) -> Answer:
    """/leagues/seasons: every season year any league has."""
    return Answer(sorted({y for league in q.world.league_defs for y in q.world.seasons(league.id)}))


ENDPOINTS = (
    Endpoint("status", status, counted=False),
    Endpoint("timezone", timezone, static=True),
    Endpoint("countries", countries, ("name", "code", "search"), static=True),
    Endpoint("leagues", leagues, ("id", "name", "country", "code", "season", "team", "type", "current", "search",
                                  "last")),
    Endpoint("leagues/seasons", leagues_seasons, static=True),
)
