"""/standings: a list of lists (one table per group or phase), replaced as a whole per league season."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from afc.errors import ItemInvalid
from afc.transform import item
from afc.transform.fields import from_iso, opt_int, opt_text, path, req_int, req_list
from afc.transform.history import standings_table
from afc.transform.model import Batch
from afc.transform.reference import league_season_stub, league_stub, team_stub

KEY = ("league_id", "season", "group_name", "team_id")


@item("standings")
def standings(entry: Any, params: Mapping[str, str], batch: Batch) -> None:
    """Every group's table of one league season; rows no longer in the answer are deleted."""
    league = entry.get("league") or {}
    league_id = league_stub(league, batch)
    season = opt_int(league.get("season")) or req_int(params, "season")
    league_season_stub(league_id, season, batch)
    whole = not params.get("team")  # `team=` answers that team's rows only: nothing to replace, no table
    if whole:
        batch.replace_scope("core.standings", ("league_id", "season"))
    for table in req_list(league, "standings"):
        if not isinstance(table, list):  # a group read as empty would lose its rows to the others' replace
            raise ItemInvalid(f"league.standings: a group's table must be a list, got {type(table).__name__}")
        rows = [standing_row(league_id, season, standing, league, batch) for standing in table]
        for row in rows:
            batch.add("core.standings", KEY, row)
        if whole:
            for group in _groups(rows):
                standings_table(batch, group)
    batch.touch("league_season", (league_id, season))


def _groups(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """A table's rows per group (one list of the API's answer may hold a group or a phase)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["group_name"], []).append(row)
    return list(groups.values())


def standing_row(league_id: int, season: int, standing: dict[str, Any], league: dict[str, Any],
                 batch: Batch) -> dict[str, Any]:
    """One team's line in one group (a table without a group name is named after its league)."""
    row: dict[str, Any] = {
        "league_id": league_id, "season": season,
        "group_name": opt_text(standing.get("group")) or opt_text(league.get("name")) or str(league_id),
        "team_id": team_stub(standing.get("team"), batch), "rank": opt_int(standing.get("rank")),
        "points": opt_int(standing.get("points")), "goals_diff": opt_int(standing.get("goalsDiff")),
        "form": opt_text(standing.get("form")), "status": opt_text(standing.get("status")),
        "description": opt_text(standing.get("description")),
    }
    for prefix, side in (("", "all"), ("home_", "home"), ("away_", "away")):
        for field in ("played", "win", "draw", "lose"):
            row[f"{prefix}{field}"] = opt_int(path(standing, side, field))
        row[f"{prefix}goals_for"] = opt_int(path(standing, side, "goals", "for"))
        row[f"{prefix}goals_against"] = opt_int(path(standing, side, "goals", "against"))
    row["standing_updated_at"] = from_iso(standing.get("update"))
    return row
