"""Group locks: a file lock per host, a PostgreSQL advisory lock across hosts; exit 75 when held."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from afc.db import connect
from afc.errors import EXIT_NOTHING_DONE, ConfigError, LockHeld, LockLost
from afc.ops.heartbeat import beat
from afc.ops.lock import hold, hold_all, lock_path
from tests.conftest import pg_scalar

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ADVISORY_LOCKS = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                  "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")

HOLDER = """
import sys
from pathlib import Path
from afc.ops.lock import hold
with hold(Path(sys.argv[1]), sys.argv[2], sys.argv[3]):
    print("held", flush=True)
    sys.stdin.read()
"""


@contextmanager
def held_elsewhere(data_dir: Path, url: str, group: str) -> Iterator[subprocess.Popen]:
    """Another process holding `group`'s lock until we leave the block."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(data_dir), url, group],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.communicate("", timeout=10)


def test_a_second_process_gets_lock_held_with_exit_75(tmp_path, sqlite_url):
    with held_elsewhere(tmp_path, sqlite_url, "daily") as proc:
        held = rf"daily: another afc run \(pid {proc.pid}\) holds {tmp_path}/locks/daily.lock; nothing done"
        with pytest.raises(LockHeld, match=held) as err, hold(tmp_path, sqlite_url, "daily"):
            pass
        assert err.value.exit_code == EXIT_NOTHING_DONE == 75
        with hold(tmp_path, sqlite_url, "backfill"):  # other groups are free
            pass
    with hold(tmp_path, sqlite_url, "daily"):  # released when the holder exits
        assert lock_path(tmp_path, "daily").read_text() != ""


def test_the_lock_is_released_when_the_holder_dies(tmp_path, sqlite_url):
    with held_elsewhere(tmp_path, sqlite_url, "daily") as proc:
        proc.kill()
        proc.wait(timeout=10)
        with hold(tmp_path, sqlite_url, "daily"):
            pass


def test_postgres_advisory_lock_spans_hosts(tmp_path, pg_url):
    host_a, host_b = tmp_path / "a", tmp_path / "b"  # different data dirs: no shared file lock
    with held_elsewhere(host_a, pg_url, "backfill"):
        held = r"backfill: another afc run holds this group's lock in postgresql://postgres@127\.0\.0\.1:5432/afc_test_"
        with pytest.raises(LockHeld, match=held), hold(host_b, pg_url, "backfill"):
            pass
        with hold(host_b, pg_url, "daily"):
            pass
    with hold(host_b, pg_url, "backfill"):
        pass


def test_postgres_advisory_lock_is_free_as_soon_as_the_holder_leaves(tmp_path, pg_url):
    """Unlocked before the connection closes: the server frees a closed session's locks only when its backend
    has exited, after close() returns (left to that, the lock was still there about half of the time)."""
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as watch:
        for _ in range(20):
            with hold(tmp_path, pg_url, "daily"):
                assert pg_scalar(watch, ADVISORY_LOCKS) == 1
            assert pg_scalar(watch, ADVISORY_LOCKS) == 0


def test_the_lock_refuses_a_login_as_the_database_does(tmp_path, pg_url):
    """The lock's own connection is made as afc's others: a login the server refuses is a configuration error
    (exit 2), not an outage a service would wait out."""
    url = "postgresql://afc_nobody_lock@" + pg_url.split("@", 1)[1]
    with pytest.raises(ConfigError, match='refused the login: role "afc_nobody_lock" does not exist'), \
            hold(tmp_path, url, "daily"):
        pass


def test_hold_all_fails_if_any_group_is_held(tmp_path, sqlite_url):
    with held_elsewhere(tmp_path, sqlite_url, "maintenance"):
        with pytest.raises(LockHeld, match="maintenance"), hold_all(tmp_path, sqlite_url,
                                                                    ("bootstrap", "daily", "maintenance")):
            pass
        # the groups taken before the failure were released
        with hold(tmp_path, sqlite_url, "bootstrap"):
            pass


def test_group_names_are_checked():
    with pytest.raises(ConfigError, match=r"lock: group names are lowercase words, got '\.\./x'"):
        lock_path(Path("/tmp"), "../x")


def test_a_symlink_at_the_lock_path_is_refused_not_truncated_through(tmp_path):
    """An export directory may be shared: its lock file must not be a way to truncate another file."""
    from afc.ops.lock import file_lock

    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / ".afc-export.lock"
    link.symlink_to(victim)
    with pytest.raises(ConfigError) as raised, file_lock(link, "export"):
        pass
    assert str(raised.value) == (f"{link}: cannot create the lock file (Too many levels of symbolic links); "
                                 "check AFC_DATA_DIR")
    assert victim.read_text() == "precious"


def test_the_live_service_waits_for_a_database_that_is_not_up_yet(tmp_path, monkeypatch):
    """afc-live started before PostgreSQL (a reboot, a database on another host) exited 1 at once; systemd's start
    limit (5 in 10 min, 10 s apart) then gave up on it for good. Now it waits, 1, 2, 4 … 30 s."""
    import threading
    from contextlib import contextmanager

    from afc.errors import DatabaseUnavailable
    from afc.ops import lock

    tries: list[str] = []

    @contextmanager
    def not_up_yet(url, group):
        tries.append(group)
        if len(tries) < 4:
            raise DatabaseUnavailable("postgresql: cannot connect to postgresql://afc@db/afc for the live lock")
        yield

    monkeypatch.setattr(lock, "advisory_lock", not_up_yet)
    stop, waits, told = threading.Event(), list[float](), list[float]()
    monkeypatch.setattr(stop, "wait", waits.append)
    with lock.hold_waiting(tmp_path, "postgresql://afc@db/afc", "live", stop, lambda d, why: told.append(d)) as held:
        assert held
        with pytest.raises(LockHeld), lock.file_lock(lock.lock_path(tmp_path, "live"), "live"):
            pass  # the file lock is held for the loop's lifetime
    assert waits == told == [1.0, 2.0, 4.0]
    stop.set()
    with lock.hold_waiting(tmp_path, "postgresql://afc@db/afc", "live", stop, lambda d, why: None) as held:
        assert held is False  # SIGTERM while waiting: the loop never starts, exit 0


# --- a session advisory lock freed under its holder (a restart, pg_terminate_backend) ---------------------------

HOLDER_OF = ("SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted "
             "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())")


def at(url: str, sql: str) -> Any:
    """The first value of `sql`'s first row (None without rows), on a connection of its own."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(sql).fetchone()
    return row[0] if row else None


def lock_holder(url: str) -> int | None:
    """The backend holding an advisory lock in this test's database (only its own backends are looked at)."""
    return at(url, HOLDER_OF)


def terminate_holder(url: str) -> int:
    """pg_terminate_backend the lock's backend, then wait until the server has freed the lock."""
    pid = lock_holder(url)
    assert pid is not None
    assert at(url, f"SELECT pg_terminate_backend({pid})") is True
    deadline = time.monotonic() + 10
    while lock_holder(url) == pid:
        assert time.monotonic() < deadline, "the terminated backend still holds the lock"
        time.sleep(0.02)
    return pid


def test_a_lock_whose_session_ended_is_taken_again_before_the_next_write(tmp_path, pg_url, caplog):
    db = connect(pg_url)
    try:
        with hold(tmp_path, pg_url, "daily"):
            first = terminate_holder(pg_url)
            assert lock_holder(pg_url) is None  # what a second run would find free
            beat(db, "probe", NOW)  # the next unit of work
            again = lock_holder(pg_url)
            assert again is not None and again != first
        assert lock_holder(pg_url) is None
    finally:
        db.close()
    assert at(pg_url, "SELECT count(*) FROM ops.heartbeats WHERE name = 'probe'") == 1
    assert [r.getMessage() for r in caplog.records if r.name == "afc.lock"] == [
        "daily: the lock's PostgreSQL session ended (a restart or a terminated backend); took the lock again "
        "before writing on"]


def test_a_lock_lost_to_another_run_stops_the_writer_before_it_writes(tmp_path, pg_url):
    db = connect(pg_url)
    try:
        with hold(tmp_path / "a", pg_url, "daily"):
            beat(db, "a", NOW)
            terminate_holder(pg_url)
            with held_elsewhere(tmp_path / "b", pg_url, "daily"):  # another host's run takes the free lock
                with pytest.raises(LockLost, match="daily: lost this group's lock .* another afc run holds it now; "
                                                   "stopping without writing more") as lost:
                    beat(db, "a", NOW + timedelta(minutes=1))
                assert lost.value.exit_code == EXIT_NOTHING_DONE
                with pytest.raises(LockLost):  # and every unit of work after it, on any new connection too
                    connect(pg_url).execute("SELECT 1")
    finally:
        db.close()
    assert at(pg_url, "SELECT beat_at FROM ops.heartbeats WHERE name = 'a'") == NOW


def test_a_job_group_that_lost_its_lock_leaves_metrics_and_alerts_to_the_new_holder(tmp_path, pg_url):
    from afc.collect.collector import Collector
    from afc.config.settings import load_settings
    from afc.ops.guard import job_group

    settings = load_settings({}, database_url=pg_url, data_dir=tmp_path / "a", metrics_dir=tmp_path / "metrics")
    collector = Collector.open(settings)
    try:
        with pytest.raises(LockLost), job_group(collector, "daily"):
            terminate_holder(pg_url)
            with held_elsewhere(tmp_path / "b", pg_url, "daily"):
                beat(collector.db, "a", NOW)
    finally:
        collector.close()
    assert not list((tmp_path / "metrics").glob("*.prom"))
    assert at(pg_url, "SELECT count(*) FROM ops.heartbeats") == 0
