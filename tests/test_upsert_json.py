"""JSON columns: transforms hand over Python values (`Json`), the database layer serialises them."""

from __future__ import annotations

from datetime import UTC, datetime

from afc import transform
from afc.db import dump_json, load_json
from afc.db.upsert import apply, encoded
from afc.transform.model import Json, TableRows
from tests.conftest import sample
from tests.loading import load, one

WITH_DETAILS = "fixtures_id/footballay__fixtureByFixtureid.json"
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def test_transform_rows_carry_json_values_not_text():
    batch = transform.run("fixtures", {"id": "1208397"}, sample(WITH_DETAILS)["response"])
    details = next(t for t in batch.tables() if t.table == "core.fixture_details").rows[0]
    assert isinstance(details["events"], Json) and isinstance(details["events"].value, list)
    assert details["events"].value == sample(WITH_DETAILS)["response"][0]["events"]


def test_encoding_is_canonical_text_and_leaves_other_columns_alone():
    rows = TableRows("core.x", ("id",), [{"id": 1, "data": Json({"b": 1, "a": "é\u0000"}), "name": "n"}])
    assert encoded(rows).rows == [{"id": 1, "data": '{"a":"é","b":1}', "name": "n"}]
    plain = TableRows("core.x", ("id",), [{"id": 1, "name": "n"}])
    assert encoded(plain) is plain


def test_json_columns_land_as_canonical_text_and_a_reordered_value_is_unchanged(db):
    load(db, "fixtures", {"id": "1208397"}, sample(WITH_DETAILS)["response"])
    stored = one(db, "SELECT events FROM core.fixture_details WHERE fixture_id = 1208397")["events"]
    item = sample(WITH_DETAILS)["response"][0]
    assert load_json(stored) == item["events"]
    reordered = [dict(reversed(list(event.items()))) for event in item["events"]]
    rows = TableRows("core.fixture_details", ("fixture_id",), [{"fixture_id": 1208397, "events": Json(reordered)}])
    with db.transaction():
        counts = apply(db, rows, {"updated_at": NOW, "raw_id": 2})
    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 0, 1)
    assert dump_json(reordered) == dump_json(item["events"])
