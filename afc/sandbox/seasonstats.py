"""Season statistics per player and club (/players, top scorers): sums of the finished match sheets.

Every player registered with a club in a league-season gets an entry, with nulls where he never
played (as the real API does); a player loaned in January has one entry per club.
"""

from __future__ import annotations

import operator
from collections import Counter
from datetime import datetime

from afc.sandbox.people import Player
from afc.sandbox.render import league_ref
from afc.sandbox.sheets import Line, rating, tally
from afc.sandbox.tables import finished
from afc.sandbox.truth import Truth

FIELDS = ("apps", "lineups", "minutes", "rating_sum", "rated", "sub_in", "sub_out", "bench", "shots", "on", "goals",
          "conceded", "assists", "saves", "passes", "key", "accurate", "tackles", "blocks", "interceptions", "duels",
          "won", "dribbles", "success", "past", "drawn", "committed", "yellow", "red", "pen_scored", "pen_missed")
BENCH = tuple(int(f == "bench") for f in FIELDS)  # an unused substitute: on the bench, nothing else


def _numbers(ln: Line, subs_off: set[int]) -> tuple[int, ...]:
    """One match sheet line as a tuple in FIELDS order."""
    if not ln.minutes:
        return BENCH
    c, t = ln.counts, ln.tally
    goals = t["Normal Goal"] + t["Penalty"]
    rated = rating(ln)
    return (1, int(ln.sheet.starter), ln.minutes, round(float(rated) * 1000) if rated else 0, 1 if rated else 0,
            int(not ln.sheet.starter), int(ln.sheet.player.id in subs_off), 0, c["shots"], c["on"], goals,
            ln.conceded, t["assist"], ln.saves or 0, c["passes"], c["key"],
            round(c["passes"] * ln.sheet.accuracy / 100),
            c["tackles"], c["blocks"], c["interceptions"], c["duels"], c["won"], c["dribbles"], c["success"],
            c["past"], c["drawn"], c["committed"], t["Yellow Card"], t["Red Card"], t["Penalty"], t["Missed Penalty"])


def _contributions(world: Truth, fixture_id: int) -> list[tuple[int, int, tuple[int, ...]]]:
    """(player id, team id, numbers) for every player on a finished fixture's team sheets."""
    return world.memo.remember("contrib", fixture_id, lambda: _contribute(world, fixture_id))


def _contribute(world: Truth, fixture_id: int) -> list[tuple[int, int, tuple[int, ...]]]:
    fx = world.known_fixture(fixture_id)
    det = world.details(fixture_id)
    oc = world.outcome(fixture_id)
    lines = tally(det, list(det.events), oc.abandoned_at or (120 if oc.extra_time else 90))
    subs_off = {e.player for e in det.events if e.type == "subst" and e.player is not None}
    teams = (fx.home_id, fx.away_id)
    return [(ln.sheet.player.id, teams[ln.sheet.side], _numbers(ln, subs_off)) for ln in lines]


def registered(world: Truth, league_id: int, season: int) -> dict[tuple[int, int], Player]:
    """(player id, team id) of everyone registered with a club of the league-season, loans included."""
    regs: dict[tuple[int, int], Player] = {}
    for team in world.league_teams(league_id, season):
        for player in world.squad(team.id):
            regs[(player.id, team.id)] = player
    for loan in world.loans(league_id, season) if league_id != 2 else []:
        regs[(loan.player_id, loan.to_team)] = world.known_player(loan.player_id)
    return regs


Numbers = tuple[int, ...]  # one player's summed numbers, in FIELDS order


def season_numbers(world: Truth, league_id: int, season: int, at: datetime) -> dict[tuple[int, int], Numbers]:
    """Summed numbers per (player id, team id) over the fixtures finished by `at` (cached)."""
    done = finished(world, league_id, season, at)
    return world.memo.remember("season-numbers", (league_id, season, len(done)),
                               lambda: _sum(world, league_id, season, done))


def named(numbers: Numbers | None) -> Counter:
    """Summed numbers by field name (zero for a field never counted)."""
    return Counter(dict(zip(FIELDS, numbers, strict=True))) if numbers else Counter()


def _sum(world: Truth, league_id: int, season: int, done: list) -> dict[tuple[int, int], Numbers]:
    """The sums over `done`, from the newest sums of the league-season over fewer results: fixtures are listed in
    the order they finished, so those are a prefix of `done`, and each finished fixture is tallied once, not once
    per later result (that kept a memo of every finished fixture, growing all season)."""
    latest = world.memo["season-latest"]
    start, base = latest.get((league_id, season)) or (0, {})
    if start > len(done):  # an earlier moment than the newest sums (tests): from the first result
        start, base = 0, {}
    sums = dict(base)  # the newest sums stay as they are: they are another memo's value
    for fx in done[start:]:
        for pid, team_id, numbers in _contributions(world, fx.id):
            row = sums.get((pid, team_id))
            sums[(pid, team_id)] = numbers if row is None else tuple(map(operator.add, row, numbers))
    latest.put((league_id, season), (len(done), sums))
    return sums


def _nz(value: int) -> int | None:
    return value or None


def statistics_entry(world: Truth, league_id: int, season: int, team_id: int, player: Player,
                     numbers: Numbers | None) -> dict:
    """One `statistics[]` entry of a /players item."""
    n = named(numbers)
    played = n["apps"] > 0
    known = played or n["bench"] > 0
    count = (lambda k: n[k]) if known else (lambda k: None)  # noqa: E731
    rating = f"{n['rating_sum'] / n['rated'] / 1000:.6f}" if n["rated"] else None
    accuracy = round(100 * n["accurate"] / n["passes"]) if n["passes"] else None
    keeper = player.position == "Goalkeeper"
    return {
        "team": world.team(team_id).ref(),
        "league": league_ref(league_id, season),
        "games": {"appearences": count("apps"), "lineups": count("lineups"), "minutes": count("minutes"),
                  "number": None, "position": player.position, "rating": rating, "captain": False},
        "substitutes": {"in": count("sub_in"), "out": count("sub_out"), "bench": count("bench")},
        "shots": {"total": _nz(n["shots"]), "on": _nz(n["on"])},
        "goals": {"total": count("goals"), "conceded": count("conceded"), "assists": _nz(n["assists"]),
                  "saves": _nz(n["saves"]) if keeper else None},
        "passes": {"total": _nz(n["passes"]), "key": _nz(n["key"]), "accuracy": accuracy},
        "tackles": {"total": _nz(n["tackles"]), "blocks": _nz(n["blocks"]), "interceptions": _nz(n["interceptions"])},
        "duels": {"total": _nz(n["duels"]), "won": _nz(n["won"])},
        "dribbles": {"attempts": _nz(n["dribbles"]), "success": _nz(n["success"]), "past": None},
        "fouls": {"drawn": _nz(n["drawn"]), "committed": _nz(n["committed"])},
        "cards": {"yellow": count("yellow"), "yellowred": count("yellowred"), "red": count("red")},
        "penalty": {"won": None, "commited": None, "scored": count("pen_scored"), "missed": count("pen_missed"),
                    "saved": None},
    }


def player_block(world: Truth, player: Player, at: datetime) -> dict:
    """The `player` object of a /players item, age and injury as of `at`."""
    day = at.date()
    injured = any(s.player_id == player.id and s.start <= day <= s.end
                  for s in world.spells(player.team_id, world.current_season(0, at)))
    return {"id": player.id, "name": player.name, "firstname": player.firstname, "lastname": player.lastname,
            "age": player.age(day), "birth": {"date": player.birth.isoformat(), "place": player.place,
                                              "country": player.nationality},
            "nationality": player.nationality, "height": f"{player.height} cm", "weight": f"{player.weight} kg",
            "injured": injured, "photo": player.photo}
