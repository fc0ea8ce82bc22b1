"""The per-item Python work made cheaper keeps every outcome: canonical JSON, rows, quarantine reasons, drift.

Each test pins a behaviour that a faster rewrite of the hot paths could lose without the broader
equivalence tests noticing (they replay real recordings, which hold few odd values).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from afc.db import dump_json
from afc.words import kind


def _stdlib(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize("number", [1e-05, -3.2e-07, 2.5e-10, 1e16, 1.5e300, 0.0001, 6.3])
def test_a_float_after_many_hyphens_and_signs_is_still_written_as_json_dumps_writes_it(number: float) -> None:
    # The exponent check looks for each `-`/`+` and then at the bytes before it: URLs and names full of
    # hyphens (and a `e-` inside a string) come before the number here, so every candidate is passed over.
    value = {"photo": "https://media.api-sports.io/foot-ball/e-1+e+2.png", "name": "Jean-Pierre 2e-",
             "minute": "90+4", "rating": number, "ids": [-1, -2, "3e+"]}
    assert dump_json(value) == _stdlib(value)


def test_nul_is_dropped_only_where_the_text_has_an_escape() -> None:
    assert dump_json({"a": "x\x00y", "b": "c\\d"}) == _stdlib({"a": "xy", "b": "c\\d"})
    assert dump_json({"a": "back\\slash"}) == _stdlib({"a": "back\\slash"})


# --- stubs made once per response ---------------------------------------------------------------

from afc import transform  # noqa: E402
from afc.transform.fixtures import fixture  # noqa: E402
from afc.transform.model import Batch  # noqa: E402
from tests.conftest import sample  # noqa: E402
from tests.transform_reference import fixture as fixture_reference  # noqa: E402

EPL = "fixtures/obissing__matches2023.json"


def _item(fixture_id: int, home: dict[str, Any], away: dict[str, Any], league_name: Any = "Premier League",
          flag: Any = "https://flags/gb.svg") -> dict[str, Any]:
    return {"fixture": {"id": fixture_id, "timestamp": 1700000000, "status": {"short": "NS"},
                        "venue": {"id": 7, "name": "Ground", "city": "Town"}},
            "league": {"id": 39, "name": league_name, "country": "England", "flag": flag, "season": 2023},
            "teams": {"home": home, "away": away}, "goals": {}, "score": {}}


def _stubs(batch: Batch, table: str) -> dict[Any, dict[str, Any]]:
    return {row["id"] if "id" in row else row["name"]: row
            for rows in batch.tables() if rows.table == table and rows.stub for row in rows.rows}


def test_the_last_item_naming_a_team_still_gives_its_stub_even_when_an_earlier_item_made_the_same_one() -> None:
    a, b = {"id": 1, "name": "Arsenal", "logo": "a.png"}, {"id": 1, "name": "Arsenal FC", "logo": "a.png"}
    other = {"id": 2, "name": "Other", "logo": None}
    batch = transform.run("fixtures", {}, [_item(10, a, other), _item(11, b, other), _item(12, a, other)])
    assert _stubs(batch, "core.teams")[1] == {"id": 1, "name": "Arsenal", "logo": "a.png"}
    # within one item too: the away side's spelling (seen before) comes after the home side's new one
    batch = transform.run("fixtures", {}, [_item(10, a, other), _item(11, b, a)])
    assert _stubs(batch, "core.teams")[1] == {"id": 1, "name": "Arsenal", "logo": "a.png"}
    batch = transform.run("fixtures", {}, [_item(10, a, other), _item(11, b, other)])
    assert _stubs(batch, "core.teams")[1]["name"] == "Arsenal FC"


def test_a_stub_staged_by_a_quarantined_item_is_made_again_by_the_next_item() -> None:
    new = {"id": 3, "name": "Newcomer", "logo": "n.png"}
    broken = _item(10, new, {"id": "not a number"})
    batch = transform.run("fixtures", {}, [broken, _item(11, new, {"id": 2, "name": "Other", "logo": None})])
    assert [q.reason for q in batch.quarantined] == ["id: required integer, got 'not a number'"]
    assert _stubs(batch, "core.teams")[3] == {"id": 3, "name": "Newcomer", "logo": "n.png"}


def test_league_country_and_venue_stubs_follow_the_last_item_too() -> None:
    a, b = {"id": 1, "name": "A", "logo": None}, {"id": 2, "name": "B", "logo": None}
    batch = transform.run("fixtures", {}, [_item(10, a, b, "PL", "f1"), _item(11, a, b, "EPL", "f2"),
                                           _item(12, a, b, "PL", "f1")])
    assert _stubs(batch, "core.leagues")[39]["name"] == "PL"
    assert _stubs(batch, "core.countries")["England"] == {"name": "England", "flag": "f1"}


def test_values_that_compare_equal_but_read_differently_are_not_taken_for_the_same_stub() -> None:
    # 0.0 == -0.0 and 1 == True in Python, but their text differs: such names are not cached at all
    first, second = {"id": 1, "name": 0.0, "logo": None}, {"id": 1, "name": -0.0, "logo": None}
    other = {"id": 2, "name": "Other", "logo": None}
    batch = transform.run("fixtures", {}, [_item(10, first, other), _item(11, second, other)])
    assert _stubs(batch, "core.teams")[1]["name"] == "-0.0"
    batch = transform.run("fixtures", {}, [_item(10, other, {"id": 1, "name": 1, "logo": None}),
                                           _item(11, other, {"id": 1, "name": True, "logo": None})])
    assert _stubs(batch, "core.teams")[1]["name"] == "True"


def test_a_season_of_fixtures_makes_each_stub_row_once_per_change() -> None:
    items = sample(EPL)["response"]
    batch = Batch()
    staged: Counter[str] = Counter()
    for entry in items:
        fixture(entry, {}, batch)
        staged.update(table for table, _, _, stub in batch._staged if stub)
        batch.commit_item()
    # a venue's row is made again each time its name changes from the last item's (Brighton's has two)
    venues = [(i["fixture"]["venue"]["id"], i["fixture"]["venue"]["name"]) for i in items
              if i["fixture"]["venue"]["id"] is not None]
    renamed = sum(1 for n, (key, name) in enumerate(venues)
                  if name != next((v for k, v in reversed(venues[:n]) if k == key), name))
    assert staged == {"core.teams": 20, "core.leagues": 1, "core.countries": 1, "core.league_seasons": 1,
                      "core.venues": len({key for key, _ in venues}) + renamed}
    assert len(_stubs(batch, "core.teams")) == 20 and batch.items == 380


# --- the outbox's signature ---------------------------------------------------------------------

def _observed(status: Any, home: Any, away: Any, raw_id: Any, updated: Any) -> tuple[Any, ...]:
    """An OBSERVE row with these places filled in (the others cannot move the signature)."""
    return (0, 0, 0, None, None, status, 30, 1, None, 2, None, home, away, raw_id, updated, '{"a":1}', "sig")


def test_the_outbox_signature_is_status_score_and_the_write_of_the_details() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from afc.collect.outbox import signature

    at = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    base = signature(_observed("1H", 1, 0, 7, at))
    # the same moment as PostgreSQL gives it in another session zone, and as SQLite keeps it (text)
    assert signature(_observed("1H", 1, 0, 7, at.astimezone(timezone(timedelta(hours=2))))) == base
    assert signature(_observed("1H", 1, 0, 7, "2026-11-28T12:00:00+00:00")) == base
    others = [_observed("2H", 1, 0, 7, at), _observed("1H", 1, 1, 7, at), _observed("1H", 2, 0, 7, at),
              _observed("1H", 1, 0, 8, at), _observed("1H", 1, 0, 7, at + timedelta(seconds=1)),
              _observed("1H", 1, 0, None, None)]
    assert len({base, *map(signature, others)}) == 1 + len(others)


# --- timestamps made once per batch -----------------------------------------------------------------

@pytest.mark.parametrize("value", [1700000000, "1700000000", 1700000000.0, 1.5, True, None, "x", 2**40, -5, [], {}])
def test_a_batch_moment_is_from_timestamp_and_the_same_object_for_the_same_second(value: Any) -> None:
    from afc.transform.fields import from_timestamp

    batch = Batch()
    first, again = batch.moment(value), batch.moment(value)
    assert first == from_timestamp(value) and again == first
    if first is not None:
        assert again is first and batch.moment(1700000000 if value != -5 else -5) is first


def test_fixtures_sharing_a_kickoff_share_its_datetime_and_their_rows_are_unchanged() -> None:
    items = sample(EPL)["response"][:40]
    rows = [r for t in transform.run("fixtures", {}, items).tables() if t.table == "core.fixtures" for r in t.rows]
    by_second: dict[Any, Any] = {}
    for row in rows:
        for column in ("kickoff_at", "period_first", "period_second"):
            if row[column] is not None:
                assert by_second.setdefault(row[column].timestamp(), row[column]) is row[column]
    reference = Batch()
    for entry in items:
        fixture_reference(entry, {}, reference)
        reference.commit_item()
    assert rows == [r for t in reference.tables() if t.table == "core.fixtures" for r in t.rows]


# --- the live /fixtures transform against the frozen reference, on mutated real items -----------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from afc.errors import ItemInvalid  # noqa: E402
from tests.test_drills_input import mutate, paths, replacements  # noqa: E402

DETAILED = "fixtures_id/footballay__fixtureByFixtureid.json"


def _reference_run(items: list[Any]) -> Batch:
    """transform.run for /fixtures, through the frozen reference transform."""
    batch = Batch()
    for index, entry in enumerate(items):
        if type(entry) is not dict:  # as transform.run: an item that is not an object never reaches the transform
            batch.quarantine(index, entry, f"an item must be a JSON object, got {kind(entry)}")
            continue
        try:
            fixture_reference(entry, {}, batch)
            batch.commit_item()
        except transform.ITEM_ERRORS as exc:
            reason = str(exc) if isinstance(exc, ItemInvalid) else f"{type(exc).__name__}: {exc}"
            batch.quarantine(index, entry, reason[:500])
    return batch


def _outcome(batch: Batch) -> tuple[Any, ...]:
    return ([(t.table, t.key, t.stub, t.replace, t.columns, t.rows) for t in batch.tables()],
            [(q.index, q.reason) for q in batch.quarantined], batch.touched, batch.items)


@settings(max_examples=300, deadline=None)
@given(source=st.sampled_from([EPL, DETAILED]), pick=st.integers(min_value=0, max_value=5), data=st.data(),
       replacement=replacements, delete=st.booleans(), twice=st.booleans())
def test_mutated_items_give_what_the_reference_transform_gave(source: str, pick: int, data: st.DataObject,
                                                               replacement: Any, delete: bool, twice: bool) -> None:
    items = json.loads(json.dumps(sample(source)["response"][:6]))
    index = pick % len(items)
    items[index] = mutate(items[index], data.draw(st.sampled_from(paths(items[index]))), replacement, delete)
    if twice:  # a second mutation, in another item: stubs made from one and checked against the other
        other = (index + 1) % len(items)
        items[other] = mutate(items[other], data.draw(st.sampled_from(paths(items[other]))), replacement, False)
    assert _outcome(transform.run("fixtures", {}, json.loads(json.dumps(items)))) == \
        _outcome(_reference_run(json.loads(json.dumps(items))))
