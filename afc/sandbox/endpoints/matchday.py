"""Around a match: /injuries (one row per player per fixture) and /predictions."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta

from afc.sandbox import views
from afc.sandbox.catalog import FINISHED_STATUSES, LEAGUE_BY_ID
from afc.sandbox.contract import Answer, Endpoint, Query, ids_list, requires
from afc.sandbox.outcome import scoring_rates
from afc.sandbox.render import league_ref
from afc.sandbox.schedule import Fixture
from afc.sandbox.teamstats import team_season

KNOWN_AHEAD = timedelta(days=3)  # injuries are listed for fixtures up to three days ahead


def _zone(q: Query) -> str:
    return q.get("timezone") or "UTC"


def _injury_scope(q: Query) -> list[Fixture]:
    world, season, league, fixture = q.world, q.int("season"), q.int("league"), q.int("fixture")
    if fixture is not None:
        return [f for f in [world.fixture(fixture)] if f]
    if q.get("ids"):
        return [f for f in map(world.fixture, ids_list(q, "ids")) if f]
    if league is not None and season:
        return world.fixtures(league, season) if league in world.leagues else []
    team, pid = q.int("team"), q.int("player")
    if team is not None or pid is not None:
        player = world.player(pid) if pid is not None else None
        team = team or (player.team_id if player else None)
        if team is None:
            return []
        year = q.required_int("season")  # a team or a player comes with its season (the rules say so)
        return [f for lg in world.league_defs for f in world.fixtures(lg.id, year) if team in (f.home_id, f.away_id)]
    day = date.fromisoformat(q.required("date"))
    return world.fixtures_between(*_day_bounds(day), [league] if league is not None else None)


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), UTC) - timedelta(hours=14)
    return start, start + timedelta(hours=52)


def injuries(q: Query) -> Answer:
    """/injuries for fixtures kicking off by three days from now, coverage permitting."""
    rows = []
    for fx in _injury_scope(q):
        if not LEAGUE_BY_ID[fx.league_id].coverage()["injuries"] or fx.kickoff > q.at + KNOWN_AHEAD:
            continue
        shown = views.base_item(q.world, fx.id, q.at, _zone(q))["fixture"]
        if q.get("date") and shown["date"][:10] != q.get("date"):
            continue
        league = league_ref(fx.league_id, fx.season)
        league = {"id": league["id"], "season": fx.season,
                  **{k: league[k] for k in ("name", "country", "logo", "flag")}}
        for player, team_id, kind, reason in q.world.absences(fx.id):
            if q.get("team") and team_id != q.int("team") or q.get("player") and player.id != q.int("player"):
                continue
            rows.append({"player": {"id": player.id, "name": player.name, "photo": player.photo, "type": kind,
                                    "reason": reason},
                         "team": q.world.team(team_id).ref(),
                         "fixture": {k: shown[k] for k in ("id", "timezone", "date", "timestamp")},
                         "league": league})
    return Answer(rows)


def _h2h(q: Query, fx: Fixture) -> list[dict]:
    pair = {fx.home_id, fx.away_id}
    leagues = {q.world.team(t).league_id for t in pair}
    pool = [f for lg in ({2} | (leagues if len(leagues) == 1 else set())) for s in q.world.seasons(lg)
            for f in q.world.fixtures(lg, s) if {f.home_id, f.away_id} == pair and f.kickoff < fx.kickoff]
    items = [views.base_item(q.world, f.id, q.at, "UTC") for f in pool]
    items = [i for i in items if i["fixture"]["status"]["short"] in FINISHED_STATUSES]
    return sorted(items, key=lambda i: -i["fixture"]["timestamp"])[:10]


def _pct(a: float, b: float) -> dict:
    share = 50.0 if a + b == 0 else 100 * a / (a + b)
    return {"home": f"{round(share)}%", "away": f"{100 - round(share)}%"}


def _last5(q: Query, fx: Fixture, team: int) -> dict:
    body = team_season(q.world, fx.league_id, fx.season, team, min(q.at, fx.kickoff))
    form = (body["form"] or "")[-5:]
    goals = body["goals"]
    played = len(form)
    scored, conceded = goals["for"]["total"]["total"], goals["against"]["total"]["total"]
    per = lambda n: f"{n / max(1, body['fixtures']['played']['total']):.1f}"  # noqa: E731
    points = sum(3 if r == "W" else 1 if r == "D" else 0 for r in form)
    for side in ("for", "against"):
        del body["goals"][side]["under_over"]  # /teams/statistics has it, predictions do not
    return {"played": played, "form": f"{round(100 * points / (3 * played)) if played else 0}%",
            "att": f"{min(100, round(60 * float(per(scored))))}%",
            "def": f"{max(0, 100 - round(50 * float(per(conceded))))}%",
            "goals": {"for": {"total": scored, "average": per(scored)},
                      "against": {"total": conceded, "average": per(conceded)}}, "_body": body}


def _probabilities(rates: tuple[float, float]) -> tuple[float, float, float]:
    p = [[math.exp(-r) * r ** k / math.factorial(k) for k in range(10)] for r in rates]
    home = sum(p[0][i] * p[1][j] for i in range(10) for j in range(10) if i > j)
    draw = sum(p[0][i] * p[1][i] for i in range(10))
    return home, draw, 1 - home - draw


def _comparison(last: list[dict], rates: tuple[float, float], chances: tuple[float, float, float],
                h2h: list[dict]) -> dict:
    share = lambda key: _pct(*(int(x[key][:-1]) for x in last))  # noqa: E731
    comparison = {"form": share("form"), "att": share("att"), "def": share("def"),
                  "poisson_distribution": _pct(chances[0], chances[2]),
                  "h2h": _pct(*(sum(1 for i in h2h if i["teams"][s]["winner"]) for s in ("home", "away"))),
                  "goals": _pct(*rates)}
    total = sum(float(c["home"][:-1]) for c in comparison.values()) / len(comparison)
    comparison["total"] = {"home": f"{total:.1f}%", "away": f"{100 - total:.1f}%"}
    return comparison


def _verdict(teams: tuple, rates: tuple[float, float], chances: tuple[float, float, float]) -> dict:
    winner = teams[0] if chances[0] >= chances[2] else teams[1]
    safe = max(chances[0], chances[2]) < 0.5
    return {"winner": {"id": winner.id, "name": winner.name, "comment": "Win or draw" if safe else "Win"},
            "win_or_draw": safe, "under_over": "+2.5" if sum(rates) > 3 else None,
            "goals": {"home": f"-{math.floor(rates[0]) + 1.5}", "away": f"-{math.floor(rates[1]) + 1.5}"},
            "advice": f"Double chance : {winner.name} or draw" if safe else f"Winner : {winner.name}",
            "percent": dict(zip(("home", "draw", "away"), (f"{round(100 * p)}%" for p in chances), strict=True))}


def predictions(q: Query) -> Answer:
    """/predictions for one fixture: probabilities from the two clubs' strengths and form."""
    fx = q.world.fixture(q.required_int("fixture"))
    if fx is None:
        return Answer([])
    rates = scoring_rates(q.world.ratings(fx), neutral=fx.round == "Final")
    chances = _probabilities(rates)
    teams = (q.world.team(fx.home_id), q.world.team(fx.away_id))
    last = [_last5(q, fx, t.id) for t in teams]
    h2h = _h2h(q, fx)
    return Answer([{
        "predictions": _verdict(teams, rates, chances),
        "league": league_ref(fx.league_id, fx.season),
        "teams": {side: {**teams[i].ref(), "last_5": {k: v for k, v in last[i].items() if k != "_body"},
                         "league": last[i]["_body"]} for i, side in enumerate(("home", "away"))},
        "comparison": _comparison(last, rates, chances, h2h),
        "h2h": h2h,
    }])


ENDPOINTS = (
    Endpoint("injuries", injuries, ("league", "season", "fixture", "team", "player", "date", "ids", "timezone"),
             at_least_one=True, rules=(requires("league", "season", "date"), requires("team", "season"),
                                       requires("player", "season"), requires("season", "league", "team", "player"))),
    Endpoint("predictions", predictions, ("fixture",), required=("fixture",)),
)
