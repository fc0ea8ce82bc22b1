"""Careers: /coachs (sic), /transfers, /trophies, /sidelined."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from afc.sandbox.catalog import LEAGUE_BY_ID, MEDIA, UCL
from afc.sandbox.contract import Answer, Endpoint, Invalid, Query, ids_list
from afc.sandbox.people import Coach, Player
from afc.sandbox.render import iso
from afc.sandbox.rng import unit
from afc.sandbox.tables import finished, standings

FEES = ("Free", "N/A", "€ 2.5M", "€ 7M", "€ 12M", "€ 18.5M", "€ 30M", "Loan")


def _coach_item(q: Query, c: Coach) -> dict:
    return {"id": c.id, "name": c.name, "firstname": c.firstname, "lastname": c.lastname, "age": _age(c.birth, q.today),
            "birth": {"date": c.birth.isoformat(), "place": c.place, "country": c.nationality},
            "nationality": c.nationality, "height": f"{c.height} cm", "weight": f"{c.weight} kg",
            "photo": f"{MEDIA}/football/coachs/{c.id}.png", "team": q.world.team(c.team_id).ref(),
            "career": [{"team": q.world.team(t).ref(), "start": s.isoformat(), "end": e.isoformat() if e else None}
                       for t, s, e in c.career]}


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def coachs(q: Query) -> Answer:
    """/coachs by `id`, `team` or `search` (the misspelling is the API's)."""
    coaches = [q.world.coach(t.id) for t in q.world.clubs()]
    checks = (("id", lambda c, v: c.id == int(v)), ("team", lambda c, v: c.team_id == int(v)),
              ("search", lambda c, v: v.lower() in c.name.lower() or v.lower() in c.lastname.lower()))
    found = [c for c in coaches if all(check(c, q.get(n)) for n, check in checks if q.get(n) is not None)]
    return Answer([_coach_item(q, c) for c in found])


def _moves(q: Query, p: Player) -> list[tuple[date, str, int, int | None]]:
    """(date, type, club in, club out) of a player's transfers known by now, newest first."""
    moves = []
    if unit(q.world.seed, "signed", p.id) < 0.4:
        others = [t for t in q.world.clubs() if t.league_id != q.world.team(p.team_id).league_id]
        seller = others[int(unit(q.world.seed, "seller", p.id) * len(others))]
        fee = FEES[int(unit(q.world.seed, "fee", p.id) * (len(FEES) - 1))]
        moves.append((date(q.world.year - 5 - int(unit(q.world.seed, "when", p.id) * 4), 7, 1), fee, p.team_id,
                      seller.id))
    league = q.world.team(p.team_id).league_id
    for season in q.world.seasons(league):
        for loan in q.world.loans(league, season):
            if loan.player_id == p.id:
                moves += [(loan.start, "Loan", loan.to_team, loan.from_team),
                          (date(loan.end.year, 7, 1), "Back from Loan", loan.from_team, loan.to_team)]
    return sorted((m for m in moves if m[0] <= q.today), reverse=True)


def _transfer_item(q: Query, p: Player, moves: list) -> dict:
    stamp = datetime.combine(moves[0][0], time(10), UTC)
    return {"player": {"id": p.id, "name": p.name}, "update": iso(stamp, UTC),
            "transfers": [{"date": d.isoformat(), "type": kind,
                           "teams": {"in": q.world.team(into).ref(), "out": q.world.team(out).ref()}}
                          for d, kind, into, out in moves]}


def transfers(q: Query) -> Answer:
    """/transfers of a `player`, or of every player who moved in or out of a `team`."""
    pid = q.int("player")
    if pid is not None:
        people = [p for p in [q.world.player(pid)] if p]
    else:
        people = [p for t in q.world.clubs() for p in q.world.squad(t.id)]
    team = q.int("team")
    items = []
    for p in people:
        moves = [m for m in _moves(q, p) if team is None or team in (m[2], m[3])]
        if moves:
            items.append(_transfer_item(q, p, moves))
    return Answer(items)


def _podium(q: Query, league: int, season: int) -> list[tuple[int, str]]:
    """(team id, place) of the first two of a completed league-season; [] while it is running."""
    fixtures = q.world.fixtures(league, season)
    if len(finished(q.world, league, season, q.at)) < len([f for f in fixtures if f.fate not in ("CANC", "ABD")]):
        return []
    if league == UCL:
        final = fixtures[-1]
        winner = q.world.final(final.id)["teams"]
        first = final.home_id if winner["home"]["winner"] else final.away_id
        second = final.away_id if first == final.home_id else final.home_id
        return [(first, "Winner"), (second, "2nd Place")]
    table = standings(q.world, league, season, q.at)[0]
    return [(table[0]["team"]["id"], "Winner"), (table[1]["team"]["id"], "2nd Place")]


def _trophies(q: Query, team_ids: set[int]) -> list[dict]:
    items = []
    played = {q.world.team(t).league_id for t in team_ids} | {UCL}
    for league in (lg for lg in q.world.league_defs if lg.id in played):
        for season in reversed(q.world.seasons(league.id)):
            for team, place in _podium(q, league.id, season):
                if team in team_ids:
                    items.append({"league": LEAGUE_BY_ID[league.id].name, "country": league.country,
                                  "season": f"{season}/{season + 1}", "place": place})
    return items


def _people(q: Query, one: str, many: str) -> list[int]:
    single = q.int(one)
    if single is not None:
        return [single]
    return ids_list(q, many) if q.get(many) else []


def _one_of(q: Query) -> None:
    if not any(q.get(p) for p in ("player", "players", "coach", "coachs")):
        raise Invalid({"required": "At least one parameter is required."})


def trophies(q: Query) -> Answer:
    """/trophies of players or coaches: titles and runner-up places of the clubs they belong to."""
    teams = {p.team_id for p in map(q.world.player, _people(q, "player", "players")) if p}
    teams |= {t.id for t in q.world.clubs() if t.coach_id in _people(q, "coach", "coachs")}
    return Answer(_trophies(q, teams))


def sidelined(q: Query) -> Answer:
    """/sidelined: a player's injuries and suspensions up to now (coaches have none)."""
    items = []
    for pid in _people(q, "player", "players"):
        p = q.world.player(pid)
        if p is None:
            continue
        for season in q.world.seasons(39):
            items += [{"type": s.reason, "start": s.start.isoformat(), "end": s.end.isoformat()}
                      for s in q.world.spells(p.team_id, season) if s.player_id == pid and s.start <= q.today]
    return Answer(sorted(items, key=lambda i: i["start"], reverse=True))


PEOPLE = ("player", "players", "coach", "coachs")
ENDPOINTS = (
    Endpoint("coachs", coachs, ("id", "team", "search"), at_least_one=True),
    Endpoint("transfers", transfers, ("player", "team"), at_least_one=True),
    Endpoint("trophies", trophies, PEOPLE, rules=(_one_of,)),
    Endpoint("sidelined", sidelined, PEOPLE, rules=(_one_of,)),
)
