"""Players: /players (paged season statistics), the top-player lists, and /players/squads."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from afc.transform import item, response
from afc.transform.fields import opt_bool, opt_date, opt_int, opt_num, opt_text, path, req_int, req_list
from afc.transform.model import Batch
from afc.transform.reference import league_season_stub, league_stub, team_stub

STATS_KEY = ("player_id", "team_id", "league_id", "season")
_CM_KG = re.compile(r"^\s*(\d+(?:\.\d+)?)")
# column -> where the API keeps it (with its own spellings: `appearences`, `commited`)
STAT_FIELDS: dict[str, tuple[str, ...]] = {
    "appearances": ("games", "appearences"), "lineups": ("games", "lineups"), "minutes": ("games", "minutes"),
    "number": ("games", "number"), "substitutes_in": ("substitutes", "in"),
    "substitutes_out": ("substitutes", "out"), "substitutes_bench": ("substitutes", "bench"),
    "shots_total": ("shots", "total"), "shots_on": ("shots", "on"), "goals": ("goals", "total"),
    "conceded": ("goals", "conceded"), "assists": ("goals", "assists"), "saves": ("goals", "saves"),
    "passes_total": ("passes", "total"), "passes_key": ("passes", "key"), "tackles": ("tackles", "total"),
    "blocks": ("tackles", "blocks"), "interceptions": ("tackles", "interceptions"),
    "duels_total": ("duels", "total"), "duels_won": ("duels", "won"), "dribbles_attempts": ("dribbles", "attempts"),
    "dribbles_success": ("dribbles", "success"), "dribbles_past": ("dribbles", "past"),
    "fouls_drawn": ("fouls", "drawn"), "fouls_committed": ("fouls", "committed"),
    "yellow_cards": ("cards", "yellow"), "yellowred_cards": ("cards", "yellowred"), "red_cards": ("cards", "red"),
    "penalty_won": ("penalty", "won"), "penalty_committed": ("penalty", "commited"),
    "penalty_scored": ("penalty", "scored"), "penalty_missed": ("penalty", "missed"),
    "penalty_saved": ("penalty", "saved"),
}
TOP_KINDS = {"players/topscorers": ("scorers", ("goals", "total")),
             "players/topassists": ("assists", ("goals", "assists")),
             "players/topyellowcards": ("yellowcards", ("cards", "yellow")),
             "players/topredcards": ("redcards", ("cards", "red"))}


def _measure(value: Any) -> int | None:
    """"188 cm" / "83 kg" / 188 as an integer (None past what an integer column holds)."""
    if isinstance(value, str):
        match = _CM_KG.match(value)
        value = float(match[1]) if match else None
    number = opt_num(value)
    return opt_int(int(number)) if number is not None else None


def player_row(player: dict[str, Any]) -> dict[str, Any]:
    """A full core.players row from a /players (or top-list) item's `player`."""
    return {
        "id": req_int(player, "id"), "name": opt_text(player.get("name")),
        "firstname": opt_text(player.get("firstname")), "lastname": opt_text(player.get("lastname")),
        "age": opt_int(player.get("age")), "birth_date": opt_date(path(player, "birth", "date")),
        "birth_place": opt_text(path(player, "birth", "place")),
        "birth_country": opt_text(path(player, "birth", "country")),
        "nationality": opt_text(player.get("nationality")), "height_cm": _measure(player.get("height")),
        "weight_kg": _measure(player.get("weight")), "injured": opt_bool(player.get("injured")),
        "photo": opt_text(player.get("photo")),
    }


def player_stub(player: Any, batch: Batch) -> int:
    """The minimal player row an injury, squad or top list carries."""
    player_id = req_int(player, "id")
    batch.add("core.players", ("id",), {"id": player_id, "name": opt_text(player.get("name")),
                                        "photo": opt_text(player.get("photo"))}, stub=True)
    return player_id


def season_stats(player_id: int, stats: dict[str, Any], batch: Batch) -> tuple[int, int, int]:
    """One player × team × league season row; returns its team, league and season."""
    league = stats.get("league") or {}
    league_id = league_stub(league, batch)
    season = req_int(league, "season")
    league_season_stub(league_id, season, batch)
    team_id = team_stub(stats.get("team"), batch)
    row: dict[str, Any] = {"player_id": player_id, "team_id": team_id, "league_id": league_id, "season": season,
                           "position": opt_text(path(stats, "games", "position")),
                           "rating": opt_num(path(stats, "games", "rating")),
                           "captain": opt_bool(path(stats, "games", "captain")),
                           "passes_accuracy": opt_num(path(stats, "passes", "accuracy"))}
    row.update((column, opt_int(path(stats, *where))) for column, where in STAT_FIELDS.items())
    batch.add("core.player_season_stats", STATS_KEY, row)
    return team_id, league_id, season


@item("players")
def player(entry: Any, params: Mapping[str, str], batch: Batch) -> None:
    """A player and one statistics row per team and league season (a mid-season move gives two)."""
    row = player_row(entry.get("player") or {})
    batch.add("core.players", ("id",), row)
    for stats in entry.get("statistics") or []:
        season_stats(row["id"], stats, batch)


def _top_list(endpoint: str) -> Any:
    kind, value_at = TOP_KINDS[endpoint]

    def transform(items: Any, params: Mapping[str, str], batch: Batch) -> None:
        league_id, season = req_int(params, "league"), req_int(params, "season")
        batch.add("core.leagues", ("id",), {"id": league_id}, stub=True)
        league_season_stub(league_id, season, batch)
        batch.replace_scope("core.top_players", ("league_id", "season", "kind"))
        for rank, entry in enumerate(items, start=1):
            row = player_row(entry.get("player") or {})
            batch.add("core.players", ("id",), row)
            # A player who moved within the league has one entry per team: each is a season row (the first, as
            # the list gives it, names the team ranked)
            entries = [s for s in entry.get("statistics") or [] if opt_int(path(s, "league", "id")) == league_id]
            stats = entries[0] if entries else {}
            team_id = season_stats(row["id"], stats, batch)[0] if stats else None
            for other in entries[1:]:
                season_stats(row["id"], other, batch)
            batch.add("core.top_players", ("league_id", "season", "kind", "player_id"), {
                "league_id": league_id, "season": season, "kind": kind, "player_id": row["id"], "rank": rank,
                "team_id": team_id, "value": opt_int(path(stats, *value_at))})

    transform.__doc__ = f"/{endpoint}: the ranked list (replaced as a whole) and each player's season row."
    return transform


for _endpoint in TOP_KINDS:
    response(_endpoint)(_top_list(_endpoint))


@item("players/squads")
def squad(entry: Any, params: Mapping[str, str], batch: Batch) -> None:
    """A team's current squad (replaced per team); with `player=` only that player's memberships."""
    team_id = team_stub(entry.get("team"), batch)
    members = req_list(entry, "players")
    if params.get("team") and not params.get("player"):
        batch.replace_scope("core.squads", ("team_id",))
        if not members:  # an empty squad: the members kept go
            batch.empty_scope("core.squads", ("team_id",), (team_id,))
    for member in members:
        player_id = player_stub(member, batch)
        batch.add("core.squads", ("team_id", "player_id"), {
            "team_id": team_id, "player_id": player_id, "number": opt_int(member.get("number")),
            "position": opt_text(member.get("position"))})
