"""`afc export`: files read back with pyarrow, csv and json; watermarks; narrowing; nothing half-written."""

from __future__ import annotations

import csv
import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from afc.api.client import Request, Response
from afc.clock import SimClock
from afc.collect import raw
from afc.db import Database, as_datetime, connect
from afc.errors import AfcError, LockHeld
from afc.export import formats
from afc.export.files import LOCK_NAME
from afc.export.run import SETTLE, ExportRequest, export
from afc.ops.lock import file_lock
from tests.conftest import sample
from tests.loading import AT, load

EPL = "fixtures/obissing__matches2023.json"
DETAILED = "fixtures_id/footballay__fixtureByFixtureid.json"
STANDINGS = "standings/obissing__standings2023.json"
LATER = AT + timedelta(minutes=10)  # past the settle window of rows written at AT


def season(db: Database) -> None:
    """The 2023 Premier League season, its table, and one 2024 fixture with every detail part."""
    load(db, "fixtures", {"league": "39", "season": "2023"}, sample(EPL)["response"])
    load(db, "standings", {"league": "39", "season": "2023"}, sample(STANDINGS)["response"], raw_id=2)
    load(db, "fixtures", {"id": "1208397"}, sample(DETAILED)["response"], raw_id=3)


def run(db: Database, out: Path, *tables: str, fmt: str = "parquet", at: datetime = LATER, **options: Any) -> Any:
    return export(db, ExportRequest(tables or ("all",), fmt, out, **options), SimClock(at, speed=0))


def files(out: Path, table: str) -> list[Path]:
    return sorted((out / table).glob("*.*"))


def read(path: Path) -> pa.Table:
    return pq.read_table(path)


def test_parquet_keeps_types_and_values(db, tmp_path):
    season(db)
    report = run(db, tmp_path)
    assert {t.table: t.rows for t in report.tables}["core.fixtures"] == 381
    fixtures = read(files(tmp_path, "core_fixtures")[0])
    types = {f.name: f.type for f in fixtures.schema}
    assert types["id"] == pa.int32() and types["raw_id"] == pa.int64()
    assert types["kickoff_at"] == pa.timestamp("us", tz="UTC") and types["updated_at"] == pa.timestamp("us", tz="UTC")
    assert types["home_winner"] == pa.bool_() and types["round"] == pa.string()
    row = next(r for r in fixtures.to_pylist() if r["id"] == 1035037)
    assert row["kickoff_at"] == datetime(2023, 8, 11, 19, 0, tzinfo=UTC) and row["updated_at"] == AT
    assert (row["home_goals"], row["away_goals"], row["home_winner"], row["away_winner"]) == (0, 3, False, True)
    daily = read(files(tmp_path, "mart_daily_fixtures")[0])
    assert daily.schema.field("match_date").type == pa.date32()
    assert date(2023, 8, 11) in daily.column("match_date").to_pylist()
    details = read(files(tmp_path, "core_fixture_details")[0])
    assert details.schema.field("events").type == pa.json_(pa.string())
    events = json.loads(details.column("events").to_pylist()[0])
    assert len(events) == 17 and events[0]["type"] in {"Goal", "Card", "subst", "Var"}
    stats = read(files(tmp_path, "core_fixture_team_stats")[0])
    assert stats.schema.field("ball_possession").type == pa.float64()
    assert sorted(stats.column("ball_possession").to_pylist()) == sorted(
        float(s["statistics"][9]["value"].rstrip("%")) for s in sample(DETAILED)["response"][0]["statistics"])


def test_both_backends_write_the_same_parquet(sqlite_url, pg_url, tmp_path):
    tables = {}
    for url in (sqlite_url, pg_url):
        db = connect(url)
        season(db)
        out = tmp_path / db.backend
        run(db, out)
        db.close()
        tables[url] = {p.parent.name: read(p) for p in sorted(out.glob("*/*.parquet"))}
    lite, pg = tables.values()
    assert lite.keys() == pg.keys() and "core_fixture_details" in lite
    for name in lite:
        assert lite[name].schema == pg[name].schema, name
        assert _plain(lite[name]) == _plain(pg[name]), name


def _plain(table: pa.Table) -> list[dict[str, Any]]:
    """Rows with JSON columns parsed (PostgreSQL prints jsonb with other spacing and key order)."""
    json_columns = [f.name for f in table.schema if isinstance(f.type, pa.JsonType)]
    rows = table.to_pylist()
    for row in rows:
        for name in json_columns:
            row[name] = json.loads(row[name]) if row[name] is not None else None
    return rows


def test_since_last_exports_only_what_changed(db, tmp_path):
    season(db)
    first = run(db, tmp_path, "core.fixtures", "mart.daily_fixtures", since="last")
    assert [t.rows for t in first.tables] == [381, 381] and first.tables[0].since is None
    assert first.tables[0].watermark == AT
    again = run(db, tmp_path, "core.fixtures", "mart.daily_fixtures", since="last", at=LATER + timedelta(hours=1))
    assert [(t.rows, t.file) for t in again.tables] == [(0, None), (0, None)]
    changed = sample(EPL)["response"][0]
    changed["fixture"]["referee"] = "Someone Else"
    moved = AT + timedelta(hours=2)
    load(db, "fixtures", {"league": "39", "season": "2023"}, [changed], at=moved, raw_id=4)
    third = run(db, tmp_path, "core.fixtures", since="last", at=moved + timedelta(minutes=5))
    assert third.tables[0].rows == 1 and third.tables[0].since == AT and third.tables[0].watermark == moved
    newest = read(Path(third.tables[0].file)).to_pylist()
    assert [(r["id"], r["referee"]) for r in newest] == [(1035037, "Someone Else")]
    assert len(files(tmp_path, "core_fixtures")) == 2


def test_rows_in_the_settle_window_are_exported_again_not_lost(db, tmp_path):
    season(db)
    soon = AT + SETTLE / 2
    first = run(db, tmp_path, "core.fixtures", since="last", at=soon)
    assert first.tables[0].rows == 381 and first.tables[0].watermark == soon - SETTLE
    second = run(db, tmp_path, "core.fixtures", since="last", at=LATER)
    assert second.tables[0].rows == 381 and second.tables[0].watermark == AT


def test_watermarks_are_kept_per_destination_and_format(db, tmp_path):
    season(db)
    run(db, tmp_path / "a", "core.fixtures", since="last")
    assert run(db, tmp_path / "b", "core.fixtures", since="last").tables[0].rows == 381
    assert run(db, tmp_path / "a", "core.fixtures", fmt="csv", since="last").tables[0].rows == 381
    assert run(db, tmp_path / "a", "core.fixtures", since="last").tables[0].rows == 0
    (tmp_path / "link").symlink_to(tmp_path / "a")  # the same directory by another name: the same destination
    assert run(db, tmp_path / "link", "core.fixtures", since="last").tables[0].rows == 0


def test_an_explicit_since_takes_rows_changed_after_it(db, tmp_path):
    season(db)
    report = run(db, tmp_path, "core.fixtures", since=AT - timedelta(seconds=1))
    assert report.tables[0].rows == 381
    assert run(db, tmp_path, "core.fixtures", since=AT).tables[0].rows == 0


def test_csv_writes_iso_timestamps_and_plain_booleans(db, tmp_path):
    season(db)
    run(db, tmp_path, "core.fixtures", "core.fixture_details", fmt="csv")
    with files(tmp_path, "core_fixtures")[0].open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    row = next(r for r in rows if r["id"] == "1035037")
    assert row["kickoff_at"] == "2023-08-11T19:00:00+00:00" and row["home_winner"] == "false"
    assert row["et_home"] == "" and row["referee"] == "C. Pawson"
    with files(tmp_path, "core_fixture_details")[0].open(newline="", encoding="utf-8") as handle:
        detail = next(csv.DictReader(handle))
    assert len(json.loads(detail["events"])) == 17 and detail["final"] == "true"


def test_jsonl_nests_json_parts_and_exports_raw_bodies(db, tmp_path):
    season(db)
    body = sample(DETAILED)
    response = Response(Request.of("fixtures", {"id": 1208397}), 200, {"x-ratelimit-requests-remaining": "7"},
                        body, json.dumps(body), AT, 120, raw_text=json.dumps(body))
    raw.prepare(db, AT)
    with db.transaction():
        raw.insert(db, response, None)
    report = run(db, tmp_path, "core.fixture_details", "raw.responses", fmt="jsonl")
    assert [t.rows for t in report.tables] == [1, 1]
    detail = json.loads(files(tmp_path, "core_fixture_details")[0].read_text().splitlines()[0])
    assert detail["fixture_id"] == 1208397 and len(detail["events"]) == 17 and detail["final"] is True
    assert detail["updated_at"] == AT.isoformat()
    archived = json.loads(files(tmp_path, "raw_responses")[0].read_text())
    assert archived["body"]["response"][0]["fixture"]["id"] == 1208397 and archived["params"] == {"id": "1208397"}
    assert archived["fetched_at"] == AT.isoformat()


def test_league_and_season_narrow_every_table_that_has_them(db, tmp_path):
    season(db)
    report = run(db, tmp_path, league=39, season=2024)
    rows = {t.table: t.rows for t in report.tables}
    assert rows["core.fixtures"] == 1 and rows["core.fixture_details"] == 1 and rows["mart.daily_fixtures"] == 1
    assert rows["core.standings"] == 0 and "core.teams" not in rows and "core.venues" not in rows
    assert read(files(tmp_path, "core_fixture_details")[0]).column("fixture_id").to_pylist() == [1208397]


def test_a_table_a_migration_adds_is_exported_without_code_changes(db, tmp_path):
    with db.transaction():
        db.execute("CREATE TABLE core.extra_notes (id integer PRIMARY KEY, note text, updated_at "
                   + ("timestamptz" if db.backend == "postgres" else "text") + " NOT NULL)")
        db.execute("INSERT INTO core.extra_notes VALUES (1, 'new', %s)", (AT,))
    report = run(db, tmp_path)
    assert {t.table: t.rows for t in report.tables}["core.extra_notes"] == 1
    [row] = read(files(tmp_path, "core_extra_notes")[0]).to_pylist()
    # Without a PostgreSQL migration to read its types from, SQLite's text timestamp stays text.
    assert (row["id"], row["note"], as_datetime(row["updated_at"])) == (1, "new", AT)


def test_a_failure_while_writing_leaves_nothing_behind(db, tmp_path, monkeypatch):
    season(db)

    def broken(self: Any, rows: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(formats.ParquetSink, "write", broken)
    with pytest.raises(Exception, match="No space left on device"):
        run(db, tmp_path / "out", "core.fixtures", since="last")
    assert [p.name for p in (tmp_path / "out").rglob("*") if p.is_file()] == [LOCK_NAME]
    assert db.fetchone("SELECT count(*) FROM ops.export_watermarks")[0] == 0


def test_a_second_export_to_the_same_directory_at_once_does_nothing(db, tmp_path):
    season(db)
    out = tmp_path / "out"
    out.mkdir()
    with file_lock(out / LOCK_NAME, "export"), pytest.raises(LockHeld, match=f"holds {out}/{LOCK_NAME}; nothing"):
        run(db, out, "core.fixtures")
    assert files(out, "core_fixtures") == []
    assert run(db, out, "core.fixtures").tables[0].rows == 381


def test_a_postgresql_array_column_is_exported_as_json(pg_url, tmp_path):
    db = connect(pg_url)
    with db.transaction():
        db.execute("CREATE TABLE mart.tagged (id integer PRIMARY KEY, tags text[], updated_at timestamptz NOT NULL)")
        db.execute("INSERT INTO mart.tagged VALUES (1, ARRAY['a', 'b'], %s), (2, NULL, %s)", (AT, AT))
    run(db, tmp_path, "mart.tagged")
    run(db, tmp_path / "lines", "mart.tagged", fmt="jsonl")
    db.close()
    table = read(files(tmp_path, "mart_tagged")[0])
    assert table.schema.field("tags").type == pa.json_(pa.string())
    assert table.column("tags").to_pylist() == ['["a","b"]', None]
    lines = files(tmp_path / "lines", "mart_tagged")[0].read_text().splitlines()
    assert [json.loads(line)["tags"] for line in lines] == [["a", "b"], None]


HOSTILE = ["two\nlines\r\nand a CR\r", 'quote " comma , semicolon ;', "☃ é 𝔘 \u2028 \u2029 \ufeff", "tab\there",
           "=HYPERLINK(\"x\")", "nul\x00byte"]


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_hostile_text_reads_back_exactly(db, tmp_path, fmt):
    season(db)
    names = HOSTILE if db.backend == "sqlite" else HOSTILE[:-1]  # PostgreSQL text holds no NUL
    ids = [row[0] for row in db.fetchall("SELECT id FROM core.teams ORDER BY id LIMIT %s", (len(names),))]
    with db.transaction():
        for team, name in zip(ids, names, strict=True):
            db.execute("UPDATE core.teams SET name = %s WHERE id = %s", (name, team))
    run(db, tmp_path, "core.teams", fmt=fmt)
    [path] = files(tmp_path, "core_teams")
    if fmt == "parquet":
        got = dict(zip(*read(path).select(["id", "name"]).to_pydict().values(), strict=True))
    elif fmt == "csv":
        with path.open(encoding="utf-8", newline="") as handle:
            got = {int(row["id"]): row["name"] for row in csv.DictReader(handle)}
    else:
        got = {row["id"]: row["name"] for row in map(json.loads, path.read_text(encoding="utf-8").split("\n")[:-1])}
    assert {team: got[team] for team in ids} == dict(zip(ids, names, strict=True))
    assert len(got) == db.fetchone("SELECT count(*) FROM core.teams")[0]


def test_a_file_where_a_table_folder_belongs_is_one_line(db, tmp_path):
    season(db)
    (tmp_path / "core_teams").write_text("not a folder")
    with pytest.raises(AfcError) as raised:
        run(db, tmp_path, "core.teams", since="last")
    assert str(raised.value) == f"export: cannot make the folder {tmp_path / 'core_teams'}: File exists"
    assert (tmp_path / "core_teams").read_text() == "not a folder"
    assert db.fetchone("SELECT count(*) FROM ops.export_watermarks")[0] == 0


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_a_symlink_planted_at_a_temporary_name_is_never_written_through(db, tmp_path, fmt):
    """Whoever can write to the export folder cannot make an export overwrite another file."""
    season(db)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = tmp_path / "out" / "core_teams"
    folder.mkdir(parents=True)
    (folder / f".{LATER:%Y%m%dT%H%M%SZ}.{os.getpid()}.{fmt}.tmp").symlink_to(victim)  # the name it used to take
    run(db, tmp_path / "out", "core.teams", fmt=fmt)
    assert victim.read_text() == "precious"
    [written] = [p for p in files(tmp_path / "out", "core_teams") if not p.name.startswith(".")]
    assert not written.is_symlink() and written.stat().st_size > 0
