"""The database layer: dialect translation, delta-detecting upserts, migrations."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest

from afc.db import as_datetime, connect, load_json, redact_url, rows_of
from afc.db.migrate import applied, available, migrate, pending
from afc.db.sqlite import split_statements, translate
from afc.db.upsert import apply
from afc.errors import ConfigError, DatabaseError, DatabaseUnavailable
from afc.transform.model import Batch, Json, TableRows

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
META = {"updated_at": NOW, "raw_id": 1}


def test_translation_to_sqlite():
    sql = "INSERT INTO core.teams AS t (id) VALUES (%(id)s) ON CONFLICT (id) DO NOTHING; SELECT '5%%', %s"
    assert translate(sql) == "INSERT INTO core_teams AS t (id) VALUES (:id) ON CONFLICT (id) DO NOTHING; SELECT '5%', ?"


def test_split_statements_keeps_trigger_bodies_whole():
    script = ("CREATE TABLE a (x int);\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n  SELECT 1;\n  SELECT 2;\nEND;\n"
              "-- done\n")
    assert [s.split()[1] for s in split_statements(script)] == ["TABLE", "TRIGGER"]


def teams(*rows: dict, stub: bool = False) -> TableRows:
    return TableRows("core.teams", ("id",), list(rows), stub)


def test_upsert_counts_inserts_updates_and_unchanged(db):
    with db.transaction():
        first = apply(db, teams({"id": 1, "name": "A"}, {"id": 2, "name": "B"}), META)
    with db.transaction():
        second = apply(db, teams({"id": 1, "name": "A"}, {"id": 2, "name": "B2"}, {"id": 3, "name": "C"}),
                       META | {"raw_id": 2})
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    assert (second.inserted, second.updated, second.unchanged) == (1, 1, 1)
    rows = db.fetchall("SELECT id, name, raw_id FROM core.teams ORDER BY id")
    assert rows == [(1, "A", 1), (2, "B2", 2), (3, "C", 2)]  # the unchanged row keeps its raw_id


def test_stubs_fill_unknown_values_and_never_overwrite(db):
    with db.transaction():
        apply(db, teams({"id": 1, "name": None, "logo": None}, stub=True), META)
        apply(db, teams({"id": 1, "name": "Arsenal", "logo": None}, stub=True), META)
        apply(db, teams({"id": 1, "name": "Full name", "code": "ARS"}), META)
        counts = apply(db, teams({"id": 1, "name": "Old stub name", "logo": "l.png"}, stub=True), META)
    assert db.fetchone("SELECT name, code, logo FROM core.teams")[0:3] == ("Full name", "ARS", "l.png")
    assert counts.updated == 1


def test_null_changes_are_detected(db):
    with db.transaction():
        apply(db, teams({"id": 1, "name": "A", "code": None}), META)
        changed = apply(db, teams({"id": 1, "name": "A", "code": "AAA"}), META)
        back = apply(db, teams({"id": 1, "name": "A", "code": None}), META)
    assert changed.updated == 1 and back.updated == 1


def test_first_columns_are_written_by_the_insert_only(db):
    """A `first` column takes its value when the row is inserted; an existing row keeps its own, and a value
    that differs only there neither counts as a change nor is written."""
    code = lambda name, value: TableRows("core.teams", ("id",), [{"id": 1, "name": name, "code": value}],  # noqa: E731
                                         first=("code",))
    with db.transaction():
        inserted = apply(db, code("A", "AAA"), META)
        same = apply(db, code("A", "BBB"), META | {"raw_id": 2})
        renamed = apply(db, code("A2", None), META | {"raw_id": 3})
    assert [(c.inserted, c.updated, c.unchanged) for c in (inserted, same, renamed)] == [(1, 0, 0), (0, 0, 1),
                                                                                          (0, 1, 0)]
    assert db.fetchone("SELECT name, code, raw_id FROM core.teams") == ("A2", "AAA", 3)


def test_replace_scope_deletes_rows_that_left_the_set(db):
    with db.transaction():
        apply(db, TableRows("core.leagues", ("id",), [{"id": 39}]), META)
        apply(db, TableRows("core.teams", ("id",), [{"id": i} for i in (1, 2, 3)]), META)
    rows = lambda ids: TableRows("core.team_seasons", ("league_id", "season", "team_id"),  # noqa: E731
                                 [{"league_id": 39, "season": 2024, "team_id": i} for i in ids],
                                 replace=("league_id", "season"))
    with db.transaction():
        apply(db, rows([1, 2, 3]), META)
        counts = apply(db, rows([1, 3]), META)
    assert counts.deleted == 1
    assert [r[0] for r in db.fetchall("SELECT team_id FROM core.team_seasons ORDER BY team_id")] == [1, 3]


def test_batch_writes_stubs_before_children_and_drops_stubs_shadowed_by_full_rows():
    batch = Batch()
    batch.add("core.team_seasons", ("league_id", "season", "team_id"), {"league_id": 1, "season": 2, "team_id": 3})
    batch.add("core.teams", ("id",), {"id": 3, "name": "stub"}, stub=True)
    batch.add("core.teams", ("id",), {"id": 3, "name": "full", "code": "X"})
    batch.add("core.teams", ("id",), {"id": 4, "name": "only a stub"}, stub=True)
    batch.commit_item()
    order = [(t.table, t.stub, [r["id"] if "id" in r else r["team_id"] for r in t.rows]) for t in batch.tables()]
    assert order == [("core.teams", True, [4]), ("core.teams", False, [3]), ("core.team_seasons", False, [3])]


def test_a_transaction_rolls_back_on_error(db):
    with pytest.raises(RuntimeError), db.transaction():
        db.execute("INSERT INTO core.timezones (name, updated_at) VALUES (%s, %s)", ("UTC", NOW))
        raise RuntimeError("boom")
    assert db.fetchone("SELECT count(*) FROM core.timezones")[0] == 0


TIMEZONE = "INSERT INTO core.timezones (name, updated_at) VALUES (%s, %s)"
ZONES = "SELECT name FROM core.timezones ORDER BY name"


def test_a_sent_write_lands_before_the_next_statement_and_with_the_commit(db):
    with db.transaction():
        db.send(TIMEZONE, ("Europe/London", NOW))
        assert db.fetchall(ZONES) == [("Europe/London",)]  # the read waits for it
        db.send(TIMEZONE, ("Europe/Paris", NOW))  # nothing reads it: the commit sends it
    db.send(TIMEZONE, ("Europe/Rome", NOW))  # outside a transaction: at once
    assert db.fetchall(ZONES) == [("Europe/London",), ("Europe/Paris",), ("Europe/Rome",)]


def test_a_sent_write_that_fails_fails_its_transaction_and_rolls_back_with_it(db):
    with pytest.raises(DatabaseError, match="core.timezones"), db.transaction():
        db.execute(TIMEZONE, ("Europe/London", NOW))
        db.send(TIMEZONE, ("Europe/London", NOW))  # a duplicate key, raised by the next statement
        db.fetchall(ZONES)
    assert db.fetchall(ZONES) == []
    with pytest.raises(RuntimeError), db.transaction():
        db.send(TIMEZONE, ("Europe/Paris", NOW))
        raise RuntimeError("boom")
    db.execute("SELECT 1")  # nothing left held from the failed block
    assert db.fetchall(ZONES) == []


def test_a_write_sent_at_once_lands_and_fails_as_a_held_one(db):
    """`send(at_once=True)`: PostgreSQL sends it before the block goes on; the next statement that waits, or the
    commit, collects it and raises its error; a block that fails rolls it back; in a savepoint it is held."""
    london, paris, rome = ("Europe/London",), ("Europe/Paris",), ("Europe/Rome",)
    with db.transaction():
        db.send(TIMEZONE, ("Europe/London", NOW), at_once=True)
        db.send(TIMEZONE, ("Europe/Paris", NOW))  # held behind it
        assert db.fetchall(ZONES) == [london, paris]
        db.send(TIMEZONE, ("Europe/Rome", NOW), at_once=True)  # nothing reads it: the commit collects it
    assert db.fetchall(ZONES) == [london, paris, rome]
    with pytest.raises(DatabaseError, match="core.timezones"), db.transaction():
        db.send(TIMEZONE, ("Europe/Madrid", NOW), at_once=True)
        db.send(TIMEZONE, ("Europe/London", NOW), at_once=True)  # a duplicate key
        db.fetchall(ZONES)
    with pytest.raises(RuntimeError), db.transaction():
        db.send(TIMEZONE, ("Europe/Madrid", NOW), at_once=True)
        raise RuntimeError("boom")
    with db.transaction():
        db.send(TIMEZONE, ("Europe/Lisbon", NOW), at_once=True)
        with pytest.raises(RuntimeError), db.transaction():
            db.send(TIMEZONE, ("Europe/Oslo", NOW), at_once=True)
            raise RuntimeError("boom")
    oslo = [] if db.backend == "postgres" else [("Europe/Oslo",)]  # SQLite's inner block joins the outer one
    assert db.fetchall(ZONES) == [("Europe/Lisbon",), london, *oslo, paris, rome]


def test_a_failed_inner_block_drops_only_its_own_sent_writes(db):
    with db.transaction():
        db.send(TIMEZONE, ("Europe/London", NOW))
        with pytest.raises(RuntimeError), db.transaction():
            db.send(TIMEZONE, ("Europe/Paris", NOW))
            raise RuntimeError("boom")
    kept = [("Europe/London",)] if db.backend == "postgres" else [("Europe/London",), ("Europe/Paris",)]
    assert db.fetchall(ZONES) == kept  # SQLite's inner block joins the outer one (no savepoint)


KEPT = ("integer", "jsonb", "text", "timestamptz")
KEEP = "INSERT INTO ops.notify_fixtures (fixture_id, state, sig, updated_at) {rows}"
STATES = "SELECT fixture_id, state, sig, updated_at FROM ops.notify_fixtures ORDER BY fixture_id"


@pytest.mark.parametrize("odd", [None, "nul", "big"])
def test_rows_as_a_statements_source_land_as_given(db, odd):
    """`rows_of`: JSON values into jsonb columns (NULL for None), text and timestamps as they are, whether the rows
    travel as one JSON document (PostgreSQL) or, for a value JSON cannot carry as it is, column arrays."""
    state: dict[str, Any] = {"status": "1H", "score": [1, None], "incidents": {"g": "K. Mbappé \"Kylian\"\n"}}
    rows = [(1, state, "é\\\t", NOW), (2, {"lineups": True}, "b", NOW)]
    if odd == "nul":
        rows.append((3, {"who": "a\x00b"}, "c", NOW))  # jsonb holds no NUL: dump_json drops it
    if odd == "big":
        rows.append((3, {"id": 2**70}, "c", NOW))  # past orjson's range
    with db.transaction():
        source, params = rows_of(db, rows, KEPT)
        db.execute(KEEP.format(rows=source), params)
    found = [(f, load_json(s), sig, as_datetime(at)) for f, s, sig, at in db.fetchall(STATES)]
    expected = [(1, state, "é\\\t", NOW), (2, {"lineups": True}, "b", NOW)]
    third: dict[str, list[tuple[int, dict[str, Any], str, datetime]]] = {
        "nul": [(3, {"who": "ab"}, "c", NOW)], "big": [(3, {"id": 2**70}, "c", NOW)]}
    expected += third.get(odd or "", [])
    assert found == expected


def test_timestamps_and_json_round_trip(db):
    with db.transaction():
        db.execute("INSERT INTO ops.quarantine (raw_id, endpoint, item_index, item, reason, created_at) "
                   "VALUES (1, 'x', 0, %s, 'r', %s)", ('{"a": [1, 2]}', NOW))
    item, created = db.fetchone("SELECT item, created_at FROM ops.quarantine")
    assert load_json(item) == {"a": [1, 2]} and as_datetime(created) == NOW


def test_bad_sql_is_a_database_error_with_the_statement(db):
    with pytest.raises(DatabaseError, match="no_such_table"):
        db.fetchall("SELECT * FROM core.no_such_table")


def test_migrations_are_recorded_and_idempotent(db):
    assert pending(db) == [] and applied(db) == {m.version for m in available(db.backend)}
    assert migrate(db) == []


def test_both_backends_ship_the_same_migration_numbers():
    assert [m.version for m in available("sqlite")] == [m.version for m in available("postgres")]


def test_unknown_urls_and_unreachable_servers_are_clear(tmp_path):
    with pytest.raises(ConfigError, match="use sqlite:///path/to/afc.db or postgresql://"):
        connect("mysql://x")
    with pytest.raises(DatabaseUnavailable, match="postgresql: cannot connect to postgresql://afc:\\*\\*\\*@127.0.0.1:1/x"):
        connect("postgresql://afc:hunter2@127.0.0.1:1/x")
    assert redact_url("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"


# --- SQLite's datetimes: formatted once, as the adapter formats them -------------------------------

def _moments() -> list[Any]:
    from datetime import timedelta, timezone
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    # 01:30 on 2023-10-29 happens twice in London: equal as values of one zone, an hour apart as instants
    early, late = datetime(2023, 10, 29, 1, 30, tzinfo=london), datetime(2023, 10, 29, 1, 30, fold=1, tzinfo=london)
    return [NOW, datetime(2026, 11, 28, 12, tzinfo=UTC), NOW.replace(microsecond=5), early, late,
            datetime(2026, 11, 28, 13, tzinfo=timezone(timedelta(hours=1))), datetime(2026, 11, 28, 12),
            None, 7, "text", NOW.date()]


def test_sqlite_parameters_are_the_adapters_text_for_every_kind_of_datetime():
    import sqlite3

    from afc.db.sqlite import NULL, parameters, utc_text

    moments = _moments()
    rows = [{"id": n, "at": value, "other": moments[-1 - n]} for n, value in enumerate(moments)]
    sent, as_bytes = parameters(rows, ("id", "at", "other"), (NOW, 3))
    assert as_bytes == ()
    adapt = sqlite3.adapters[(datetime, sqlite3.PrepareProtocol)]
    expected = [tuple(utc_text(v) if type(v) is datetime else NULL if v is None else v
                      for v in (r["id"], r["at"], r["other"], NOW, 3)) for r in rows]
    assert sent == expected
    assert [adapt(v) for v in moments if type(v) is datetime] == [utc_text(v) for v in moments if type(v) is datetime]
    assert sent[3][1] != sent[4][1]  # the repeated hour's two instants, equal as values, stay two texts
    assert sent[0][1] == sent[1][1] == "2026-11-28T12:00:00+00:00" and sent[5][1] == sent[0][1]


def test_sqlite_parameters_store_what_the_values_would_themselves(tmp_path):
    """None goes as NaN and a bool as its int (both bind faster): what is stored is the same NULL and integer, and a
    float column's 1.0 and 0.0 stay floats beside its bools."""
    from afc.db.sqlite import parameters

    db = connect(f"sqlite:///{tmp_path}/a.db")
    db.execute("CREATE TABLE t (n integer, flag, mixed, word, part, real_one, seen)")
    rows: list[dict[str, Any]] = [
        {"n": 1, "flag": True, "mixed": 1.0, "word": None, "part": Json({"a": [1]}), "real_one": 2.5,
         "seen": NOW.date()},
        {"n": 2, "flag": False, "mixed": True, "word": "x", "part": Json(None), "real_one": None, "seen": None},
        {"n": 3, "flag": None, "mixed": None, "word": "", "part": None, "real_one": 0.0, "seen": NOW.date()}]
    columns = ("n", "flag", "mixed", "word", "part", "real_one", "seen")
    sent, as_bytes = parameters(rows, columns, ())
    assert as_bytes == ("part",)
    db.executemany(f"INSERT INTO t VALUES ({', '.join(['%s'] * len(columns))})", sent)
    typed = "typeof(flag), flag, typeof(mixed), mixed, typeof(word), word, typeof(part), CAST(part AS TEXT), " \
            "typeof(real_one), real_one, seen"
    assert db.fetchall(f"SELECT n, {typed} FROM t ORDER BY n") == [
        (1, "integer", 1, "real", 1.0, "null", None, "blob", '{"a":[1]}', "real", 2.5, NOW.date().isoformat()),
        (2, "integer", 0, "integer", 1, "text", "x", "null", None, "null", None, None),
        (3, "null", None, "null", None, "text", "", "null", None, "real", 0.0, NOW.date().isoformat())]
    db.close()


def test_sqlite_stores_the_same_text_for_a_datetime_however_it_is_sent(tmp_path):
    db = connect(f"sqlite:///{tmp_path}/a.db")
    db.execute("CREATE TABLE t (n integer, at text)")
    moments = [m for m in _moments() if type(m) is datetime]
    db.executemany("INSERT INTO t VALUES (%s, %s)", [(n, m) for n, m in enumerate(moments)])  # the adapter
    same = moments[0]
    db.executemany("INSERT INTO t VALUES (%s, %s)", [(-1, same), (-2, same)])  # the last one kept
    from afc.db.sqlite import utc_text

    assert db.fetchall("SELECT n, at FROM t WHERE n >= 0 ORDER BY n") == [(n, utc_text(m)) for n, m in
                                                                           enumerate(moments)]
    assert {at for (at,) in db.fetchall("SELECT at FROM t WHERE n < 0")} == {utc_text(same)}
    db.close()


def test_an_upsert_of_rows_with_datetimes_sees_them_unchanged_the_second_time(db):
    aware = [m for m in _moments() if type(m) is datetime and m.tzinfo is not None]
    rows: list[dict[str, Any]] = [{"id": n, "league_id": 39, "season": 2023, "kickoff_at": m}
                                  for n, m in enumerate(aware, start=1)]
    with db.transaction():
        apply(db, TableRows("core.leagues", ("id",), [{"id": 39}], stub=True), META)
        first = apply(db, TableRows("core.fixtures", ("id",), rows), META)
        again = apply(db, TableRows("core.fixtures", ("id",), [dict(r) for r in rows]), META)
    assert (first.inserted, again.unchanged, again.written) == (len(rows), len(rows), 0)
    stored = dict(db.fetchall("SELECT id, kickoff_at FROM core.fixtures"))
    instants = [as_datetime(stored[r["id"]]).timestamp() for r in rows]  # type: ignore[union-attr]
    assert instants == [r["kickoff_at"].timestamp() for r in rows]
    assert instants[4] - instants[3] == 3600  # the repeated hour: two instants


def test_sqlite_parameters_encode_json_columns_as_the_shared_encoder_does():
    from afc.db.sqlite import NULL, parameters
    from afc.db.upsert import encoded, values

    rows: list[dict[str, Any]] = [
        {"id": 1, "events": Json([{"b": 1, "a": "é\x00"}]), "at": NOW, "n": 1e-05},
        {"id": 2, "events": None, "at": None, "n": 2},
        {"id": 3, "events": Json({"z": [1.5, None]}), "at": NOW.replace(microsecond=7), "n": None}]
    batch = TableRows("core.fixture_details", ("id",), rows)
    tail = (NOW, 9)
    reference = [tuple(v.astimezone(UTC).isoformat() if isinstance(v, datetime) else NULL if v is None else v
                       for v in row)
                 for row in values(encoded(batch), {"updated_at": NOW, "raw_id": 9})]
    sent, as_bytes = parameters(rows, batch.columns, tail)
    assert as_bytes == ("events",)  # sent as the bytes of the text, which the upsert casts to text
    assert [tuple(v.decode() if isinstance(v, bytes) else v for v in row) for row in sent] == reference
    assert reference[0][1] == '[{"a":"é","b":1}]' and sent[0][1] == reference[0][1].encode()


def test_json_columns_are_stored_as_text_whichever_way_they_travel(db):
    """SQLite gets a JSON column as UTF-8 bytes cast to text by the upsert: stored as text (never a blob), the
    canonical text, and unchanged when written again."""
    from afc.db import dump_json
    from afc.transform.model import Json

    parts = [{"b": 1, "a": "é"}, {"z": [1.5, None], "k": "Ünal"}]
    row = lambda n: {"fixture_id": n, "events": Json(parts), "players": None}  # noqa: E731
    with db.transaction():
        apply(db, TableRows("core.leagues", ("id",), [{"id": 39}], stub=True), META)
        apply(db, TableRows("core.fixtures", ("id",), [{"id": n, "league_id": 39} for n in (1, 2)]), META)
        first = apply(db, TableRows("core.fixture_details", ("fixture_id",), [row(1), row(2)]), META)
        again = apply(db, TableRows("core.fixture_details", ("fixture_id",), [row(1), row(2)]), META)
    assert (first.inserted, again.unchanged, again.written) == (2, 2, 0)
    stored = db.fetchall("SELECT events, players FROM core.fixture_details ORDER BY fixture_id")
    assert [load_json(events) for events, _ in stored] == [parts, parts]
    assert [players for _, players in stored] == [None, None]
    if db.backend == "sqlite":
        assert db.fetchall("SELECT DISTINCT typeof(events) FROM core.fixture_details") == [("text",)]
        assert {events for events, _ in stored} == {dump_json(parts)}


def test_translate_remembers_short_texts_only() -> None:
    """A text built by count (an IN list, a VALUES list) is translated each time, not kept: a long-running
    process would otherwise hold one per count it ever used."""
    from afc.db import sqlite as lite

    short = "SELECT id FROM core.teams WHERE id = %s"
    assert translate(short) == translate(short) == "SELECT id FROM core_teams WHERE id = ?"
    before = lite._cached.cache_info().currsize
    for count in range(600, 1000):  # 400 texts of 2.4 kB and more
        listed = f"SELECT id FROM core.fixtures WHERE id IN ({', '.join(['%s'] * count)})"
        assert translate(listed) == f"SELECT id FROM core_fixtures WHERE id IN ({', '.join(['?'] * count)})"
    assert lite._cached.cache_info().currsize - before < 20  # (other threads of the process may translate too)


def test_postgres_prepares_statements_at_their_first_run_inside_prepared_early_only(db):
    """Inside `prepared_early` (a rebuild) PostgreSQL prepares a statement the first time it runs; outside, as
    psycopg does by default (the sixth). SQLite's block changes nothing."""
    db.run_script("CREATE TABLE core.t (n integer);\nINSERT INTO core.t VALUES (1);\nINSERT INTO core.t VALUES (2);\n")
    with db.prepared_early():
        assert db.fetchall("SELECT n FROM core.t WHERE n > %s ORDER BY n", (0,)) == [(1,), (2,)]
    assert db.fetchall("SELECT n FROM core.t WHERE n < %s ORDER BY n", (2,)) == [(1,)]
    if db.backend == "postgres":
        prepared = " ".join(s for (s,) in db.fetchall("SELECT statement FROM pg_prepared_statements"))
        assert "n > $1" in prepared and "n < $1" not in prepared


def test_a_statement_past_postgresqls_limits_is_its_error_not_an_outage(pg_url):
    """'index row requires … bytes' (class 54, an OperationalError in psycopg) read as 'the database cannot be reached
    right now; waiting may help', without the statement."""
    text = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(5000))  # 15 kB that do not compress
    db = connect(pg_url)
    try:
        with pytest.raises(DatabaseError) as caught, db.transaction():
            db.execute("CREATE TEMP TABLE wide (t text PRIMARY KEY)")
            db.execute("INSERT INTO wide VALUES (%s)", (text,))
    finally:
        db.close()
    assert not isinstance(caught.value, DatabaseUnavailable)
    assert "index row" in str(caught.value) and "(in: INSERT INTO wide" in str(caught.value)


def test_a_transaction_cut_off_mid_statement_leaves_the_database_usable(pg_url):
    """Ctrl-C or SIGTERM raised inside libpq's exchange left the connection busy: the ROLLBACK failed ('another command
    is already in progress', silenced) and so did every later statement — the interrupted run could not be closed."""
    db = connect(pg_url)
    try:
        db.execute("CREATE TABLE cut (n integer)")
        with pytest.raises(KeyboardInterrupt), db.transaction():
            db.execute("INSERT INTO cut VALUES (1)")
            db.conn.pgconn.send_query(b"SELECT pg_sleep(0.2)")  # type: ignore[attr-defined]  # its answer never read
            raise KeyboardInterrupt
        assert db.fetchall("SELECT n FROM cut") == []  # the transaction went with the old session
        with db.transaction():
            db.execute("INSERT INTO cut VALUES (2)")
        assert db.fetchall("SELECT n FROM cut") == [(2,)]
        for then in ("SELECT n FROM cut", None):  # cut off outside a transaction: the next statement, or a block
            db.conn.pgconn.send_query(b"SELECT pg_sleep(0.2)")  # type: ignore[attr-defined]
            if then:
                assert db.fetchall(then) == [(2,)]
            else:
                with db.transaction():
                    db.execute("INSERT INTO cut VALUES (3)")
        assert db.fetchall("SELECT n FROM cut ORDER BY n") == [(2,), (3,)]
    finally:
        db.close()


def test_a_write_locked_out_by_another_writer_says_which_file_and_what_to_do(sqlite_url, monkeypatch):
    """It said only 'sqlite: database is locked' (no file, no next step)."""
    import sqlite3

    import afc.db.sqlite as backend

    monkeypatch.setattr(backend, "BUSY_TIMEOUT", 0.2)
    db = backend.SqliteDatabase.open(sqlite_url)
    other = sqlite3.connect(db.path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseUnavailable) as caught, db.transaction():
            db.execute("SELECT 1")
    finally:
        other.rollback()
        other.close()
        db.close()
    assert str(caught.value) == (f"sqlite: {db.path} is locked: another process held its write lock for 0.2 s; "
                                 "try again when it is done")


def test_a_full_disk_says_which_file_and_that_nothing_was_written(sqlite_url):
    """It said 'sqlite: database or disk is full (in: COMMIT)': no file, no next step."""
    import afc.db.sqlite as backend

    db = backend.SqliteDatabase.open(sqlite_url)
    try:
        db.execute("CREATE TABLE filler (body BLOB)")
        pages = db.fetchone("PRAGMA page_count")[0]  # type: ignore[index]
        db.execute(f"PRAGMA max_page_count = {pages + 2}")  # what a full disk does, at a size of our choosing
        with pytest.raises(DatabaseError) as caught, db.transaction():
            db.execute("INSERT INTO filler VALUES (zeroblob(100000))")
        assert db.fetchone("SELECT count(*) FROM filler") == (0,)
    finally:
        db.close()
    assert str(caught.value) == (f"sqlite: {db.path}: the disk is full or a file-size limit was reached; "
                                 "nothing of this transaction was written; free space and run again")


def test_a_read_only_directory_is_named_when_the_database_cannot_open(sqlite_url, tmp_path, monkeypatch):
    """A WAL database in a read-only directory (a filesystem remounted read-only after errors) cannot be opened
    even to read; the message said only 'unable to open database file'."""
    import afc.db.sqlite as backend

    backend.SqliteDatabase.open(sqlite_url).close()
    path = backend._path_from_url(sqlite_url)
    monkeypatch.setattr(backend.os, "access", lambda folder, mode: mode != backend.os.W_OK)
    monkeypatch.setattr(backend.sqlite3, "connect", lambda *a, **k: (_ for _ in ()).throw(
        sqlite3.OperationalError("unable to open database file")))
    with pytest.raises(DatabaseUnavailable) as caught:
        backend.SqliteDatabase.open(sqlite_url)
    folder = os.path.dirname(path)
    name = os.path.basename(path)
    assert str(caught.value) == (f"sqlite: cannot open {path}: unable to open database file (its directory {folder} "
                                 f"is read-only: SQLite writes {name}-wal and -shm there even to read)")


def test_a_write_to_a_read_only_database_says_which_file(sqlite_url):
    import afc.db.sqlite as backend

    backend.SqliteDatabase.open(sqlite_url).close()
    db = backend.SqliteDatabase.open(sqlite_url, read_only=True)
    try:
        with pytest.raises(DatabaseError) as caught:
            db.execute("CREATE TABLE t (x INTEGER)")
    finally:
        db.close()
    assert str(caught.value).startswith(f"sqlite: {db.path} is read-only (attempt to write a readonly database)")


def test_a_file_size_limit_says_which_file_and_where_to_look(sqlite_url):
    """`ulimit -f` or systemd's LimitFSIZE=: writes fail with EFBIG, which SQLite reports as a disk I/O error."""
    import resource

    import afc.db.sqlite as backend

    db = backend.SqliteDatabase.open(sqlite_url)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    try:
        db.execute("CREATE TABLE filler (body BLOB)")
        resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(db.path + "-wal") + 4096, hard))
        with pytest.raises(DatabaseError) as caught, db.transaction():
            db.execute("INSERT INTO filler VALUES (zeroblob(1000000))")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        db.close()
    assert str(caught.value).startswith(f"sqlite: {db.path}: disk I/O error (SQLITE_IOERR")
    assert "nothing of this transaction was written" in str(caught.value) and "ulimit -f" in str(caught.value)
