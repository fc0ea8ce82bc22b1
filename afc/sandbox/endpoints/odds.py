"""Odds: /odds (10 per page), /odds/mapping (100 per page), /odds/bookmakers, /odds/bets,
/odds/live and /odds/live/bets.

Pre-match odds of a fixture appear 1 to 14 days before kickoff and stay for 7 days after it;
prices move every 3 hours (each update is a new seeded draw around the model's probabilities). Live
odds move with the match: each 10-second update prices the result, over/under 2.5 and both teams to
score from the score so far and the goals still expected in the time left; suspended at half-time.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from afc.sandbox import views
from afc.sandbox.catalog import BETS, BOOKMAKERS, FINISHED_STATUSES, LEAGUE_BY_ID, LIVE_BETS, STATUS_LONG
from afc.sandbox.contract import Answer, Endpoint, Query, requires
from afc.sandbox.endpoints.matchday import _probabilities
from afc.sandbox.outcome import scoring_rates
from afc.sandbox.render import iso, league_ref
from afc.sandbox.rng import seeded, unit
from afc.sandbox.schedule import Fixture

HISTORY = timedelta(days=7)
MAJOR = (6, 8)  # Bwin and Bet365
STEP = 3 * 3600


def opens(q: Query, fx: Fixture) -> datetime:
    """When a fixture's pre-match odds first appear."""
    return fx.kickoff - timedelta(days=1 + 13 * unit(q.world.seed, "odds-open", fx.id))


def has_odds(q: Query, fx: Fixture) -> bool:
    """Whether a fixture has pre-match odds at the sandbox's now."""
    covered = LEAGUE_BY_ID[fx.league_id].coverage()["odds"] and fx.fate != "CANC"
    return covered and opens(q, fx) <= q.at <= fx.kickoff + HISTORY


def _update(q: Query, fx: Fixture) -> datetime:
    moment = min(q.at, fx.kickoff).timestamp()
    return datetime.fromtimestamp(moment - moment % STEP, UTC)


def _price(p: float, margin: float) -> str:
    return f"{max(1.01, 1 / (p * margin)):.2f}"


def _bets(q: Query, fx: Fixture, rng: random.Random) -> list[dict]:
    rates = scoring_rates(q.world.ratings(fx), neutral=fx.round == "Final")
    home, draw, away = _probabilities(rates)
    total = sum(rates)
    m = rng.uniform(1.04, 1.09)
    under = {line: sum(math.exp(-total) * total ** k / math.factorial(k) for k in range(int(line) + 1))
             for line in (1.5, 2.5, 3.5)}
    scores_both = (1 - math.exp(-rates[0])) * (1 - math.exp(-rates[1]))
    exact = [math.exp(-total) * total ** k / math.factorial(k) for k in range(7)]
    values: dict[int, list[tuple[str | int, float]]] = {
        1: [("Home", home), ("Draw", draw), ("Away", away)],
        5: [(f"{side} {line}", p if side == "Under" else 1 - p)
            for line, p in under.items() for side in ("Over", "Under")],
        8: [("Yes", scores_both), ("No", 1 - scores_both)],
        12: [("Home/Draw", home + draw), ("Home/Away", home + away), ("Draw/Away", draw + away)],
        38: [*((k, p) for k, p in enumerate(exact)), ("more 7", max(0.005, 1 - sum(exact)))],
    }
    names = dict(BETS)
    return [{"id": bet, "name": names[bet],
             "values": [{"value": v, "odd": _price(p * rng.uniform(0.97, 1.03), m)} for v, p in vals]}
            for bet, vals in values.items()]


def odds_item(q: Query, fx: Fixture) -> dict:
    """The /odds item of a fixture at its latest 3-hour update."""
    update = _update(q, fx)
    rng = seeded(q.world.seed, "odds", fx.id, int(update.timestamp()))
    shown = views.base_item(q.world, fx.id, q.at, q.get("timezone") or "UTC")["fixture"]
    major = [b for b in BOOKMAKERS if b[0] in MAJOR]  # the big books price every fixture
    books = sorted(major + rng.sample([b for b in BOOKMAKERS if b[0] not in MAJOR], rng.randint(2, 5)))
    stamp = int(update.timestamp())
    bookmakers: list[dict[str, Any]] = [
        {"id": bid, "name": name, "bets": _bets(q, fx, seeded(q.world.seed, "book", fx.id, bid, stamp))}
        for bid, name in books]
    if q.get("bookmaker"):
        bookmakers = [b for b in bookmakers if b["id"] == q.int("bookmaker")]
    if q.get("bet"):
        bookmakers = [{**b, "bets": [x for x in b["bets"] if x["id"] == q.int("bet")]} for b in bookmakers]
        bookmakers = [b for b in bookmakers if b["bets"]]
    return {"league": league_ref(fx.league_id, fx.season),
            "fixture": {k: shown[k] for k in ("id", "timezone", "date", "timestamp")},
            "update": iso(update, UTC), "bookmakers": bookmakers}


def _scope(q: Query) -> list[Fixture]:
    fixture, league = q.int("fixture"), q.int("league")
    if fixture is not None:
        return [f for f in [q.world.fixture(fixture)] if f]
    if league is not None:  # a league comes with its season (the rules say so)
        return q.world.fixtures(league, q.required_int("season")) if league in q.world.leagues else []
    return q.world.fixtures_between(q.at - HISTORY - timedelta(days=1), q.at + timedelta(days=15))


def odds(q: Query) -> Answer:
    """/odds by fixture, league+season or date; filtered by bookmaker and bet."""
    items = []
    for fx in _scope(q):
        if not has_odds(q, fx):
            continue
        item = odds_item(q, fx)
        if (q.get("date") and item["fixture"]["date"][:10] != q.get("date")) or not item["bookmakers"]:
            continue
        items.append(item)
    return Answer(sorted(items, key=lambda i: (i["fixture"]["timestamp"], i["fixture"]["id"])))


def mapping(q: Query) -> Answer:
    """/odds/mapping: fixtures that have pre-match odds now."""
    pool = q.world.fixtures_between(q.at - HISTORY - timedelta(days=1), q.at + timedelta(days=15))
    return Answer([{"league": {"id": fx.league_id, "season": fx.season},
                    "fixture": {"id": fx.id, "date": iso(fx.kickoff, UTC), "timestamp": int(fx.kickoff.timestamp())},
                    "update": iso(_update(q, fx), UTC)} for fx in pool if has_odds(q, fx)])


def _named(entries: tuple[tuple[int, str], ...]) -> Callable[[Query], Answer]:
    def handler(q: Query) -> Answer:
        found: list[dict[str, Any]] = [{"id": i, "name": n} for i, n in entries]
        if q.get("id"):
            found = [e for e in found if e["id"] == q.int("id")]
        search = q.get("search")
        if search:
            found = [e for e in found if search.lower() in e["name"].lower()]
        return Answer(found)

    handler.__doc__ = "A static id/name list filtered by `id` and `search`."
    return handler


LIVE_BEFORE = timedelta(minutes=10)  # a fixture appears on /odds/live 15-5 min before kickoff
LIVE_AFTER = timedelta(minutes=10)  # ... and drops out 5-20 min after the end
LIVE_STEP = 10  # seconds: the live prices' update cadence (the API: every 5-60 s)


def live_window(q: Query, fx: Fixture) -> bool:
    """Whether a fixture is on /odds/live at the sandbox's now (livescore leagues, not cancelled)."""
    if not q.world.livescore(fx.id) or fx.fate in ("CANC", "PST"):
        return False
    done = q.world.finished_at(fx.id)
    return fx.kickoff - LIVE_BEFORE <= q.at and (done is None or q.at <= done + LIVE_AFTER)


def _poisson(rate: float, k: int) -> float:
    return math.exp(-rate) * rate ** k / math.factorial(k)


def _live_chances(q: Query, fx: Fixture, goals: tuple[int, int], played: float) -> dict[str, float]:
    """Full-time result, over 2.5 and both-to-score chances from the score and the goals still expected."""
    left = max(0.0, 1 - played)
    rates = [r * left for r in scoring_rates(q.world.ratings(fx), neutral=fx.round == "Final")]
    more = [[_poisson(r, k) for k in range(10)] for r in rates]
    grid = [(i, j, more[0][i] * more[1][j]) for i in range(10) for j in range(10)]
    final = [(goals[0] + i, goals[1] + j, p) for i, j, p in grid]
    return {"Home": sum(p for h, a, p in final if h > a), "Draw": sum(p for h, a, p in final if h == a),
            "Away": sum(p for h, a, p in final if h < a), "Over": sum(p for h, a, p in final if h + a > 2.5),
            "Yes": sum(p for h, a, p in final if h and a)}


def _live_price(p: float, noise: float, suspended: bool) -> str:
    return "1" if suspended or p >= 0.995 else f"{max(1.001, min(251.0, noise / (max(p, 0.004) * 1.06))):.3f}"


def live_item(q: Query, fx: Fixture) -> dict:
    """One fixture's /odds/live item: prices move with the score and the time left, in 10-second steps."""
    ph = q.world.phase(fx.id, q.at)
    shown = views.base_item(q.world, fx.id, q.at, "UTC")["goals"]
    goals = (shown["home"] or 0, shown["away"] or 0)
    finished = ph.short in FINISHED_STATUSES or ph.short in ("ABD", "AWD", "WO")
    played = 1.0 if finished else min(1.0, (ph.elapsed or 0) / 90)
    chances = _live_chances(q, fx, goals, played)
    step = int(q.at.timestamp()) // LIVE_STEP
    rng = seeded(q.world.seed, "live-odds", fx.id, step)
    frozen = finished or ph.short in ("HT", "SUSP", "INT")  # the books suspend while the ball is dead
    lines = {59: [(v, "", chances[v]) for v in ("Home", "Draw", "Away")],
             36: [("Over", "2.5", chances["Over"]), ("Under", "2.5", 1 - chances["Over"])],
             69: [("Yes", "", chances["Yes"]), ("No", "", 1 - chances["Yes"])],
             20: [("Over", "9.5", 0.5), ("Under", "9.5", 0.5)]}
    odds = [{"id": bid, "name": name, "values": [
        {"value": v, "odd": _live_price(p, rng.uniform(0.98, 1.02), frozen), "handicap": h or None,
         "main": True if h else None, "suspended": frozen} for v, h, p in lines[bid]]}
        for bid, name in LIVE_BETS if not q.get("bet") or bid == q.int("bet")]
    seconds = (ph.clock or 0) % 60 if ph.clock is not None and not math.isinf(ph.clock) else 0
    return {"fixture": {"id": fx.id, "status": {"long": STATUS_LONG.get(ph.short, ph.short), "elapsed": ph.elapsed,
                                                 "seconds": f"{ph.elapsed or 0}:{int(seconds):02d}"}},
            "league": {"id": fx.league_id, "season": fx.season},
            "teams": {"home": {"id": fx.home_id, "goals": goals[0]}, "away": {"id": fx.away_id, "goals": goals[1]}},
            "status": {"stopped": ph.short == "HT", "blocked": frozen and not finished, "finished": finished},
            "update": iso(datetime.fromtimestamp(step * LIVE_STEP, UTC), UTC), "odds": odds}


def live(q: Query) -> Answer:
    """/odds/live: fixtures from 10 min before kickoff to 10 min after the end, prices from the score (no history)."""
    pool = q.world.fixtures_between(q.at - timedelta(hours=5), q.at + LIVE_BEFORE)
    items = [live_item(q, fx) for fx in pool if live_window(q, fx)
             and not (q.get("fixture") and fx.id != q.int("fixture"))
             and not (q.get("league") and fx.league_id != q.int("league"))]
    return Answer(sorted(items, key=lambda i: i["fixture"]["id"]))


ENDPOINTS = (
    Endpoint("odds", odds, ("fixture", "league", "season", "date", "timezone", "page", "bookmaker", "bet"),
             at_least_one=True, page_size=10,
             rules=(requires("league", "season"), requires("season", "league"))),
    Endpoint("odds/mapping", mapping, ("page",), page_size=100),
    Endpoint("odds/bookmakers", _named(BOOKMAKERS), ("id", "search"), static=True),
    Endpoint("odds/bets", _named(BETS), ("id", "search"), static=True),
    Endpoint("odds/live", live, ("fixture", "league", "bet")),
    Endpoint("odds/live/bets", _named(LIVE_BETS), ("id", "search"), static=True),
)
