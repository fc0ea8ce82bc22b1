"""/fixtures (with id, ids, live, date, league+season, team, from/to, round, status, last, next),
/fixtures/rounds and /fixtures/headtohead."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from afc.sandbox import views
from afc.sandbox.catalog import FINISHED_STATUSES, LIVE_STATUSES, UCL
from afc.sandbox.contract import Answer, Endpoint, Invalid, Query, Raw, exclusive, ids_list, requires
from afc.sandbox.schedule import Fixture

SELECTORS = ("id", "ids", "live", "date", "last", "next", "from")


def _visible(q: Query, fx: Fixture | None) -> bool:
    return fx is not None and (fx.visible_from is None or q.at >= fx.visible_from)


def _zone_name(q: Query) -> str:
    return q.get("timezone") or "UTC"


def _item(q: Query, fx: Fixture) -> dict:
    return views.base_item(q.world, fx.id, q.at, _zone_name(q))


def _season_fixtures(q: Query, leagues: Iterable[int], season: int | None) -> list[Fixture]:
    pool: list[Fixture] = []
    for league in leagues:
        for year in [season] if season else q.world.seasons(league):
            pool += q.world.fixtures(league, year) if league in q.world.leagues else []
    return pool


def _near(q: Query, first: date, last: date) -> list[Fixture]:
    """Fixtures whose shown date can fall in [first, last] (postponed ones show their old date)."""
    pool = []
    margin, day = timedelta(days=40), timedelta(days=1)  # postponed fixtures show a date weeks from their kickoff
    for league in q.world.league_defs:
        for season in q.world.seasons(league.id):
            if date(season, 7, 1) <= last + margin and first - margin <= date(season + 1, 7, 31):
                pool += q.world.fixtures_dated(league.id, season, first - day, last + day)
    return pool


def _pool(q: Query) -> list[Fixture]:
    season, team, league = q.int("season"), q.int("team"), q.int("league")
    if league is not None:
        return _season_fixtures(q, [league], season)
    if team is not None:
        leagues = [lg for lg in q.world.leagues
                   if any(t.id == team for y in ([season] if season else q.world.seasons(lg))
                          for t in q.world.league_teams(lg, y))]
        return _season_fixtures(q, leagues, season)
    day, first = q.get("date"), q.get("from")
    if day:
        return _near(q, date.fromisoformat(day), date.fromisoformat(day))
    if first:
        return _near(q, date.fromisoformat(first), date.fromisoformat(q.required("to")))
    return _season_fixtures(q, list(q.world.leagues), season)


CHECKS = (  # parameter -> test of (fixture, its item now, the parameter's value)
    ("team", lambda fx, item, v: int(v) in (fx.home_id, fx.away_id)),
    ("date", lambda fx, item, v: item["fixture"]["date"][:10] == v),
    ("from", lambda fx, item, v: item["fixture"]["date"][:10] >= v),
    ("to", lambda fx, item, v: item["fixture"]["date"][:10] <= v),
    ("round", lambda fx, item, v: fx.round == v),
    ("status", lambda fx, item, v: item["fixture"]["status"]["short"] in v.upper().split("-")),
    ("venue", lambda fx, item, v: fx.venue_id == int(v)),
    ("league", lambda fx, item, v: fx.league_id == int(v)),
    ("season", lambda fx, item, v: fx.season == int(v)),
)


def _chosen(q: Query, pool: list[Fixture]) -> list[Fixture]:
    """Filter `pool` by the query, apply `last`/`next`, and sort as the API does."""
    checks = [(check, q.get(name)) for name, check in CHECKS if q.get(name) is not None]
    rows = [(fx, _item(q, fx)) for fx in pool if _visible(q, fx)]
    rows = [(fx, item) for fx, item in rows if all(check(fx, item, value) for check, value in checks)]
    rows.sort(key=lambda r: (r[1]["fixture"]["timestamp"], r[0].id))
    last = q.int("last")
    if last is not None:
        done = [fx for fx, item in rows if item["fixture"]["status"]["short"] in FINISHED_STATUSES]
        return list(reversed(done[-last:])) if last else []
    if q.get("next"):
        ahead = [fx for fx, item in rows if item["fixture"]["status"]["short"] in ("NS", "TBD")
                 and item["fixture"]["timestamp"] >= q.at.timestamp()]
        return ahead[:q.int("next")]
    return [fx for fx, _ in rows]


def select(q: Query, pool: list[Fixture]) -> Raw:
    """The chosen fixtures' items, as cached JSON text."""
    return Raw(views.item_json(q.world, fx.id, q.at, _zone_name(q)) for fx in _chosen(q, pool))


def _live(q: Query) -> Raw:
    raw = q.required("live")
    leagues = None if raw.lower() == "all" else [int(x) for x in raw.split("-") if x.isdigit()]
    if raw.lower() != "all" and not leagues:
        raise Invalid({"live": "The Live field must contain 'all' or league ids separated by a dash."})
    pool = q.world.fixtures_between(q.at - timedelta(hours=4), q.at + timedelta(minutes=1), leagues)
    playing = [fx for fx in pool if q.at < q.world.over_by(fx.id) and q.world.phase(fx.id, q.at).short in LIVE_STATUSES]
    return Raw(views.state_json(q.world, fx.id, q.at, _zone_name(q), ("events",)) for fx in playing)


def fixtures(q: Query) -> Answer:
    """/fixtures: `id`/`ids` embed all details, `live` embeds events, the rest is one list."""
    if q.get("live"):
        return Answer(_live(q))
    one = q.int("id")
    if one is not None or q.get("ids"):
        ids = [one] if one is not None else ids_list(q, "ids")
        found = [fx for fx in map(q.world.fixture, ids) if fx is not None and _visible(q, fx)]
        return Answer(Raw(views.state_json(q.world, fx.id, q.at, _zone_name(q), views.ALL_SECTIONS) for fx in found))
    return Answer(select(q, _pool(q)))


def _needs_season(q: Query) -> None:
    if (q.get("league") or q.get("team")) and not q.get("season") and not any(q.get(s) for s in SELECTORS):
        raise Invalid({"season": "The Season field is required."})


def rounds(q: Query) -> Answer:
    """/fixtures/rounds: round names in order; `current=true` the round being played; `dates=true` with dates."""
    pool = [fx for fx in _season_fixtures(q, [q.required_int("league")], q.int("season")) if _visible(q, fx)]
    by_round: dict[str, list[dict]] = {}
    for fx in sorted(pool, key=lambda f: ((f.planned or f.kickoff), f.id)):
        by_round.setdefault(fx.round, []).append(_item(q, fx))
    names = list(by_round)
    if q.flag("current"):
        waiting = [n for n in names if any(i["fixture"]["status"]["short"] not in FINISHED_STATUSES | {"CANC", "ABD"}
                                           for i in by_round[n])]
        names = waiting[:1] or names[-1:]
    if q.flag("dates"):
        return Answer([{"round": n, "dates": sorted({i["fixture"]["date"][:10] for i in by_round[n]})} for n in names])
    return Answer(names)


def headtohead(q: Query) -> Answer:
    """/fixtures/headtohead?h2h=A-B across every league and season both teams played."""
    parts = (q.get("h2h") or "").split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise Invalid({"h2h": "The H2h field must contain two team ids separated by a dash."})
    pair = {int(parts[0]), int(parts[1])}
    if not all(q.world.has_team(t) for t in pair):
        return Answer([])
    domestic = {q.world.team(t).league_id for t in pair}
    leagues = [UCL] + (list(domestic) if len(domestic) == 1 else [])
    pool = [fx for fx in _season_fixtures(q, leagues, None) if {fx.home_id, fx.away_id} == pair]
    return Answer(select(q, pool))


FIXTURE_PARAMS = ("id", "ids", "live", "date", "league", "season", "team", "last", "next", "from", "to", "round",
                  "status", "venue", "timezone")
ENDPOINTS = (
    Endpoint("fixtures", fixtures, FIXTURE_PARAMS, at_least_one=True,
             rules=(exclusive("id", "live", "The Id field cannot be used with live field."),
                    exclusive("ids", "live", "The Ids field cannot be used with live field."),
                    requires("from", "to"), requires("to", "from"), _needs_season)),
    Endpoint("fixtures/rounds", rounds, ("league", "season", "current", "dates", "timezone"),
             required=("league", "season")),
    Endpoint("fixtures/headtohead", headtohead, ("h2h", "date", "league", "season", "last", "next", "from", "to",
                                                 "status", "venue", "timezone"),
             required=("h2h",), rules=(requires("from", "to"), requires("to", "from"))),
)
