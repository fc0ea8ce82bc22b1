"""An answer whose `response` is not a list (null, an object, a string, a number, none at all) is unreadable: archived
and flagged, counted, and no stored scope is emptied by it, when collected or when `afc rebuild` replays it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from afc import transform
from afc.api.client import OBJECT_ANSWERS, ApiClient, Request, Response, items_problem
from afc.clock import SimClock
from afc.collect import raw, rebuild
from afc.collect import step as pipeline
from afc.collect.collector import Collector
from afc.collect.step import write_batch
from afc.config.settings import load_settings
from afc.db import Database
from afc.errors import UnreadableBody
from tests.conftest import sample, scalar
from tests.fakeapi import KEY, Answer, FakeApi
from tests.loading import AT
from tests.test_rebuild import snapshot, wipe

MISSING = object()
BAD = {"null": None, "object": {"fixture": {"id": 1}}, "string": "none", "number": 0, "missing": MISSING}
# Real answers for every scope a later answer replaces or empties: (endpoint, recorded file).
SCOPES = [
    ("fixtures", "fixtures/obissing__matches2023.json"),
    ("fixtures", "fixtures_id/footballay__fixtureByFixtureid.json"),
    ("injuries", "docs_examples/Pedrigl__Injuries.json"),
    ("standings", "standings/obissing__standings2023.json"),
    ("players/squads", "players_squads/footballay__33_squad.json"),
    ("players/topassists", "players_topassists/syurchen93__player-top-assists-bundes-2023.json"),
    ("fixtures/statistics", "fixtures_statistics/tkilper__fixture_stats_2023_09_06_17_59_17.json"),
    ("fixtures/lineups", "fixtures_lineups/tkilper__fixture_lineups_2023_09_06_18_12_50.json"),
    ("fixtures/events", "fixtures_events/tkilper__fixture_events_2023_09_06_18_06_32.json"),
    ("fixtures/players", "fixtures_players/syurchen93__fixture-player-stats.json"),
    ("odds", "docs_examples/DoBet__odds.json"),
    ("odds/live", "docs_examples/Pedrigl__LiveOdds.json"),
    ("teams/statistics", "teams_statistics/syurchen93__team-stats-leipzig.json"),
]


def _cases() -> list[tuple[str, str, str]]:
    """(bad kind, endpoint, recorded file): every bad kind for every scope (an object is /teams/statistics' own)."""
    return [(bad, endpoint, relative) for bad in sorted(BAD) for endpoint, relative in SCOPES
            if not (bad == "object" and endpoint in OBJECT_ANSWERS)]


def _params(answer: dict[str, Any]) -> dict[str, str]:
    params = answer["parameters"]
    return {k: str(v) for k, v in params.items()} if isinstance(params, dict) else {}


def _altered(answer: dict[str, Any], bad: Any) -> dict[str, Any]:
    body = copy.deepcopy(answer)
    if bad is MISSING:
        del body["response"]
    else:
        body["response"] = bad
    return body


@pytest.mark.parametrize("bad", sorted(BAD))
def test_only_a_list_reads_as_items(bad: str) -> None:
    body = _altered({"errors": [], "response": []}, BAD[bad])
    assert items_problem("injuries", body) is not None
    assert items_problem("injuries", {"errors": [], "response": []}) is None
    assert items_problem("teams/statistics", {"errors": [], "response": {"team": {}}}) is None
    expected = None if bad == "object" else items_problem("injuries", body)
    assert items_problem("teams/statistics", body) == (expected and expected.replace("a list", "a list or an object"))


def test_an_answer_without_a_list_empties_nothing_and_rebuild_replays_none(db_url: str, clock: SimClock) -> None:
    answers = {relative: sample(relative) for _, relative in SCOPES}
    serving: dict[str, Any] = {}
    api = FakeApi({endpoint: (lambda query, endpoint=endpoint: Answer(200, serving[endpoint]))
                   for endpoint, _ in SCOPES})
    conf = load_settings({}, api_key=KEY, database_url=db_url)
    collector = Collector.open(conf, clock=clock, client=ApiClient("http://api.test", KEY, clock,
                                                                 transport=api.transport()))
    db = collector.db
    try:
        ctx = collector.context("test", "test", "LOW")
        for endpoint, relative in SCOPES:
            serving[endpoint] = answers[relative]
            pipeline.step(ctx, Request.of(endpoint, _params(answers[relative])))
        collected = snapshot(db)
        assert all(collected[table] for table in ("core.injuries", "core.standings", "core.squads", "core.odds",
                                                  "core.odds_live", "core.fixture_team_stats", "core.top_players",
                                                  "core.team_statistics", "core.fixture_details"))
        calls = scalar(db, "SELECT calls FROM ops.job_runs WHERE id = %s", (ctx.run_id,))
        for bad, endpoint, relative in _cases():
            serving[endpoint] = _altered(answers[relative], BAD[bad])
            asked = len(api.requests)
            with pytest.raises(UnreadableBody, match=r"unreadable body: .*`response`.* \(kept as text\)$"):
                pipeline.step(ctx, Request.of(endpoint, _params(answers[relative])))
            assert len(api.requests) == asked + 1  # not retried: the same answer would come again
            body_null, body_text, errors = db.fetchall(
                "SELECT body IS NULL, body_text, errors FROM raw.responses ORDER BY id DESC LIMIT 1")[0]
            assert body_null and json.loads(body_text) == serving[endpoint], (bad, endpoint)
            assert "unreadable body" in str(errors) and "`response`" in str(errors)
            assert snapshot(db) == collected, (bad, endpoint)
        counted = scalar(db, "SELECT calls FROM ops.job_runs WHERE id = %s", (ctx.run_id,))
        assert counted == calls + len(_cases())
        wipe(db)
        rebuild.rebuild(db, clock)
        assert snapshot(db) == collected
        # Archived before afc flagged them (kept as JSON, no error): a replay still takes none of them as "none".
        at, last = clock.now(), scalar(db, "SELECT max(id) FROM raw.responses")
        raw.prepare(db, at)
        with db.transaction():
            for bad, endpoint, relative in _cases():
                body = _altered(answers[relative], BAD[bad])
                request = Request.of(endpoint, _params(answers[relative]))
                raw.insert(db, Response(request, 200, {}, body, None, at, 0, raw_text=json.dumps(body)), None)
        assert db.fetchone("SELECT count(*) FROM raw.responses WHERE body IS NOT NULL AND errors IS NULL "
                           "AND id > %s", (last,)) == (len(_cases()),)
        rebuild.rebuild(db, clock)
        assert snapshot(db) == collected
    finally:
        collector.close()


def _write(db: Database, endpoint: str, params: dict[str, str], items: list[Any], raw_id: int) -> int:
    """Transform and write `items` as collection does; returns how many were quarantined."""
    batch = transform.run(endpoint, params, items)
    with db.transaction():
        write_batch(db, batch, raw_id, AT, endpoint)
    return len(batch.quarantined)


@pytest.mark.parametrize("bad", sorted(BAD))
def test_a_list_inside_an_item_that_is_not_a_list_empties_nothing(db: Database, bad: str) -> None:
    squad, feed, table = (sample(relative) for relative in (
        "players_squads/footballay__33_squad.json", "docs_examples/Pedrigl__LiveOdds.json",
        "standings/obissing__standings2023.json"))
    cases = [("players/squads", squad, ("players",)), ("odds/live", feed, ("odds",)),
             ("standings", table, ("league", "standings")), ("standings", table, ("league", "standings", 0))]
    for raw_id, (endpoint, answer, _) in enumerate(cases, start=1):
        assert _write(db, endpoint, _params(answer), answer["response"], raw_id) == 0
    held = snapshot(db)
    for raw_id, (endpoint, answer, where) in enumerate(cases, start=10):
        if BAD[bad] is MISSING and isinstance(where[-1], int):
            continue  # a group left out of the list is a shorter list, not an unreadable one
        item = copy.deepcopy(answer["response"][0])
        parent = item
        for key in where[:-1]:
            parent = parent[key]
        if BAD[bad] is MISSING:
            del parent[where[-1]]
        else:
            parent[where[-1]] = BAD[bad]
        assert _write(db, endpoint, _params(answer), [item], raw_id) == 1, (endpoint, where)
        assert snapshot(db) == held, (endpoint, where)
