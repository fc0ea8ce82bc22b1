"""Per-fixture details: /fixtures/events, /fixtures/lineups, /fixtures/statistics, /fixtures/players.

Each returns the same array `ids=` embeds, at the sandbox clock's now, filtered by its parameters.
"""

from __future__ import annotations

from afc.sandbox import views
from afc.sandbox.contract import Answer, Endpoint, Query


def _section(q: Query, name: str) -> list[dict]:
    fx = q.world.fixture(q.required_int("fixture"))
    if fx is None or (fx.visible_from is not None and q.at < fx.visible_from):
        return []
    return views.fixture_state(q.world, fx.id, q.at, "UTC", (name,))[name]


def _by_team(q: Query, items: list[dict]) -> list[dict]:
    team = q.int("team")
    return items if team is None else [i for i in items if i["team"]["id"] == team]


def events(q: Query) -> Answer:
    """/fixtures/events filtered by `team`, `player`, `type` (type compared case-insensitively)."""
    items = _by_team(q, _section(q, "events"))
    if q.get("player"):
        items = [e for e in items if e["player"]["id"] == q.int("player")]
    kind = q.get("type")
    if kind:
        items = [e for e in items if e["type"].lower() == kind.lower()]
    return Answer(items)


def lineups(q: Query) -> Answer:
    """/fixtures/lineups; `type=startxi` or `type=substitutes` keeps one of the two lists."""
    items = _by_team(q, _section(q, "lineups"))
    if q.get("player"):
        pid = q.int("player")
        items = [i for i in items if any(p["player"]["id"] == pid for p in i["startXI"] + i["substitutes"])]
    kind = (q.get("type") or "").lower()
    if kind == "startxi":
        items = [{k: v for k, v in i.items() if k != "substitutes"} for i in items]
    elif kind == "substitutes":
        items = [{k: v for k, v in i.items() if k != "startXI"} for i in items]
    return Answer(items)


def statistics(q: Query) -> Answer:
    """/fixtures/statistics; `type` keeps one statistic (`half` is accepted and returns totals)."""
    items = _by_team(q, _section(q, "statistics"))
    kind = q.get("type")
    if kind:
        wanted = kind.lower()
        items = [{**i, "statistics": [s for s in i["statistics"] if s["type"].lower() == wanted]} for i in items]
    return Answer(items)


def players(q: Query) -> Answer:
    """/fixtures/players by team."""
    return Answer(_by_team(q, _section(q, "players")))


ENDPOINTS = (
    Endpoint("fixtures/events", events, ("fixture", "team", "player", "type"), required=("fixture",)),
    Endpoint("fixtures/lineups", lineups, ("fixture", "team", "player", "type"), required=("fixture",)),
    Endpoint("fixtures/statistics", statistics, ("fixture", "team", "type", "half"), required=("fixture",)),
    Endpoint("fixtures/players", players, ("fixture", "team"), required=("fixture",)),
)
