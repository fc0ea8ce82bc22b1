"""/teams/statistics: a club's season in one object, from the results it finished by a moment."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from afc.sandbox.match import formation_of
from afc.sandbox.render import league_ref
from afc.sandbox.tables import finished
from afc.sandbox.truth import Truth

BUCKETS = ("0-15", "16-30", "31-45", "46-60", "61-75", "76-90", "91-105", "106-120")
LINES = ("0.5", "1.5", "2.5", "3.5", "4.5")


def _bucket(minute: int) -> str:
    edges = (15, 30, 45, 60, 75, 90, 105)
    return BUCKETS[next((i for i, edge in enumerate(edges) if minute <= edge), 7)]


def _minutes(minutes: list[int]) -> dict:
    counts = dict.fromkeys(BUCKETS, 0)
    for minute in minutes:
        counts[_bucket(minute)] += 1
    total = len(minutes)
    return {b: {"total": n or None, "percentage": f"{100 * n / total:.2f}%" if n else None} for b, n in counts.items()}


def _hat(home: int, away: int) -> dict:
    return {"home": home, "away": away, "total": home + away}


def _average(goals: int, played: int) -> str:
    return f"{goals / played:.1f}" if played else "0.0"


def _goal_side(games: list[tuple], side: str, played: tuple[int, int]) -> dict:
    index = 0 if side == "for" else 1
    home = sum(g[index] for g in games if g[2])
    away = sum(g[index] for g in games if not g[2])
    totals = [g[0] + g[1] for g in games]
    return {
        "total": _hat(home, away),
        "average": {"home": _average(home, played[0]), "away": _average(away, played[1]),
                    "total": _average(home + away, sum(played))},
        "minute": _minutes([m for g in games for m in g[3 + index]]),
        "under_over": {line: {"over": sum(t > float(line) for t in totals),
                              "under": sum(t < float(line) for t in totals)} for line in LINES},
    }


def _streaks(results: list[str]) -> dict:
    best = {"W": 0, "D": 0, "L": 0}
    run, last = 0, ""
    for r in results:
        run = run + 1 if r == last else 1
        last = r
        best[r] = max(best[r], run)
    return {"wins": best["W"], "draws": best["D"], "loses": best["L"]}


def _biggest(games: list[tuple]) -> dict:
    def pick(home: bool, sign: int) -> str | None:
        cands = [g for g in games if g[2] == home and (g[0] - g[1]) * sign > 0]
        if not cands:
            return None
        g = max(cands, key=lambda g: ((g[0] - g[1]) * sign, g[0] + g[1]))
        return f"{g[0]}-{g[1]}" if home else f"{g[1]}-{g[0]}"

    most = lambda i, home: max((g[i] for g in games if g[2] == home), default=0)  # noqa: E731
    return {"wins": {"home": pick(True, 1), "away": pick(False, 1)},
            "loses": {"home": pick(True, -1), "away": pick(False, -1)},
            "goals": {"for": {"home": most(0, True), "away": most(0, False)},
                      "against": {"home": most(1, True), "away": most(1, False)}}}


@dataclass
class Season:
    """A club's finished games of a league-season, and what the body is computed from."""

    games: list[tuple] = field(default_factory=list)  # (scored, conceded, at home, minutes for, minutes against)
    formations: Counter = field(default_factory=Counter)
    cards: dict[str, list[int]] = field(default_factory=lambda: {"Yellow Card": [], "Red Card": []})
    penalties: list[int] = field(default_factory=lambda: [0, 0])  # scored, missed


def _season(world: Truth, league_id: int, season: int, team_id: int, at: datetime) -> Season:
    record = Season()
    for fx in finished(world, league_id, season, at):
        if team_id not in (fx.home_id, fx.away_id):
            continue
        side = 0 if fx.home_id == team_id else 1
        oc = world.outcome(fx.id)
        scored, conceded = oc.final if side == 0 else oc.final[::-1]
        record.games.append((scored, conceded, side == 0, [g.minute for g in oc.goals if g.side == side],
                             [g.minute for g in oc.goals if g.side != side]))
        record.formations[formation_of(world.seed, fx.id, side)] += 1
        for e in world.details(fx.id).events:
            if e.type == "Card" and e.side == side:
                record.cards[e.detail].append(e.minute)
        record.penalties[0] += sum(1 for g in oc.goals if g.side == side and g.detail == "Penalty")
        record.penalties[1] += sum(1 for g in oc.missed if g.side == side)
    return record


def _penalty(scored: int, missed: int) -> dict:
    taken = scored + missed
    pct = lambda n: f"{100 * n / taken:.2f}%" if taken else "0%"  # noqa: E731
    return {"scored": {"total": scored, "percentage": pct(scored)},
            "missed": {"total": missed, "percentage": pct(missed)}, "total": taken}


def team_season(world: Truth, league_id: int, season: int, team_id: int, at: datetime) -> dict:
    """The statistics body (without `league` and `team`), from fixtures finished by `at`."""
    record = _season(world, league_id, season, team_id, at)
    games = record.games
    results = ["W" if g[0] > g[1] else "D" if g[0] == g[1] else "L" for g in games]
    played = (sum(1 for g in games if g[2]), sum(1 for g in games if not g[2]))

    def count(test: Callable[[tuple], bool]) -> dict:
        return _hat(sum(1 for g in games if g[2] and test(g)), sum(1 for g in games if not g[2] and test(g)))

    return {
        "form": "".join(results) or None,
        "fixtures": {"played": _hat(*played), "wins": count(lambda g: g[0] > g[1]),
                     "draws": count(lambda g: g[0] == g[1]), "loses": count(lambda g: g[0] < g[1])},
        "goals": {"for": _goal_side(games, "for", played), "against": _goal_side(games, "against", played)},
        "biggest": {"streak": _streaks(results), **_biggest(games)},
        "clean_sheet": count(lambda g: not g[1]),
        "failed_to_score": count(lambda g: not g[0]),
        "penalty": _penalty(*record.penalties),
        "lineups": [{"formation": f, "played": n} for f, n in record.formations.most_common()],
        "cards": {"yellow": _minutes(record.cards["Yellow Card"]), "red": _minutes(record.cards["Red Card"])},
    }


def team_statistics(world: Truth, league_id: int, season: int, team_id: int, at: datetime) -> dict:
    """The /teams/statistics response object."""
    body = team_season(world, league_id, season, team_id, at)
    return {"league": league_ref(league_id, season), "team": world.team(team_id).ref(), **body}
