"""DDL afc runs while others work waits for its locks a bounded time, never queueing everyone behind it: a session
holding a lock (an open `psql`, a long MCP query) makes a migration, a new raw partition or a pruned one fail with
one line naming the table and the session, after a few logged tries, with nothing half-applied."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from afc.collect import raw
from afc.db import Database, connect, ddl
from afc.db import migrate as migrations
from afc.ops.retention import prune
from tests.conftest import PG_ADMIN, pg_scalar

PROBE = """
CREATE TABLE ops.ddl_probe (id integer PRIMARY KEY);
ALTER TABLE core.fixtures ADD COLUMN ddl_probe integer;
"""


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Waits of 0.3 s and short pauses, so that three tries take a second."""
    monkeypatch.setattr(ddl, "LOCK_TIMEOUT_MS", 300)
    monkeypatch.setattr(ddl, "PAUSE", 0.05)


@pytest.fixture
def pg(pg_url: str) -> Iterator[Database]:
    db = connect(pg_url)
    yield db
    db.close()


def hold(url: str, table: str) -> psycopg.Connection[Any]:
    """A second session left idle in a transaction that has read `table` (its ACCESS SHARE lock held)."""
    conn = psycopg.connect(url, autocommit=True, application_name="psql")
    conn.execute("BEGIN")
    conn.execute(f"SELECT count(*) FROM {table}")
    return conn


def test_a_migration_blocked_by_an_open_transaction_fails_whole_and_queues_no_one(
        pg: Database, pg_url: str, quick: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    probe = tmp_path / "9999_ddl_probe.sql"
    probe.write_text(PROBE)
    shipped = migrations.available("postgres")
    monkeypatch.setattr(migrations, "available", lambda backend: [*shipped, migrations.Migration(9999, "ddl_probe",
                                                                                                 probe)])
    holder = hold(pg_url, "core.fixtures")
    pid = holder.info.backend_pid
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            migrations.migrate(pg)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            outcome.append(exc)

    caplog.set_level(logging.WARNING, logger="afc.db")
    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.1)  # the ALTER is waiting now: a reader arriving behind it must not wait for the holder
    with psycopg.connect(pg_url, autocommit=True) as reader:
        reader.execute("SET statement_timeout = '5s'")
        started = time.monotonic()
        reader.execute("SELECT count(*) FROM core.fixtures")
        assert time.monotonic() - started < 2
    worker.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], ddl.DdlBlocked), outcome
    message = str(outcome[0])
    assert message.startswith("postgresql: migration 9999_ddl_probe: gave up after 3 waits of 0.3 s for a lock on ")
    assert "core.fixtures" in message and f"pid {pid} (psql, idle in transaction for " in message
    assert "\n" not in message
    assert len([r for r in caplog.records if "trying again" in r.getMessage()]) == 2
    assert pg.fetchone("SELECT to_regclass('ops.ddl_probe') IS NULL") == (True,)  # nothing half-applied
    assert pg.fetchone("SELECT count(*) FROM ops.schema_migrations WHERE version = 9999") == (0,)
    holder.execute("ROLLBACK")
    holder.close()
    assert [m.version for m in migrations.migrate(pg)] == [9999]
    assert pg.fetchone("SELECT count(ddl_probe) FROM core.fixtures") == (0,)


def test_a_new_raw_partition_waits_a_bounded_time(pg: Database, pg_url: str, quick: None) -> None:
    at = datetime(2031, 5, 3, tzinfo=UTC) + timedelta(minutes=uuid.uuid4().int % 1000)
    holder = hold(pg_url, "raw.responses")
    with pytest.raises(ddl.DdlBlocked, match=r"the 2031-05 partition of raw.responses: gave up after 3 waits .* "
                                             r"held by pid \d+ \(psql, idle in transaction for \d+ s\) on raw\."):
        raw.prepare(pg, at)
    assert pg.fetchone("SELECT to_regclass('raw.responses_2031_05') IS NULL") == (True,)
    holder.close()
    raw.prepare(pg, at)
    assert pg.fetchone("SELECT to_regclass('raw.responses_2031_05') IS NOT NULL") == (True,)


def test_dropping_an_old_raw_partition_waits_a_bounded_time(pg: Database, pg_url: str, quick: None) -> None:
    raw.prepare(pg, datetime(2020, 1, 15, tzinfo=UTC))
    holder = hold(pg_url, "raw.responses_2020_01")
    now = datetime(2026, 11, 28, tzinfo=UTC)
    with pytest.raises(ddl.DdlBlocked, match=r"dropping raw.responses_2020_01: .* on raw.responses_2020_01"):
        prune(pg, timedelta(days=90), now)
    holder.close()
    assert prune(pg, timedelta(days=90), now).partitions_dropped == ["responses_2020_01"]


def test_afc_db_migrate_blocked_is_one_line_exit_1_and_applies_nothing(pg_admin: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"afc_test_ddl_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        shipped = migrations.available("postgres")
        monkeypatch.setattr(migrations, "available", lambda backend: shipped[:-1])
        db = connect(url)
        migrations.migrate(db)  # all but the last, which locks raw.responses (CREATE and DROP INDEX)
        db.close()
        holder = hold(url, "raw.responses")
        done = subprocess.run([sys.executable, "-m", "afc", "db", "migrate", "--db", url], capture_output=True,
                              text=True, timeout=120, env={**os.environ, "AFC_LOG_FORMAT": "text"})
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
        last = done.stderr.splitlines()[-1]
        assert last.startswith(f"afc: postgresql: migration {shipped[-1].version:04d}_{shipped[-1].name}: gave up "
                               "after 3 waits of 5 s for a lock on raw.responses")
        assert f"pid {holder.info.backend_pid} (psql, idle in transaction for" in last
        assert done.stderr.count("trying again") == 2
        with psycopg.connect(url, autocommit=True) as conn:
            assert pg_scalar(conn, "SELECT max(version) FROM ops.schema_migrations") == shipped[-2].version
            assert pg_scalar(conn, "SELECT to_regclass('raw.responses_season_call_idx') IS NULL") is True
        holder.close()
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_blocked_partition_fails_before_the_call_is_paid_for(pg_url: str, quick: None) -> None:
    """The month's partition is made before the request is sent: blocked, the step fails with the API not called
    (no quota spent); made only when storing, the answer the API had counted was lost with it."""
    from afc.api.client import ApiClient, Request
    from afc.clock import SimClock
    from afc.collect import step as pipeline
    from afc.collect.collector import Collector
    from afc.config.settings import load_settings
    from tests.conftest import sample
    from tests.fakeapi import KEY, Answer, FakeApi

    clock = SimClock(datetime(2033, 1 + uuid.uuid4().int % 12, 10, tzinfo=UTC), speed=0)
    api = FakeApi({"countries": Answer(200, sample("countries/syurchen93__countries-one.json"))})
    client = ApiClient("http://api.test", KEY, clock, transport=api.transport())
    collector = Collector.open(load_settings({}, api_key=KEY, database_url=pg_url), clock=clock, client=client)
    holder = hold(pg_url, "raw.responses")
    try:
        ctx = collector.context("test", "test", "LOW")
        with pytest.raises(ddl.DdlBlocked, match="partition of raw.responses"):
            pipeline.step(ctx, Request.of("countries"))
        assert api.requests == []
        holder.execute("ROLLBACK")
        pipeline.step(ctx, Request.of("countries"))
        assert len(api.requests) == 1
        assert collector.db.fetchone("SELECT count(*) FROM raw.responses WHERE endpoint = 'countries'") == (1,)
    finally:
        holder.close()
        collector.close()


def test_a_session_holding_several_tables_is_named_once_with_its_tables(pg: Database, pg_url: str) -> None:
    """One entry per session: a session holding two of the tables (one of them in two lock modes) had been listed
    once per table and mode, the same pid three times."""
    holder = hold(pg_url, "core.fixtures")
    holder.execute("SELECT count(*) FROM core.teams")
    holder.execute("LOCK TABLE core.teams IN ROW EXCLUSIVE MODE")
    pid = holder.info.backend_pid
    try:
        held = ddl.holders(pg, ["core.fixtures", "core.teams"])
    finally:
        holder.close()
    assert held.count(f"pid {pid} ") == 1, held
    assert held.startswith("core.fixtures, core.teams, held by ")
    assert f"pid {pid} (psql, idle in transaction for " in held
    assert held.endswith(" s) on core.fixtures, core.teams"), held
