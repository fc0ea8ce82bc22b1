"""The database layer: dialect translation, delta-detecting upserts, migrations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from afc.db import as_datetime, connect, load_json, redact_url
from afc.db.migrate import applied, available, migrate, pending
from afc.db.sqlite import split_statements, translate
from afc.db.upsert import apply
from afc.errors import ConfigError, DatabaseError, DatabaseUnavailable
from afc.transform.model import Batch, TableRows

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


def test_a_failed_inner_block_drops_only_its_own_sent_writes(db):
    with db.transaction():
        db.send(TIMEZONE, ("Europe/London", NOW))
        with pytest.raises(RuntimeError), db.transaction():
            db.send(TIMEZONE, ("Europe/Paris", NOW))
            raise RuntimeError("boom")
    kept = [("Europe/London",)] if db.backend == "postgres" else [("Europe/London",), ("Europe/Paris",)]
    assert db.fetchall(ZONES) == kept  # SQLite's inner block joins the outer one (no savepoint)


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
