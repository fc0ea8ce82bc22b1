"""Conformance: the sandbox answers with the same structure as the real API's recordings.

For every successful recording in shared/api-samples (errors/ and headers/ aside; docs_examples
included) the same endpoint is asked of the sandbox with equivalent parameters (ids and seasons
of the sandbox world) and the structures are compared path by path:

1. every key of the recording exists in the sandbox answer (at every level; list items are
   compared as the union of their structures);
2. the sandbox adds no key that no recording of that endpoint has, except the fields the
   reference documents as newer (NEWER);
3. types are compatible: ints and floats are numbers; null is allowed where the recordings
   have null (or where the reference documents it, NULLABLE); int and str mix only where the
   real API itself mixes them (MIXED).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from afc.sandbox import SandboxConfig, start_sandbox
from afc.sandbox.catalog import FINISHED_STATUSES
from afc.sandbox.tables import standings
from afc.sandbox.testing import api_client, find_fixture, frozen_clock
from tests.conftest import SAMPLES

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"no recordings at {SAMPLES}")
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
SKIP_DIRS = {"errors", "headers"}
NEWER = (  # documented by the reference, absent from the older recordings
    ".response.goals.for.under_over", ".response.goals.against.under_over",
    ".response[].h2h[].fixture.status.extra", ".response[].h2h[].league.standings",
)
QUIRKS = ("..",)  # an empty-string key: one recording has a card bucket "" (a card without a minute)
NULLABLE = (  # null in the API when there is nothing to report; the recordings show it in sibling keys
    ".minute.", ".cards.yellow.", ".cards.red.",  # time buckets without a goal or card
    ".biggest.wins.", ".biggest.loses.",  # no such win or loss yet
)
MIXED = (".value",)  # odds `value` and statistics `value` mix numbers and strings in real data


def load(path: Path) -> dict:
    text = path.read_text(encoding="utf-8-sig")
    return json.loads(text[text.index("{"):].rstrip().rstrip(";"))


def recordings() -> list[Path]:
    if not SAMPLES.is_dir():
        return []
    found = []
    for path in sorted(SAMPLES.rglob("*")):
        if path.suffix in (".json", ".js") and path.parent.name not in SKIP_DIRS:
            body = load(path)
            if not body.get("errors"):
                found.append(path)
    return found


def shape(value: object, path: str = "", out: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    """path -> set of type names, lists collapsed to `[]` (the union of their items)."""
    out = {} if out is None else out
    name = "null" if value is None else "bool" if isinstance(value, bool) else \
        "number" if isinstance(value, int | float) else type(value).__name__
    out.setdefault(path, set()).add(name)
    if isinstance(value, dict):
        for key, item in value.items():
            shape(item, f"{path}.{key}", out)
    elif isinstance(value, list):
        for item in value:
            shape(item, f"{path}[]", out)
    return out


class Adapter:
    """Turns a recording's parameters into equivalent ones for the sandbox world."""

    def __init__(self, world, year: int):
        self.world, self.year = world, year
        done = lambda fx: world.phase(fx.id, NOW).short in FINISHED_STATUSES  # noqa: E731
        self.finished = find_fixture(world, lambda f: done(f) and 33 in (f.home_id, f.away_id)
                                     and world.outcome(f.id).final[0] > 0, [39], [year - 1])
        self.penalties = [f.id for f in world.fixtures(2, year - 1) if world.timeline(f.id).final_status()[0] == "PEN"]
        self.upcoming = find_fixture(world, lambda f: NOW + timedelta(hours=2) < f.kickoff < NOW + timedelta(hours=30)
                                     and f.fate == "", seasons=[year])
        self.injured = find_fixture(world, lambda f: done(f) and len(world.absences(f.id)) >= 2, [78], [year])
        self.loan = world.loans(39, year - 1)[0].player_id
        champion = standings(world, 39, year - 1, NOW)[0][0]["team"]["id"]
        self.champion = world.squad(champion)[0].id
        self.sidelined = world.spells(33, year - 1)[0].player_id
        today = lambda f: f.kickoff.date() == NOW.date() and f.fate == "" and f.league_id != 144  # noqa: E731
        self.live = find_fixture(world, today, seasons=[year])

    def params(self, get: str, params: dict | list) -> dict[str, str]:
        params = dict(params or {})
        out = {}
        for name, value in params.items():
            out[name] = self.value(get, name, value, params)
        return out

    def value(self, get: str, name: str, value: str, params: dict) -> str:
        y, w = self.year, self.world
        if name == "league":  # player statistics of one league-season are shared by every players test
            return value if int(value) in w.leagues and not get.startswith("players") else "39"
        if name == "season":
            return str(y if "NS" in params.get("status", "") or "date" in params else y - 1)
        if name == "team":
            return value if w.has_team(int(value)) else "33"
        if name == "id" and get == "fixtures":
            return str(self.finished.id)
        if name == "id" and get == "teams":
            return "33"
        if name == "ids":
            return "-".join(map(str, self.penalties[:2]))
        if name == "fixture":
            return str({"injuries": self.injured.id, "predictions": self.upcoming.id, "odds": self.upcoming.id,
                        "odds/live": self.live.id}
                       .get(get, self.finished.id))
        if name == "player":
            return str({"transfers": self.loan, "trophies": self.champion}.get(get, self.sidelined))
        if name == "date":
            return {"injuries": self.injured.kickoff.date().isoformat(),
                    "teams/statistics": f"{y}-12-31"}.get(get, NOW.date().isoformat())
        if name == "search":
            return {"teams": "Manchester", "venues": "Nou", "coachs": w.coach(33).lastname[:4],
                    "odds/bets": "under"}.get(get, "League" if value != "WC Qualification" else value)
        if name in ("from", "to"):
            return f"{y - 4}-01-01" if name == "from" else f"{y + 1}-12-31"
        if name == "bookmaker":
            return "6"
        return value


@pytest.fixture(scope="module")
def sandbox():
    with start_sandbox(SandboxConfig(rate_limit=False), clock=frozen_clock(NOW)) as sb:
        yield sb


@pytest.fixture(scope="module")
def adapter(sandbox):
    return Adapter(sandbox.world, sandbox.world.year)


SAME_ITEMS = {  # endpoints whose items have the same shape share one family
    "players/topscorers": "players", "players/topassists": "players", "players/topyellowcards": "players",
    "players/topredcards": "players", "fixtures/headtohead": "fixtures",
}


def family_of(get: str) -> str:
    return SAME_ITEMS.get(get, get)


def _families() -> dict[str, dict[str, set[str]]]:
    families: dict[str, dict[str, set[str]]] = {}
    for path in recordings():
        body = load(path)
        for p, types in shape(body).items():
            if not p.startswith(".parameters"):
                families.setdefault(family_of(body["get"]), {}).setdefault(p, set()).update(types)
    return families


FAMILIES = _families()


def _allowed(path: str, table: tuple[str, ...]) -> bool:
    return any(path.startswith(t) or (t.startswith(".") and t in path) for t in table)


def compare(recorded: dict, answered: dict, family: dict[str, set[str]]) -> list[str]:
    """Differences between a recording and the sandbox's answer, one line each."""
    problems = []
    mine, theirs = shape(answered), shape(recorded)
    problems += [f"missing {p}" for p in theirs if p not in mine and not any(q in p + "." for q in QUIRKS)]
    problems += [f"extra {p}" for p in mine if p not in family and not _allowed(p, NEWER)
                 and not p.startswith(".parameters")]
    for p, types in mine.items():
        real = family.get(p)
        if real is None or (real == {"null"} and not types & {"dict", "list"}):
            continue  # never seen with a value: any scalar is compatible
        if "null" in types and "null" not in real and not _allowed(p, NULLABLE):
            problems.append(f"null at {p} (never null in recordings)")
        extra = types - real - {"null"}
        if extra and not ({"str", "number"} >= extra | (real - {"null"}) and _allowed(p, MIXED)):
            problems.append(f"type {sorted(types)} at {p}, recordings have {sorted(real)}")
    return problems


@pytest.mark.parametrize("path", recordings(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_recording_shape(path: Path, sandbox, adapter):
    recorded = load(path)
    params = adapter.params(recorded["get"], recorded["parameters"])
    if params.get("live") or recorded["get"] == "odds/live":
        sandbox.clock.set(adapter.live.kickoff + timedelta(minutes=25))
    try:
        with api_client(sandbox) as client:
            answered = client.get("/" + recorded["get"], params=params).json()
    finally:
        sandbox.clock.set(NOW)
    assert answered["errors"] == [], (params, answered["errors"])
    if recorded["results"]:
        assert answered["results"] > 0, f"sandbox has nothing for {recorded['get']} {params}"
    assert compare(recorded, answered, FAMILIES[family_of(recorded["get"])]) == []
