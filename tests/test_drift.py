"""Schema drift: differences from the known shapes, recorded once per endpoint, path, kind and type."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from afc.api.client import ApiClient, Request
from afc.cli import app
from afc.clock import SimClock
from afc.collect import drift
from afc.collect import step as pipeline
from afc.collect.collector import Collector
from afc.collect.drift import generate, observer
from afc.collect.drift.shapes import KNOWN_DIR, Node, known, learn, shape_of
from afc.config.settings import load_settings
from afc.db import Database
from tests.conftest import SAMPLES, sample, scalar
from tests.fakeapi import KEY, Answer, FakeApi, envelope

AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
FIXTURE_SAMPLE = "fixtures_id/footballay__fixtureByFixtureid.json"


def drifted_fixture() -> dict[str, Any]:
    """A real /fixtures?id= item with one field added, one removed and one retyped."""
    item = copy.deepcopy(sample(FIXTURE_SAMPLE)["response"][0])
    item["fixture"]["status"]["clock"] = "67:12"  # added
    del item["fixture"]["venue"]["city"]  # missing
    item["goals"]["home"] = str(item["goals"]["home"])  # a number arriving as a string
    return item


def known_shape(endpoint: str) -> Node:
    """The checked-in shape of `endpoint` (the tests only ask for endpoints that have one)."""
    shape = shape_of(endpoint)
    assert shape is not None, endpoint
    return shape


def rows(db: Database) -> list[dict[str, Any]]:
    return db.fetch_dicts("SELECT endpoint, path, kind, expected_type, seen_type, count, example_raw_id "
                          "FROM ops.drift ORDER BY path")


# --- the comparison -------------------------------------------------------------------------


def test_every_recording_matches_its_known_shape() -> None:
    if not SAMPLES.exists():
        pytest.skip("shared/api-samples not available")
    recordings = generate.read_samples(SAMPLES)
    assert len(recordings) >= 30
    for endpoint, responses in recordings.items():
        for name, items in responses:
            assert drift.differences(known_shape(endpoint), items) == set(), name


def test_added_missing_and_retyped_fields_are_three_differences() -> None:
    found = drift.differences(known_shape("fixtures"), [drifted_fixture()])
    assert found == {
        ("fixture.status.clock", "added", None, "string"),
        ("fixture.venue.city", "missing", "string|null", "absent"),
        ("goals.home", "type_changed", "number|null", "string"),
    }


def test_nulls_ints_and_floats_and_known_mixed_fields_are_not_drift() -> None:
    item = copy.deepcopy(sample(FIXTURE_SAMPLE)["response"][0])
    item["fixture"]["referee"] = None
    item["fixture"]["timestamp"] = float(item["fixture"]["timestamp"])  # int ↔ float
    item["league"]["standings"] = True  # a documented newer field
    item["fixture"]["status"]["extra"] = 4
    for side in item["statistics"]:
        for stat in side["statistics"]:
            stat["value"] = "57%" if stat["type"] == "Total Shots" else stat["value"]
    for team in item["players"]:
        for player in team["players"]:
            player["statistics"][0]["passes"]["accuracy"] = 79  # a number where fixtures send "68%"
    assert drift.differences(known_shape("fixtures"), [item]) == set()


def test_documented_fields_the_recordings_lack_are_not_drift() -> None:
    """/teams/statistics' goals per line (reference §6.7) are in current answers, not in the older recordings."""
    item = copy.deepcopy(sample("teams_statistics/syurchen93__team-stats-leipzig.json")["response"])
    lines = ("0.5", "1.5", "2.5", "3.5", "4.5")
    for side in ("for", "against"):
        item["goals"][side]["under_over"] = {line: {"over": 20, "under": 14} for line in lines}
    item["goals"]["for"]["under_over"]["4.5"] = {"over": None, "under": 34}
    assert drift.differences(known_shape("teams/statistics"), [item]) == set()
    item["goals"]["against"]["under_over"]["2.5"]["over"] = "20"
    assert drift.differences(known_shape("teams/statistics"), [item]) == {
        ("goals.against.under_over.2.5.over", "type_changed", "number|null", "string")}


def test_a_card_bucket_without_a_minute_is_optional() -> None:
    """The API counts cards with no minute under the key "": a recorded /predictions answer has it for one side only,
    and the sandbox never has it (every sandbox card has a minute). Either way is the known shape, not drift."""
    item = copy.deepcopy(sample("predictions/syurchen93__fixture-predictions-bvb.json")["response"][0])
    cards = {side: item["teams"][side]["league"]["cards"] for side in ("home", "away")}
    cards["away"]["yellow"][""] = cards["home"]["yellow"].pop("")
    cards["home"]["red"][""] = {"total": 1, "percentage": "100.00%"}
    assert drift.differences(known_shape("predictions"), [item]) == set()
    stats = copy.deepcopy(sample("teams_statistics/syurchen93__team-stats-leipzig.json")["response"])
    stats["cards"]["yellow"][""] = {"total": 2, "percentage": "3.03%"}
    assert drift.differences(known_shape("teams/statistics"), [stats]) == set()
    stats["cards"]["yellow"][""]["total"] = "2"
    assert drift.differences(known_shape("teams/statistics"), [stats]) == {
        ("cards.yellow..total", "type_changed", "number", "string")}


def test_optional_keys_may_be_absent() -> None:
    item = copy.deepcopy(sample(FIXTURE_SAMPLE)["response"][0])
    for part in ("events", "lineups", "statistics", "players"):
        del item[part]  # a /fixtures?league= item carries no details
    del item["fixture"]["status"]["extra"]  # older payloads have no added time
    assert drift.differences(known_shape("fixtures"), [item]) == set()


def test_a_change_deep_in_a_long_array_is_found() -> None:
    item = copy.deepcopy(sample(FIXTURE_SAMPLE)["response"][0])
    players = item["players"][0]["players"]
    assert len(players) > observer.SAMPLE + 2
    players[1]["statistics"][0]["games"]["rating"] = 7.1  # within the elements always compared
    players[-1]["statistics"][0]["shots"]["xg"] = 0.4  # a new layout further down
    players[-1]["expected"] = True
    found = drift.differences(known_shape("fixtures"), [item])
    assert found == {
        ("players[].players[].statistics[].games.rating", "type_changed", "string|null", "number"),
        ("players[].players[].statistics[].shots.xg", "added", None, "number"),
        ("players[].players[].expected", "added", None, "boolean"),
    }


def test_long_responses_are_walked_in_samples_that_still_see_changes() -> None:
    season = copy.deepcopy(sample("fixtures/obissing__matches2023.json")["response"])
    assert len(season) == 380
    season[observer.STRIDE * 7]["score"]["penalty"]["home"] = "3"  # deep, in an item walked by stride
    season[301]["venue"] = {"id": 1}  # an item with a layout of its own is walked
    found = drift.differences(known_shape("fixtures"), season)
    assert found == {("score.penalty.home", "type_changed", "number|null", "string"),
                     ("venue", "added", None, "object")}


def test_scalar_items_and_unknown_endpoints() -> None:
    found = drift.differences(known_shape("timezone"), ["Europe/London", 3])
    assert found == {("", "type_changed", "string", "number")}
    assert shape_of("no/such/endpoint") is None


def test_learn_marks_keys_missing_from_some_items_optional() -> None:
    spec = learn([{"a": 1, "b": {"c": "x"}}, {"a": 2.5, "b": {"c": None, "d": [1]}}])
    assert spec == {"type": "object", "fields": {
        "a": {"type": "number"},
        "b": {"type": "object", "fields": {"c": {"type": "string|null"},
                                           "d": {"type": "array", "optional": True, "items": {"type": "number"}}}}}}
    node = Node("", spec)
    assert node.required == {"a", "b"} and node.fields["b"].required == {"c"}


def test_the_committed_shapes_are_what_the_generator_makes() -> None:
    if not SAMPLES.exists():
        pytest.skip("shared/api-samples not available")
    documents = generate.shapes(generate.read_samples(SAMPLES))
    for endpoint, document in documents.items():
        path = KNOWN_DIR / (endpoint.replace("/", "_") + ".json")
        assert json.loads(path.read_text(encoding="utf-8")) == document, path
    assert set(known()) == set(documents)
    assert {"fixtures", "fixtures/headtohead", "standings", "players", "players/topredcards", "odds"} <= set(known())


def test_the_plan_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(observer, "MAX_PLANS", 3)
    observer._PLANS.clear()
    items = [{f"k{i}": i} for i in range(10)]
    found = drift.differences(known_shape("venues"), items)
    assert len(observer._PLANS) <= 3 and ("k9", "added", None, "number") in found


# --- recording ------------------------------------------------------------------------------


def test_recording_is_once_per_field_and_repeats_only_count(db: Database) -> None:
    items = [drifted_fixture(), drifted_fixture()]
    with db.transaction():
        assert drift.observe(db, "fixtures", items, 7, AT) == 3
    later = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    with db.transaction():
        assert drift.observe(db, "fixtures", items, 9, later) == 3
    recorded = rows(db)
    assert [(r["path"], r["kind"], r["seen_type"]) for r in recorded] == [
        ("fixture.status.clock", "added", "string"),
        ("fixture.venue.city", "missing", "absent"),
        ("goals.home", "type_changed", "string"),
    ]
    assert {(r["count"], r["example_raw_id"]) for r in recorded} == {(2, 9)}
    first, last = drift.listing(db)[0].first_seen_at, drift.listing(db)[0].last_seen_at
    assert (first, last) == (AT, later)


def test_an_older_response_moves_first_seen_back_but_not_last_seen(db: Database) -> None:
    with db.transaction():
        drift.observe(db, "fixtures", [drifted_fixture()], 9, AT)
        drift.observe(db, "fixtures", [drifted_fixture()], 3, datetime(2026, 1, 1, tzinfo=UTC))
    record = drift.listing(db)[0]
    assert record.first_seen_at == datetime(2026, 1, 1, tzinfo=UTC) and record.last_seen_at == AT
    assert record.example_raw_id == 9 and record.count == 2


def test_nothing_is_written_without_drift(db: Database) -> None:
    with db.transaction():
        assert drift.observe(db, "fixtures", sample(FIXTURE_SAMPLE)["response"], 1, AT) == 0
        assert drift.observe(db, "no/such/endpoint", [{"x": 1}], 1, AT) == 0
    assert rows(db) == []


def test_acknowledge_and_unacknowledged(db: Database) -> None:
    with db.transaction():
        drift.observe(db, "fixtures", [drifted_fixture()], 1, AT)
    assert drift.unacknowledged(db) == 3
    first = drift.listing(db)[0].id
    assert drift.acknowledge(db, [first], AT) == 1 and drift.unacknowledged(db) == 2
    assert drift.acknowledge(db, None, AT) == 2 and drift.unacknowledged(db) == 0
    with db.transaction():  # a known difference again: still acknowledged
        drift.observe(db, "fixtures", [drifted_fixture()], 2, AT)
    assert drift.unacknowledged(db) == 0
    item = drifted_fixture() | {"odds": []}
    with db.transaction():  # something new: back in `afc health`
        drift.observe(db, "fixtures", [item], 3, AT)
    assert drift.unacknowledged(db) == 1
    assert [d.path for d in drift.listing(db, include_acknowledged=False)] == ["odds"]


# --- in the pipeline ------------------------------------------------------------------------


@pytest.fixture
def collector(db_url: str, clock: SimClock):
    body = sample(FIXTURE_SAMPLE) | {"response": [drifted_fixture()]}
    api = FakeApi({"fixtures": [Answer(200, body)],
                   "standings": [Answer(200, envelope("standings", [], errors={"season": "required"}))]})
    settings = load_settings({}, api_key=KEY, database_url=db_url)
    opened = Collector.open(settings, clock=clock, client=ApiClient("http://api.test", KEY, clock,
                                                                    transport=api.transport()))
    yield opened
    opened.close()


def test_every_collected_response_is_observed_once(collector: Collector, clock: SimClock) -> None:
    ctx = collector.context("test", "test", "LOW")
    first = pipeline.step(ctx, Request.of("fixtures", {"id": 1}))
    clock.advance(60)
    second = pipeline.step(ctx, Request.of("fixtures", {"id": 1}))
    recorded = rows(collector.db)
    assert len(recorded) == 3 and {r["count"] for r in recorded} == {2}
    assert {r["example_raw_id"] for r in recorded} == {second.raw_id} and first.raw_id < second.raw_id
    assert scalar(collector.db, "SELECT count(*) FROM core.fixtures") == 1  # the item still lands


def test_rebuild_checks_the_archive_again_only_when_asked(collector: Collector, clock: SimClock) -> None:
    from afc.collect import rebuild

    step = pipeline.step(collector.context("test", "test", "LOW"), Request.of("fixtures", {"id": 1}))
    collector.db.execute("DELETE FROM ops.drift")
    assert rebuild.rebuild(collector.db, collector.clock).drift == 0 and rows(collector.db) == []
    clock.advance(3600)
    report = rebuild.rebuild(collector.db, collector.clock, check_drift=True)
    assert report.drift == 3 and report.counts.updated == 0
    assert {(r["count"], r["example_raw_id"]) for r in rows(collector.db)} == {(1, step.raw_id)}
    assert {d.first_seen_at for d in drift.listing(collector.db)} == {AT}  # when the API sent it


def test_error_answers_are_not_observed(collector: Collector) -> None:
    from afc.errors import ParameterError

    with pytest.raises(ParameterError):
        pipeline.step(collector.context("test", "test", "LOW"), Request.of("standings", {"league": 39}))
    assert rows(collector.db) == []


# --- the command line -----------------------------------------------------------------------


def test_cli_drift_lists_acknowledges_and_reports(db: Database, db_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["drift", "--db", db_url])
    assert result.exit_code == 0 and "no schema drift recorded" in result.output
    with db.transaction():
        drift.observe(db, "fixtures", [drifted_fixture()], 5, AT)

    result = runner.invoke(app, ["drift", "--db", db_url, "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [(d["path"], d["kind"], d["acknowledged_at"]) for d in listed] == [
        ("fixture.status.clock", "added", None), ("fixture.venue.city", "missing", None),
        ("goals.home", "type_changed", None)]

    result = runner.invoke(app, ["drift", "--db", db_url], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "/fixtures fixture.status.clock" in result.stdout and "added (string)" in result.stdout
    assert "number|null → string" in result.stdout and "missing (was string|null)" in result.stdout

    result = runner.invoke(app, ["drift", "ack", str(listed[0]["id"]), "--db", db_url])
    assert result.exit_code == 0 and "acknowledged 1 drift record" in result.output
    result = runner.invoke(app, ["drift", "--db", db_url, "--json", "--unacknowledged"])
    assert [d["path"] for d in json.loads(result.stdout)] == ["fixture.venue.city", "goals.home"]
    result = runner.invoke(app, ["drift", "ack", "--all", "--db", db_url])
    assert result.exit_code == 0 and "acknowledged 2 drift records" in result.output
    assert drift.unacknowledged(db) == 0
    result = runner.invoke(app, ["drift", "--db", db_url, "--unacknowledged"])
    assert (result.exit_code, result.stderr) == (0, "no unacknowledged schema drift\n")  # the 3 kept are acknowledged


def test_cli_drift_ack_needs_ids_or_all(db_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["drift", "ack", "--db", db_url])
    assert (result.exit_code, result.stderr) == (2, "afc: drift ack: name drift ids (see `afc drift`) or pass --all, "
                                                    "not both\n")
    result = runner.invoke(app, ["drift", "ack", "999", "--db", db_url])
    assert (result.exit_code, result.stderr) == (2, "afc: drift ack: no drift record with id 999; see `afc drift`\n")
