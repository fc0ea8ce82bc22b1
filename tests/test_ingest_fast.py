"""The fast write path writes exactly what the reference path wrote, for every recorded API response.

The reference is the standard library's JSON encoder, which wrote every canonical JSON value (detail
parts, headers, parameters, quarantined items) before orjson did: same text, hence the same rows, the
same counts of inserted/updated/unchanged, the same quarantine, marts and drift records.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import afc.db
from afc.api.client import Request, Response, classify
from afc.clock import SimClock
from afc.collect import runs
from afc.collect.ledger import Ledger, Reservation
from afc.collect.step import Context, store
from afc.config.settings import Floors
from afc.db import Database, connect, dump_json
from tests.conftest import SAMPLES, fresh_pg

HEADERS = {"x-ratelimit-requests-limit": "7500", "x-ratelimit-requests-remaining": "7000",
           "x-ratelimit-limit": "450", "x-ratelimit-remaining": "440"}
SEASON = "fixtures/obissing__matches2023.json"


def recordings() -> list[tuple[str, str]]:
    """(name, text) of every recorded envelope, plus a season with one broken and one drifted item."""
    if not SAMPLES.is_dir():
        pytest.skip("shared/api-samples not available")
    found = []
    for path in sorted(SAMPLES.rglob("*")):
        if path.suffix not in (".json", ".js"):
            continue
        text = path.read_text(encoding="utf-8-sig")
        text = text[text.index("{"):].rstrip().rstrip(";")
        if "get" in json.loads(text):
            found.append((str(path.relative_to(SAMPLES)), text))
    season = json.loads((SAMPLES / SEASON).read_text(encoding="utf-8-sig"))
    season["response"][3]["fixture"] = None  # quarantined
    season["response"][5]["fixture"]["status"]["clock"] = "67:12"  # drift: a field the API added
    season["response"][3]["goals"]["home"] = 1e-05  # quarantined with it: json.dumps writes 1e-05, orjson 0.00001
    found.append(("broken season", json.dumps(season)))
    return found


def replay(db: Database, answers: list[tuple[str, str]]) -> list[tuple[Any, ...]]:
    """Store every answer twice in a row through pipeline.store (the second time nothing changes); what each did."""
    clock = SimClock(datetime(2026, 11, 28, 12, 0, tzinfo=UTC), speed=0)
    ledger = Ledger(db, clock, account="test", daily_limit=7500, minute_limit=450, floors=Floors())
    ctx = Context(db, None, ledger, clock, runs.start(db, "test", "test", clock.now()))  # type: ignore[arg-type]
    done = []
    for name, text in (answer for answer in answers for _ in range(2)):
        body = json.loads(text)
        params = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
        now = clock.now()
        response = Response(Request.of(str(body["get"]), params), 200, HEADERS, body, None, now, 40, raw_text=text)
        response = dataclasses.replace(response, error=classify(response, now))
        result = store(ctx, response, Reservation(now.date(), now.replace(second=0, microsecond=0), "MEDIUM", now))
        done.append((name, result.items, result.counts, result.quarantined, result.touched))
        clock.advance(1)
    return done


def snapshot(db: Database) -> dict[str, list[str]]:
    """Every row of every afc table, as sorted text."""
    if db.backend == "sqlite":
        names = [row[0].replace("_", ".", 1) for row in db.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")]
    else:
        names = [f"{schema}.{table}" for schema, table in db.fetchall(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('raw', 'core', 'mart', 'ops') AND table_type = 'BASE TABLE'")]
    return {name: sorted(repr(row) for row in db.fetchall(f"SELECT * FROM {name}")) for name in names}


@pytest.fixture(params=["sqlite", "postgres"])
def twins(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Database, Database]]:
    """Two fresh migrated databases of one backend."""
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            template: Path = request.getfixturevalue("sqlite_template")
            urls = []
            for name in ("reference", "fast"):
                shutil.copyfile(template, tmp_path / f"{name}.db")
                urls.append(f"sqlite:///{tmp_path}/{name}.db")
        else:
            template_name: str = request.getfixturevalue("pg_admin")
            urls = [stack.enter_context(fresh_pg(template_name)) for _ in range(2)]
        pair = connect(urls[0]), connect(urls[1])
        yield pair
        for db in pair:
            db.close()


def test_the_fast_path_writes_what_the_reference_path_wrote(twins: tuple[Database, Database],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    reference_db, fast_db = twins
    answers = recordings()
    with monkeypatch.context() as patch:
        patch.setattr(afc.db, "_canonical", afc.db._reference)
        reference = replay(reference_db, answers)
    fast = replay(fast_db, answers)
    assert fast == reference
    assert snapshot(fast_db) == snapshot(reference_db)
    # what the comparison covers: rows inserted then left alone, a quarantined item, a drift record, marts
    assert sum(r[2].inserted for r in fast) > 1000 and all(r[2].written == 0 for r in fast[1::2])
    assert fast[-1][3] == 1
    tables = snapshot(fast_db)
    assert tables["ops.drift"] and tables["mart.daily_fixtures"] and tables["core.fixture_details"]


def test_the_large_json_columns_are_compressed_with_lz4(pg_url: str) -> None:
    db = connect(pg_url)
    lz4 = db.fetchone("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)")
    found = db.fetchall("""
        SELECT a.attrelid::regclass::text, a.attname, a.attcompression FROM pg_attribute a
        WHERE a.attrelid IN ('raw.responses'::regclass, 'core.fixture_details'::regclass)
          AND a.attname IN ('body', 'body_text', 'events', 'lineups', 'statistics', 'players')""")
    db.close()
    assert len(found) == 6
    assert {row[2] for row in found} == ({"l"} if lz4 else {""})


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@given(JSON)
def test_canonical_json_is_the_standard_library_text(value: Any) -> None:
    expected = None if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"),
                                                     ensure_ascii=False)
    if expected is not None and "\\u0000" in expected:
        return  # NUL is dropped on purpose (PostgreSQL's jsonb cannot hold it): test_db covers that
    assert dump_json(value) == expected


@pytest.mark.parametrize("number", [1e-05, -3.2e-07, 1e16, 1.5e300, 5e-324, 0.0001, 123.25, 2**70, -0.0])
def test_floats_and_big_integers_are_written_as_json_dumps_writes_them(number: float) -> None:
    for value in (number, [number], {"a": {"b": [1, number]}}, ["e-1", "0.00001", number]):
        assert dump_json(value) == json.dumps(value, sort_keys=True, separators=(",", ":"))


def test_the_archive_overlapping_python_work_returns_its_id_and_rolls_back_with_the_block(db: Database) -> None:
    """raw.archiving (PostgreSQL: pipeline mode) gives the raw id after the block, keeps nothing when the block
    fails, and reports a failing statement as a DatabaseError, not a driver error."""
    from afc.collect import raw
    from afc.errors import DatabaseError

    at = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    body = {"get": "status", "parameters": {}, "errors": [], "results": 0, "paging": {"current": 1, "total": 1},
            "response": []}
    response = Response(Request.of("status", {}), 200, HEADERS, body, None, at, 5, raw_text=json.dumps(body))
    raw.prepare(db, at)
    with db.transaction(), raw.archiving(db, response, None) as archived:
        worked = sum(range(1000))  # Python work while the server inserts
    assert worked == 499500
    assert db.fetchone("SELECT endpoint FROM raw.responses WHERE id = %s", (archived.id,)) == ("status",)
    with pytest.raises(ZeroDivisionError), db.transaction(), raw.archiving(db, response, None):
        _ = 1 / 0
    assert db.fetchone("SELECT COUNT(*) FROM raw.responses") == (1,)
    with pytest.raises(DatabaseError), db.transaction(), db.fetchone_meanwhile("SELECT 1 FROM nowhere"):
        pass
    assert db.fetchone("SELECT COUNT(*) FROM raw.responses") == (1,)  # the connection is usable after it


def _row_by_row(db: Database, batch: Any, meta: dict[str, Any], picked: Any, source: Any) -> list[Any]:
    """The reference PostgreSQL upsert: one statement per row, every value a parameter of its own."""
    from afc.db.upsert import RETURNING, upsert_sql, values

    sql = upsert_sql(batch.table, batch.columns, batch.key, batch.stub) + RETURNING
    return [flag for row in values(batch, meta) for flag in db.fetchall(sql, row)]


DETAIL_TEXT = """
SELECT fixture_id, CAST(events AS text), CAST(lineups AS text), CAST(statistics AS text), CAST(players AS text)
FROM core.fixture_details ORDER BY fixture_id"""


def test_postgres_arrays_and_archived_parts_write_what_row_by_row_text_wrote(pg_admin: str,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL's upserts from binary arrays, with detail parts read from the archived body, against the plain
    way: a statement per row and every part sent as JSON text. Same rows (the parts' stored text too), counts,
    quarantine, marts and drift records, for every recording, stored twice."""
    import afc.collect.raw
    import afc.db.upsert

    answers = recordings()
    with fresh_pg(pg_admin) as reference_url, fresh_pg(pg_admin) as fast_url:
        reference_db, fast_db = connect(reference_url), connect(fast_url)
        with monkeypatch.context() as patch:
            patch.setattr(afc.collect.raw.Archived, "source", None)
            patch.setattr(afc.db.upsert, "_pg_upsert", _row_by_row)
            reference = replay(reference_db, answers)
        fast = replay(fast_db, answers)
        assert fast == reference
        assert snapshot(fast_db) == snapshot(reference_db)
        assert fast_db.fetchall(DETAIL_TEXT) == reference_db.fetchall(DETAIL_TEXT)
        assert len(fast_db.fetchall(DETAIL_TEXT)) > 20
        reference_db.close()
        fast_db.close()


def test_postgres_rows_as_one_json_document_write_what_binary_arrays_wrote(pg_admin: str,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Upserts whose rows travel as one JSON document (integers, text, booleans, timestamps, dates) against the
    same upserts from binary arrays: same rows, counts, quarantine, marts and drift records, for every
    recording, stored twice."""
    import afc.db.upsert

    answers = recordings()
    sent: list[str] = []
    document = afc.db.upsert.document

    def counted(batch: Any, types: tuple[str, ...]) -> bytes | None:
        found = document(batch, types)
        sent.extend([batch.table] if found is not None else [])
        return found

    with fresh_pg(pg_admin) as reference_url, fresh_pg(pg_admin) as fast_url:
        reference_db, fast_db = connect(reference_url), connect(fast_url)
        with monkeypatch.context() as patch:
            patch.setattr(afc.db.upsert, "document", lambda batch, types: None)
            reference = replay(reference_db, answers)
        with monkeypatch.context() as patch:
            patch.setattr(afc.db.upsert, "document", counted)
            fast = replay(fast_db, answers)
        assert fast == reference
        assert snapshot(fast_db) == snapshot(reference_db)
        reference_db.close()
        fast_db.close()
    assert {"core.fixtures", "core.teams", "core.leagues", "core.venues"} <= set(sent)  # what went as documents


def test_only_columns_json_carries_exactly_go_as_a_document() -> None:
    from afc.db.upsert import document
    from afc.transform.model import TableRows

    at = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    rows: list[dict[str, Any]] = [{"id": 1, "name": "Arsenal", "kickoff_at": at, "winner": True},
                                  {"id": 2, "name": None, "kickoff_at": None, "winner": None}]
    types = ("integer", "text", "timestamp with time zone", "boolean")
    assert json.loads(document(TableRows("core.x", ("id",), rows), types) or "null") == [
        [1, "Arsenal", "2026-11-28T12:00:00+00:00", True], [2, None, None, None]]  # in the columns' order
    assert document(TableRows("core.x", ("id",), [{"id": 1, "rating": 7.5}]), ("integer", "numeric")) is None
    assert document(TableRows("core.x", ("id",), [{"id": 1}, {"id": "2"}]), ("integer",)) is None  # mixed kinds
    assert document(TableRows("core.x", ("id",), [{"id": True}]), ("integer",)) is None  # a bool is no integer
    assert document(TableRows("core.x", ("id",), [{"id": 2**64}]), ("bigint",)) is None  # past orjson's range
    assert document(TableRows("core.x", ("id",), [{"id": 1, "name": "\ud800"}]), ("integer", "text")) is None


def test_detail_parts_are_picked_from_the_archived_items() -> None:
    """Every part of a detailed item is found in the archive (by the very object), so none is sent as text."""
    from afc import transform
    from afc.db.upsert import Source, encoded, picks

    body = json.loads((SAMPLES / "fixtures_id/footballay__fixtureByFixtureid.json").read_text(encoding="utf-8-sig"))
    items = body["response"]
    batch = transform.run("fixtures", {"id": "1"}, items)
    details = next(rows for rows in batch.tables() if rows.table == "core.fixture_details")
    picked = picks(details, Source(1, datetime(2026, 11, 28, tzinfo=UTC), items))
    assert set(picked) == {"events", "lineups", "statistics", "players"}
    assert all(at == list(range(len(items))) for at in picked.values())
    assert all(row[part] is None for row in encoded(details, picked).rows for part in picked)
    assert picks(details, None) == {}


def test_a_body_kept_as_text_still_gets_its_detail_parts(db: Database) -> None:
    """A body with \\u0000 is archived as text (jsonb cannot hold it): its parts are then sent, not picked."""
    body = json.loads((SAMPLES / "fixtures_id/footballay__fixtureByFixtureid.json").read_text(encoding="utf-8-sig"))
    body["response"][0]["events"][0]["detail"] = "Normal\u0000Goal"
    replay(db, [("nul", json.dumps(body))])
    fixture_id = body["response"][0]["fixture"]["id"]
    row = db.fetchone("SELECT events, players FROM core.fixture_details WHERE fixture_id = %s", (fixture_id,))
    assert row is not None and row[1] is not None
    assert afc.db.load_json(row[0])[0]["detail"] == "NormalGoal"
    assert db.fetchone("SELECT count(*) FROM raw.responses WHERE body IS NULL AND body_text IS NOT NULL") == (
        (2,) if db.backend == "postgres" else (0,))  # replay stores each answer twice


def test_a_part_equal_as_jsonb_but_not_in_bytes_is_unchanged_and_a_changed_part_is_updated(db: Database) -> None:
    """PostgreSQL first recognises an unchanged detail row by its values' bytes (record_image_eq), then by jsonb
    equality: a part whose archived text differs only as 1.00 and 1.0 is unchanged, a changed one is updated."""
    from afc.db.upsert import upsert_arrays_sql

    body = json.loads((SAMPLES / "fixtures_id/footballay__fixtureByFixtureid.json").read_text(encoding="utf-8-sig"))
    body["response"][0]["events"][0]["comments"] = "NUMBER"
    text = json.dumps(body)
    answers = [(name, text.replace('"NUMBER"', number)) for name, number in (("a", "1.00"), ("b", "1.0"), ("c", "2"))]
    done = replay(db, answers)
    assert done[0][2].inserted > 0 and [r[2].written for r in done[1:4]] == [0, 0, 0]
    assert (done[4][2].inserted, done[4][2].updated, done[5][2].written) == (0, 1, 0)
    fixture_id = body["response"][0]["fixture"]["id"]
    events = db.fetchone("SELECT events FROM core.fixture_details WHERE fixture_id = %s", (fixture_id,))
    assert events is not None and afc.db.load_json(events[0])[0]["comments"] == 2
    types = ("integer", "jsonb", "boolean", "timestamp with time zone", "bigint")
    assert "record_image_eq" in upsert_arrays_sql("core.fixture_details", ("fixture_id", "events", "final"),
                                                  types, ("fixture_id",), False)
    assert "record_image_eq" not in upsert_arrays_sql("core.teams", ("id", "name"), ("integer", "text"), ("id",),
                                                      False)
