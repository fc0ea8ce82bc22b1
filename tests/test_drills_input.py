"""Bad-input drills: random job files, CLI arguments and mutated real API items never crash afc.

A job file either loads or fails with one line naming the file; a CLI invocation exits 0, 1, 2 or
75 without a traceback; a mutated API item either becomes rows or is quarantined.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from afc import transform
from afc.cli import app
from afc.collect.step import write_batch
from afc.config.jobs import load
from afc.db import connect
from afc.errors import ConfigError
from tests.conftest import sample

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
FIELDS = ["job_id", "type", "enabled", "priority", "endpoint", "params", "for_each", "schedule",
          "dependencies", "target_layers", "coverage_target", "description", "bogus"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 3000), st.text(max_size=12),
                    st.sampled_from(["/fixtures", "daily", "LOW", "hourly", "{{ season }}", "2024-25", "*/5 * * * *"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=6)
jobs = st.lists(st.dictionaries(st.sampled_from(FIELDS), values, max_size=8), max_size=3)
documents = st.one_of(st.dictionaries(st.sampled_from(["jobs", "tracked", "live", "ops", "nope"]),
                                      st.one_of(jobs, values), max_size=3), values)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=documents)
def test_random_job_files_load_or_fail_with_one_line(tmp_path_factory, document):
    directory = tmp_path_factory.mktemp("jobs")
    path = directory / "random.yaml"
    path.write_text(yaml.safe_dump(document) if not isinstance(document, str) else document)
    try:
        load(directory)
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith(str(path)) and "\n" not in message and "Traceback" not in message


@settings(max_examples=60, deadline=None)
@given(garbage=st.text(min_size=1, max_size=200))
def test_unparseable_yaml_names_the_file(tmp_path_factory, garbage):
    directory = tmp_path_factory.mktemp("jobs")
    (directory / "broken.yaml").write_text("jobs:\n  - job_id: [\n" + garbage)
    with pytest.raises(ConfigError) as caught:
        load(directory)
    assert str(caught.value).startswith(str(directory / "broken.yaml"))


COMMANDS = [["bootstrap"], ["quota"], ["jobs", "plan"], ["jobs", "list"], ["db", "status"], ["daily"],
            ["backfill"], ["coverage", "report"], ["coverage", "gaps"], ["live-loop"], ["drift"], ["health"],
            ["rebuild"], ["prune"], ["sandbox"], ["systemd", "render"]]
arguments = st.lists(st.one_of(st.sampled_from(["--league", "--season", "--json", "--db", "--what", "--plan",
                                                "--interval", "--once", "--since", "--dry-run", "-v", "--yes",
                                                "--raw-older-than", "--port", "--plan", "x"]),
                               st.text(alphabet="abc019-:,./ ", max_size=10)), max_size=5)


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("cli")
    return {"AFC_DATABASE_URL": f"sqlite:///{base / 'afc.db'}", "API_FOOTBALL_KEY": "k" * 32,
            "AFC_API_BASE_URL": "http://127.0.0.1:9", "AFC_HTTP_TIMEOUT": "0.5", "AFC_DATA_DIR": str(base),
            "AFC_CLOCK": "2026-11-28T12:00:00Z@0"}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(COMMANDS), args=arguments)
def test_random_cli_arguments_never_traceback(cli_env, command, args):
    if command == ["sandbox"] or "--yes" in args and command == ["backfill"]:
        args = [*args, "--help"]  # never start a server or a long backfill from a fuzz case
    if command == ["live-loop"] and "--once" not in args:
        args = [*args, "--help"]
    result = CliRunner().invoke(app, [*command, *args], env=cli_env)
    assert result.exit_code in (0, 1, 2, 75), (command, args, result.output)
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), (command, args, repr(result.exception))


RECORDINGS = [
    ("fixtures", {"league": "39", "season": "2023"}, "fixtures/obissing__matches2023.json"),
    ("fixtures", {"id": "1208397"}, "fixtures_id/footballay__fixtureByFixtureid.json"),
    ("fixtures", {"live": "all"}, "fixtures_live/livefut__dataTest.js"),
    ("standings", {"league": "1032", "season": "2024"},
     "standings/JuanFPaz__standings-copa-de-la-liga-profesional-2024.json"),
    ("players", {"league": "39", "season": "2023"}, "players/tkilper__players_2023_09_03_18_45_41.json"),
    ("injuries", {"date": "2024-03-31", "league": "78"}, "injuries/syurchen93__injuries-date-bundes.json"),
    ("odds", {"fixture": "326090"}, "docs_examples/DoBet__odds.json"),
    ("leagues", {"id": "39"}, "leagues/pilflo__leagues_id_39.json"),
    ("teams", {"league": "39", "season": "2023"}, "teams/footballay__39_teams_by_league.json"),
    ("teams/statistics", {"league": "78", "season": "2022", "team": "173"},
     "teams_statistics/syurchen93__team-stats-leipzig.json"),
    ("players/topscorers", {"league": "78", "season": "2023"},
     "players_topscorers/syurchen93__player-top-scorer-bundes-2023.json"),
    ("predictions", {"fixture": "1049124"}, "predictions/syurchen93__fixture-predictions-bvb.json"),
    ("fixtures/events", {"fixture": "653808"}, "fixtures_events/syurchen93__fixture-events.json"),
    ("players/squads", {"team": "33"}, "players_squads/footballay__33_squad.json"),
]
_items: dict[str, list[Any]] = {}


def items_of(relative: str) -> list[Any]:
    if relative not in _items:
        response = sample(relative)["response"]
        _items[relative] = (response if isinstance(response, list) else [response])[:3]
    return _items[relative]


replacements = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=6),
                         st.just([]), st.just({}), st.lists(st.integers(), max_size=2))


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a JSON value (capped so one mutation stays cheap)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in list(value.items())[:12]:
            found += paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value[:3]):
            found += paths(child, prefix + (index,))
    return found


def mutate(value: Any, path: tuple, replacement: Any, delete: bool) -> Any:
    if not path:
        return replacement
    target = value
    for step in path[:-1]:
        target = target[step]
    if delete and isinstance(target, dict):
        target.pop(path[-1], None)
    else:
        target[path[-1]] = replacement
    return value


class Rollback(Exception):
    """Undo one example's writes so the next starts from the same database."""


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_mutated_real_items_become_rows_or_quarantine(backend, request):
    database = connect(request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url"))

    @settings(max_examples=250 if backend == "sqlite" else 150, deadline=None)
    @given(case=st.sampled_from(RECORDINGS), pick=st.integers(min_value=0), replacement=replacements,
           delete=st.booleans(), data=st.data())
    def check(case, pick, replacement, delete, data):
        endpoint, params, relative = case
        items = copy.deepcopy(items_of(relative))
        index = pick % len(items)
        path = data.draw(st.sampled_from(paths(items[index])))
        items[index] = mutate(items[index], path, replacement, delete)
        batch = transform.run(endpoint, params, items)  # must not raise
        assert batch.items + len(batch.quarantined) == (1 if transform.REGISTRY[endpoint].whole else len(items))
        with pytest.raises(Rollback), database.transaction():
            write_batch(database, batch, 1, NOW, endpoint)  # and what it produced must store
            raise Rollback

    try:
        check()
    finally:
        database.close()


def test_the_drill_covers_every_recording_it_names():
    for _, _, relative in RECORDINGS:
        assert items_of(relative), relative
    assert Path(__file__).exists()


def random_text(size: int) -> str:
    """Text that does not compress: PostgreSQL's index entries are compressed before the size check."""
    import random
    import string

    chooser = random.Random(size)
    return "".join(chooser.choice(string.ascii_letters + string.digits) for _ in range(size))


def test_a_long_key_text_or_unknown_key_quarantines_one_item_not_the_answer(db_url, tmp_path):
    """On PostgreSQL one item's 10,000-character country name (a key) or unknown key (a drift path) failed the whole
    response with 'index row requires 10016 bytes': no raw row, no good items. Now the item is quarantined."""
    from tests.fakeapi import KEY, Answer, FakeApi, envelope

    items = [{"name": "England", "code": "GB"}, {"name": random_text(10_000), "code": "XX"},
             {"name": "Wales", "code": "GB", random_text(10_000): 1}]
    api = FakeApi({"countries": Answer(200, json.dumps(envelope("countries", items)))})
    with api.serve() as url:
        env = {"AFC_DATABASE_URL": db_url, "AFC_DATA_DIR": str(tmp_path), "API_FOOTBALL_KEY": KEY,
               "AFC_API_BASE_URL": url, "AFC_CLOCK": "2026-11-28T12:00:00Z@0"}
        result = CliRunner().invoke(app, ["bootstrap", "countries"], env=env)
    assert result.exit_code == 0, result.output
    db = connect(db_url)
    try:
        names = db.fetchall("SELECT name FROM core.countries ORDER BY name")
        bad = db.fetchall("SELECT item_index, reason FROM ops.quarantine")
        paths = db.fetchall("SELECT length(path) FROM ops.drift WHERE kind = 'added'")
        raws = db.fetchall("SELECT status FROM raw.responses")
    finally:
        db.close()
    assert names == [("England",), ("Wales",)] and raws == [(200,)]
    assert bad == [(1, "core.countries.name: 10000 characters, over the 500 a key holds")]
    assert paths == [(301,)]  # the unknown key, cut to 300 characters and an ellipsis


@pytest.mark.parametrize("height", [2**31, 2**62, 1e300, "99999999999999999999 cm"])
def test_a_measure_past_an_integer_column_is_unknown_not_a_failed_answer(height):
    from afc.transform.players import player_row

    row = player_row({"id": 7, "name": "X", "height": height, "weight": "83 kg"})
    assert (row["height_cm"], row["weight_kg"]) == (None, 83)


def test_an_item_that_is_not_an_object_is_quarantined_saying_so():
    """The reasons were Python's ("AttributeError: 'str' object has no attribute 'get'") or wrong ("id: required
    integer, got None" for a string)."""
    items = ["abc", 5, None, [1], True]
    for endpoint in ("fixtures", "standings", "players", "odds", "countries"):
        batch = transform.run(endpoint, {"league": "39", "season": "2023", "fixture": "1"}, items)
        assert [q.reason for q in batch.quarantined] == [f"an item must be a JSON object, got {kind}" for kind in (
            "a string", "a number", "null", "an array", "true")], endpoint
    assert transform.run("timezone", {}, ["Europe/London"]).items == 1  # its items are names
