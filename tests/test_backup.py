"""Backups and restores on both backends: a round trip brings the data back; old backups rotate."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from afc.db import connect
from afc.db.migrate import migrate
from afc.errors import ConfigError
from afc.ops import backup as backups
from afc.ops.backup import BackupError, backup, pg_command, restore
from tests.conftest import scalar

NOW = datetime(2026, 11, 28, 2, 40, tzinfo=UTC)
COUNTRY = "INSERT INTO core.countries (name, code, updated_at) VALUES (%s, %s, %s)"


def countries(db) -> list[tuple]:
    return db.fetchall("SELECT name, code FROM core.countries ORDER BY name")


def test_backup_and_restore_round_trip(db, tmp_path: Path):
    with db.transaction():
        db.execute(COUNTRY, ("England", "GB", NOW))
        db.execute(COUNTRY, ("Spain", "ES", NOW))
    result = backup(db, tmp_path / "backups", NOW, keep=3)
    suffix = ".db" if db.backend == "sqlite" else ".dump"
    assert result.path == tmp_path / "backups" / f"afc-20261128T024000Z{suffix}"
    assert result.size > 0 and result.removed == []
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == [result.path.name]  # no partial left
    with db.transaction():
        db.execute("DELETE FROM core.countries WHERE name = 'Spain'")
        db.execute(COUNTRY, ("Wales", "GB", NOW))
    restore(db, result.path)
    fresh = connect(db.url if db.backend == "sqlite" else db._raw_url)
    try:
        assert countries(fresh) == [("England", "GB"), ("Spain", "ES")]
        assert scalar(fresh, "SELECT COUNT(*) FROM ops.schema_migrations") >= 2
    finally:
        fresh.close()


def test_backups_rotate_keeping_the_newest(sqlite_url, tmp_path: Path):
    db = connect(sqlite_url)
    made = [backup(db, tmp_path / "b", NOW + timedelta(days=i), keep=2) for i in range(4)]
    assert [p.name for p in made[-1].removed] == ["afc-20261129T024000Z.db"]
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["afc-20261130T024000Z.db", "afc-20261201T024000Z.db"]
    db.close()


def test_restore_rejects_a_file_that_is_not_a_backup(sqlite_url, tmp_path: Path):
    bogus = tmp_path / "x.db"
    bogus.write_text("not a database at all" * 100)
    db = connect(sqlite_url)
    with pytest.raises(BackupError, match=r"x\.db: not an afc SQLite backup"):
        restore(db, bogus)
    with pytest.raises(ConfigError, match=r"missing\.db: no such backup file"):
        restore(db, tmp_path / "missing.db")
    db.close()


def test_a_backup_whose_name_holds_uri_characters_is_the_one_restored(sqlite_url, tmp_path: Path):
    """`#`, `?` and `%` in a file name are part of it, not a URI's fragment, query or escape."""
    db = connect(sqlite_url)
    with db.transaction():
        db.execute(COUNTRY, ("England", "GB", NOW))
    decoy = backup(db, tmp_path / "b", NOW, keep=5).path  # a valid afc backup at the name's prefix
    for name, misread in (("one#2.db", "one"), ("two?mode=rw.db", "two"), ("three%41.db", "threeA.db")):
        with db.transaction():
            db.execute("DELETE FROM core.countries")
            db.execute(COUNTRY, (name, "XX", NOW))
        made = backup(db, tmp_path / "b", NOW + timedelta(minutes=1), keep=5).path
        wanted = tmp_path / name
        made.rename(wanted)
        os.link(decoy, tmp_path / misread)
        with db.transaction():
            db.execute("DELETE FROM core.countries")
        restore(db, wanted)
        assert countries(db) == [(name, "XX")], name
    db.close()


def test_a_backup_directory_that_cannot_be_made_is_one_line(sqlite_url, tmp_path: Path):
    db = connect(sqlite_url)
    (tmp_path / "taken").write_text("a file, not a directory")
    for directory, reason in ((tmp_path / "taken", "File exists"), (tmp_path / "taken" / "sub", "Not a directory")):
        with pytest.raises(BackupError) as raised:
            backup(db, directory, NOW, keep=1)
        assert str(raised.value) == f"backup into {directory}: {reason} ({directory})"
    assert (tmp_path / "taken").read_text() == "a file, not a directory"
    db.close()


def test_a_broken_backup_leaves_the_database_as_it_was(db, tmp_path: Path):
    with db.transaction():
        db.execute(COUNTRY, ("England", "GB", NOW))
    broken = tmp_path / ("afc-x.dump" if db.backend == "postgres" else "afc-x.db")
    good = backup(db, tmp_path / "b", NOW, keep=1).path
    broken.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 3])
    with pytest.raises(BackupError, match=r"afc-x\.(dump|db)"):
        restore(db, broken)
    assert countries(db) == [("England", "GB")]


def test_the_password_never_reaches_the_command_line(monkeypatch):
    monkeypatch.setenv("PGHOST", "elsewhere")
    command, env = pg_command("pg_dump", "postgresql://afc:s3cret-pass@db.example:5433/afc", "--format=custom")
    assert "s3cret-pass" not in " ".join(command)
    assert command[1:] == ["--dbname=user=afc dbname=afc host=db.example port=5433", "--format=custom"]
    assert env["PGPASSWORD"] == "s3cret-pass"
    assert "PGHOST" not in env  # the URL alone says where to connect


def test_pg_dump_failure_is_one_line_without_the_password(pg_url, tmp_path: Path, monkeypatch):
    db = connect(pg_url)
    monkeypatch.setattr(db, "_raw_url", pg_url.replace("postgres@", "postgres:hunter22@").replace(
        "/afc_test", "/no_such_db_afc"))
    with pytest.raises(BackupError) as err:
        backup(db, tmp_path, NOW, keep=2)
    assert "hunter22" not in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).startswith("pg_dump of postgresql://postgres:***@127.0.0.1:5432/no_such_db_afc")
    assert list(tmp_path.iterdir()) == []
    db.close()


def test_missing_tool_says_what_to_install(monkeypatch):
    monkeypatch.setattr(backups.shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match=r"pg_dump not found on PATH; install the PostgreSQL client"):
        pg_command("pg_dump", "postgresql://x@h/d")
    assert os.environ.get("PGPASSWORD") is None


@pytest.mark.parametrize("foreign_sql", [
    "CREATE TABLE shop (id int PRIMARY KEY, name text); INSERT INTO shop VALUES (1, 'x')",
    # a Rails-style database: a migrations table, but not afc's
    "CREATE TABLE schema_migrations (version text PRIMARY KEY); INSERT INTO schema_migrations VALUES ('1')",
    "CREATE SCHEMA ops; CREATE TABLE ops.jobs (id int)",
])
def test_postgres_restore_of_a_foreign_dump_touches_nothing(pg_url, tmp_path: Path, foreign_sql):
    import subprocess

    import psycopg

    from tests.conftest import PG_ADMIN

    foreign = f"afc_foreign_{os.getpid()}"
    admin_base = PG_ADMIN.rsplit("/", 1)[0]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{foreign}"')
        conn.execute(f'CREATE DATABASE "{foreign}"')
    try:
        with psycopg.connect(f"{admin_base}/{foreign}", autocommit=True) as conn:
            conn.execute(foreign_sql)
        dump = tmp_path / "foreign.dump"
        command, env = pg_command("pg_dump", f"{admin_base}/{foreign}", "--format=custom", f"--file={dump}")
        subprocess.run(command, env=env, check=True)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{foreign}" WITH (FORCE)')
    db = connect(pg_url)
    with db.transaction():
        db.execute(COUNTRY, ("England", "GB", NOW))
    with pytest.raises(BackupError, match=r"foreign\.dump: not a dump of an afc database .*nothing touched"):
        restore(db, dump)
    assert countries(db) == [("England", "GB")]
    assert scalar(db, "SELECT COUNT(*) FROM ops.schema_migrations") >= 2
    db.close()


def test_the_cli_restore_of_a_foreign_dump_is_one_line_and_exit_1(pg_url, tmp_path: Path):
    from typer.testing import CliRunner

    from afc.cli import app

    dump = tmp_path / "foreign.dump"
    command, env = pg_command("pg_dump", pg_url, "--format=custom", "--schema=raw", f"--file={dump}")
    import subprocess

    subprocess.run(command, env=env, check=True)  # raw alone: no ops.schema_migrations
    result = CliRunner().invoke(app, ["restore", str(dump), "--yes", "--db", pg_url])
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and "not a dump of an afc database" in result.output
    db = connect(pg_url)
    assert scalar(db, "SELECT COUNT(*) FROM ops.schema_migrations") >= 2
    db.close()


def test_rotation_deletes_only_backups_even_beside_the_database(tmp_path: Path):
    """Backing up into the directory that holds the database must never rotate the database away."""
    live = tmp_path / "afc-2024.db"
    db = connect(f"sqlite:///{live}")
    migrate(db)
    with db.transaction():
        db.execute(COUNTRY, ("England", "GB", NOW))
    (tmp_path / "afc-notes.db").write_text("someone else's file")
    made = [backup(db, tmp_path, NOW + timedelta(days=i), keep=1) for i in range(3)]
    assert [p.name for p in made[-1].removed] == ["afc-20261129T024000Z.db"]
    assert sorted(p.name for p in tmp_path.glob("*.db")) == ["afc-2024.db", "afc-20261130T024000Z.db", "afc-notes.db"]
    assert countries(db) == [("England", "GB")]
    db.close()


def test_a_symlink_planted_at_the_partial_name_is_never_written_through(db, tmp_path: Path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"")  # empty: SQLite would have written a whole database into it
    (tmp_path / "b").mkdir()
    suffix = ".db" if db.backend == "sqlite" else ".dump"
    (tmp_path / "b" / f".afc-20261128T024000Z{suffix}.partial").symlink_to(victim)  # the name it used to take
    result = backup(db, tmp_path / "b", NOW, keep=3)
    assert victim.read_bytes() == b"" and result.size > 0 and not result.path.is_symlink()


def test_a_backup_cut_short_by_a_file_size_limit_leaves_nothing_behind(sqlite_url, tmp_path: Path):
    """`ulimit -f` or LimitFSIZE= (or a full disk) mid-copy: SQLite's journal of the copy was left in the backup
    directory, and the message did not say where afc was writing."""
    import resource

    db = connect(sqlite_url)
    migrate(db)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    try:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, hard))
        with pytest.raises(BackupError) as caught:
            backup(db, tmp_path / "backups", NOW, keep=3)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        db.close()
    source = db.path  # type: ignore[attr-defined]
    assert str(caught.value).startswith(f"sqlite backup of {source} into {tmp_path / 'backups'} failed: ")
    assert list((tmp_path / "backups").iterdir()) == []


def test_a_postgres_restore_held_up_by_an_open_transaction_fails_whole_in_bounded_time(pg_url, tmp_path: Path,
                                                                                       monkeypatch):
    import psycopg

    monkeypatch.setattr(backups.ddl, "LOCK_TIMEOUT_MS", 300)
    db = connect(pg_url)
    try:
        with db.transaction():
            db.execute(COUNTRY, ("England", "GB", NOW))
        result = backup(db, tmp_path / "backups", NOW, keep=3)
        with db.transaction():
            db.execute(COUNTRY, ("Wales", "GB", NOW))
        with psycopg.connect(pg_url, autocommit=True) as holder:  # a psql left open after reading a table
            holder.execute("BEGIN")
            holder.execute("SELECT count(*) FROM core.countries")
            with pytest.raises(BackupError, match="lock timeout"):
                restore(db, result.path)  # waited for the holder forever, queueing every reader behind it
            holder.execute("ROLLBACK")
        assert countries(db) == [("England", "GB"), ("Wales", "GB")]  # as it was
    finally:
        db.close()
