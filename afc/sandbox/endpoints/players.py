"""Players: /players (20 per page), /players/squads, /players/seasons, /players/profiles (250 per
page), /players/teams and the four top lists."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from afc.sandbox.catalog import LEAGUE_BY_ID
from afc.sandbox.contract import Answer, Endpoint, Query, requires
from afc.sandbox.people import Player
from afc.sandbox.seasonstats import named, player_block, registered, season_numbers, statistics_entry
from afc.sandbox.tables import finished


def _leagues_of_team(q: Query, team: int, season: int) -> list[int]:
    return [lg for lg in q.world.leagues if any(t.id == team for t in q.world.league_teams(lg, season))]


def _entries(q: Query, league: int, season: int, team: int | None = None,
             player: int | None = None) -> list[tuple[Player, dict]]:
    """(player, statistics entry) for registrations of a league-season matching team/player."""
    if not LEAGUE_BY_ID[league].coverage()["players"]:
        return []
    numbers = season_numbers(q.world, league, season, q.at)
    rows = []
    for (pid, team_id), p in registered(q.world, league, season).items():
        if (team is None or team_id == team) and (player is None or pid == player):
            rows.append((p, statistics_entry(q.world, league, season, team_id, p, numbers.get((pid, team_id)))))
    return rows


def _leagues(q: Query, season: int, team: int | None, pid: int | None) -> list[int]:
    """The competitions a /players query covers."""
    league = q.int("league")
    if league is not None:
        return [league] if league in q.world.leagues else []
    if team is not None:
        return _leagues_of_team(q, team, season)
    if pid is not None:
        player = q.world.player(pid)
        return [q.world.team(player.team_id).league_id, 2] if player else []
    return list(q.world.leagues)


def _items(q: Query, leagues: list[int], season: int, team: int | None, pid: int | None) -> list[dict]:
    grouped: dict[int, tuple[Player, list[dict]]] = {}
    for league in leagues:
        for p, entry in _entries(q, league, season, team, pid):
            grouped.setdefault(p.id, (p, []))[1].append(entry)
    search = (q.get("search") or "").lower()
    return [{"player": player_block(q.world, p, q.at), "statistics": entries}
            for p, entries in (grouped[k] for k in sorted(grouped))
            if not search or search in p.name.lower() or search in p.lastname.lower()]


def players(q: Query) -> Answer:
    """/players: one item per player, one `statistics[]` entry per club and competition.

    The whole list is kept per query (without `page`), day and number of results, so walking
    the pages of a league-season computes it once.
    """
    season = q.int("season") or q.world.current_season(0, q.at)
    team, pid = q.int("team"), q.int("id")
    if season not in q.world.seasons(39):
        return Answer([])
    leagues = _leagues(q, season, team, pid)
    results = tuple(len(finished(q.world, league, season, q.at)) for league in leagues)
    key = (tuple(sorted((k, v) for k, v in q.params.items() if k != "page")), q.today, results)
    return Answer(q.world.memo.remember("players", key, lambda: _items(q, leagues, season, team, pid)))


def _squad_item(q: Query, team_id: int, members: list[Player]) -> dict:
    day = q.today
    return {"team": q.world.team(team_id).ref(),
            "players": [{"id": p.id, "name": p.name, "age": p.age(day), "number": p.number, "position": p.position,
                         "photo": p.photo} for p in members]}


def _current_team(q: Query, p: Player) -> int:
    season = q.world.current_season(0, q.at)
    for loan in q.world.loans(q.world.team(p.team_id).league_id, season):
        if loan.player_id == p.id and loan.start <= q.today < loan.end:
            return loan.to_team
    return p.team_id


def squads(q: Query) -> Answer:
    """/players/squads by `team` (its squad today) or by `player` (the club he is at)."""
    season = q.world.current_season(0, q.at)
    team = q.int("team")
    if team is not None:
        if not q.world.has_team(team):
            return Answer([])
        return Answer([_squad_item(q, team, q.world.squad_on(team, season, q.today))])
    p = q.world.player(q.required_int("player"))
    return Answer([_squad_item(q, _current_team(q, p), [p])] if p else [])


def seasons(q: Query) -> Answer:
    """/players/seasons: seasons with player data (of one player when `player` is given)."""
    pid = q.int("player")
    if pid is not None and q.world.player(pid) is None:
        return Answer([])
    return Answer(q.world.seasons(39))


def _profile(q: Query, p: Player) -> dict:
    block = player_block(q.world, p, q.at)
    del block["injured"]
    return {"player": {**block, "number": p.number, "position": p.position}}


def profiles(q: Query) -> Answer:
    """/players/profiles: everyone, or one `player`, or a `search` on the last name."""
    pid = q.int("player")
    if pid is not None:
        p = q.world.player(pid)
        return Answer([_profile(q, p)] if p else [])
    everyone = [p for t in q.world.clubs() for p in q.world.squad(t.id)]
    search = (q.get("search") or "").lower()
    return Answer([_profile(q, p) for p in everyone if search in p.lastname.lower()])


def player_teams(q: Query) -> Answer:
    """/players/teams: the clubs of a player's career with their seasons, newest first."""
    p = q.world.player(q.required_int("player"))
    if p is None:
        return Answer([])
    seasons_by_team: dict[int, set[int]] = {p.team_id: set(q.world.seasons(39))}
    league = q.world.team(p.team_id).league_id
    for season in q.world.seasons(39):
        for loan in q.world.loans(league, season):
            if loan.player_id == p.id:
                seasons_by_team.setdefault(loan.to_team, set()).add(season)
    return Answer([{"team": q.world.team(t).ref(), "seasons": sorted(s, reverse=True)}
                   for t, s in seasons_by_team.items()])


TOP = {  # endpoint -> (coverage flag, sort key over summed numbers)
    "players/topscorers": ("top_scorers", lambda n: (-n["goals"], -n["assists"], n["minutes"])),
    "players/topassists": ("top_assists", lambda n: (-n["assists"], -n["goals"], n["minutes"])),
    "players/topyellowcards": ("top_cards", lambda n: (-n["yellow"], -n["red"], n["minutes"])),
    "players/topredcards": ("top_cards", lambda n: (-n["red"], -n["yellow"], n["minutes"])),
}


def _top(endpoint: str) -> Callable[[Query], Answer]:
    flag, order = TOP[endpoint]

    def handler(q: Query) -> Answer:
        league, season = q.int("league"), q.int("season")
        if league not in q.world.leagues or season not in q.world.seasons(league) or \
                not LEAGUE_BY_ID[league].coverage()[flag]:
            return Answer([])
        numbers = season_numbers(q.world, league, season, q.at)
        totals: dict[int, Counter] = {}
        for (pid, _), n in numbers.items():
            totals.setdefault(pid, Counter()).update(named(n))
        ranked = sorted((pid for pid, n in totals.items() if order(n)[0] < 0), key=lambda p: (order(totals[p]), p))
        items = []
        for pid in ranked[:20]:
            entries = [e for _, e in _entries(q, league, season, player=pid)]
            items.append({"player": player_block(q.world, q.world.known_player(pid), q.at), "statistics": entries})
        return Answer(items)

    handler.__doc__ = f"/{endpoint}: the 20 best of the league-season."
    return handler


def _season_rule(q: Query) -> None:
    requires("season", "league", "team", "id")(q)
    requires("league", "season")(q)
    requires("team", "season")(q)
    requires("search", "league", "team")(q)


ENDPOINTS = (
    Endpoint("players", players, ("id", "team", "league", "season", "search", "page"), at_least_one=True,
             page_size=20, search_min=4, rules=(_season_rule,)),
    Endpoint("players/squads", squads, ("team", "player"), at_least_one=True),
    Endpoint("players/seasons", seasons, ("player",)),
    Endpoint("players/profiles", profiles, ("player", "search", "page"), page_size=250),
    Endpoint("players/teams", player_teams, ("player",), required=("player",)),
    *(Endpoint(path, _top(path), ("league", "season"), required=("league", "season")) for path in TOP),
)
