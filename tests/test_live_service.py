"""`afc live-loop` as systemd runs it: READY, watchdog pings after good ticks, SIGTERM → STOPPING, exit 0;
and the command line: --once, --json, configuration errors, the lock."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from afc.cli import app
from afc.clock import SimClock
from afc.config.settings import load_settings
from afc.db import Database, connect
from afc.sandbox import SandboxConfig, start_sandbox
from tests.conftest import timestamp
from tests.live_support import DAY, seed_schedule

AFC = str(Path(sys.executable).with_name("afc"))


def env_for(sb: object, db_url: str, data_dir: Path, clock: SimClock, **extra: str) -> dict[str, str]:
    """The environment systemd would give the service, pointed at the sandbox."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AFC_", "NOTIFY_", "WATCHDOG_"))}
    return env | {"API_FOOTBALL_KEY": sb.key, "AFC_API_BASE_URL": sb.url, "AFC_DATABASE_URL": db_url,  # type: ignore[attr-defined]
                  "AFC_DATA_DIR": str(data_dir), "AFC_CLOCK": clock.spec(), "AFC_LOG_FORMAT": "text"} | extra


def receive(sock: socket.socket, until: str, timeout: float, proc: subprocess.Popen | None = None) -> list[str]:
    """Datagrams from the service until one contains `until` (or the service's stderr if it died)."""
    got: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            got.append(sock.recv(4096).decode())
        except TimeoutError:
            break
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the service exited {proc.returncode}: {proc.communicate()[1]}")
        if until in got[-1]:
            return got
    raise AssertionError(f"no {until!r} from the service within {timeout}s; got {got}")


def test_service_notifies_and_stops_on_sigterm(db_url: str, tmp_path: Path) -> None:
    clock = SimClock(DAY + timedelta(hours=11, minutes=40), speed=1)  # real time, two matches in play
    with start_sandbox(SandboxConfig(seed=42), clock=clock) as sb, \
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        settings = load_settings({}, api_key=sb.key, api_base_url=sb.url, database_url=db_url, data_dir=tmp_path)
        seed_schedule(settings, clock)
        notify.bind(str(tmp_path / "notify.sock"))
        env = env_for(sb, db_url, tmp_path, clock, NOTIFY_SOCKET=str(tmp_path / "notify.sock"),
                      WATCHDOG_USEC="90000000")
        proc = subprocess.Popen([AFC, "live-loop", "--leagues", "39,135,140"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first = receive(notify, "READY=1", 30, proc)
            ticked = receive(notify, "2 in play", 30, proc)
            assert ticked[-1].startswith("WATCHDOG=1\nSTATUS=2 in play, every 15 s")
            sent = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=15)
            took = time.monotonic() - sent
        finally:
            proc.kill()
        assert proc.returncode == 0, err
        assert took < 15  # within one interval
        assert "STOPPING=1" in receive(notify, "STOPPING=1", 5)[-1]
        assert first[-1] == "READY=1\nSTATUS=following leagues 39, 135, 140"
        assert "live: following leagues 39, 135, 140" in err and "Traceback" not in err
    db = connect(db_url)
    try:
        assert db.fetchone("SELECT status FROM ops.job_runs WHERE job_id = 'live_loop'") == ("ok",)
        beat = db.fetchone("SELECT status, beat_at FROM ops.heartbeats WHERE name = 'live'")
        assert beat is not None and beat[0] == "stopped" and timestamp(beat[1]) > DAY + timedelta(hours=11)
        assert db.fetchone("SELECT count(*) FROM mart.live_scores WHERE league_id = 135") == (2,)
    finally:
        db.close()


@pytest.fixture
def handlers() -> Iterator[None]:
    """Put back the signal handlers `afc live-loop` installs when run in-process."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture
def sandbox_at(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[float], None]]:
    """Start a frozen sandbox at DAY + `hours` with that moment's schedule in core; point afc's environment at it."""
    with ExitStack() as stack:
        def start(hours: float) -> None:
            clock = SimClock(DAY + timedelta(hours=hours), speed=0)
            sb = stack.enter_context(start_sandbox(SandboxConfig(seed=42), clock=clock))
            settings = load_settings({}, api_key=sb.key, api_base_url=sb.url, database_url=sqlite_url,
                                     data_dir=tmp_path)
            seed_schedule(settings, clock)
            for name, value in env_for(sb, sqlite_url, tmp_path, clock).items():
                monkeypatch.setenv(name, value)

        yield start


@pytest.fixture
def frozen(sandbox_at: Callable[[float], None]) -> None:
    """The sandbox at 11:40, two Serie A matches in play."""
    sandbox_at(11 + 40 / 60)


def test_once_ticks_when_matches_are_on(frozen: None, handlers: None) -> None:
    result = CliRunner().invoke(app, ["live-loop", "--once", "--json", "--leagues", "135"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["ticks"], report["in_play"], report["state"]) == (1, 2, "stopped")
    assert report["next_wake"].startswith("2026-11-28 11:40:15")


def test_once_idle_makes_no_call(sandbox_at: Callable[[float], None], handlers: None) -> None:
    sandbox_at(9)
    result = CliRunner().invoke(app, ["live-loop", "--once", "--leagues", "135"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "stopped: 0 ticks, 0 in play, 0 details calls; next look at 2026-11-28 09:01:00 UTC\n"
    db = connect(os.environ["AFC_DATABASE_URL"])
    try:
        assert db.fetchone("SELECT count(*) FROM raw.responses") == (1,)  # only the schedule's own call
    finally:
        db.close()


def test_bad_live_section_exits_2_naming_file_and_field(frozen: None, handlers: None, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    (jobs / "live.yaml").write_text("live:\n  leagues: [39]\n  interval: often\n")
    monkeypatch.setenv("AFC_JOBS_DIR", str(jobs))
    result = CliRunner().invoke(app, ["live-loop", "--once"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"afc: {jobs / 'live.yaml'}: live.interval: must be a duration such as "
                                     "90s, 15m, 6h or 90d, got 'often'")


def test_a_second_loop_on_the_host_exits_75(frozen: None, handlers: None, tmp_path: Path) -> None:
    from afc.ops.lock import file_lock, lock_path

    with file_lock(lock_path(tmp_path, "live"), "live"):
        result = CliRunner().invoke(app, ["live-loop", "--once"])
    assert result.exit_code == 75
    assert "live: another afc run" in result.stderr and "nothing done" in result.stderr


def test_a_second_loop_on_another_host_sharing_postgresql_exits_75(frozen: None, handlers: None,
                                                                   pg_url: str) -> None:
    """Found by `afc rehearse --hosts 2`: every host's live loop polled, each spending the live quota."""
    from afc.ops.lock import advisory_lock

    with advisory_lock(pg_url, "live"):  # the loop of another host, whose lock files are its own
        result = CliRunner().invoke(app, ["live-loop", "--once", "--db", pg_url])
    assert result.exit_code == 75, result.output
    assert "live: another afc run holds this group's lock" in result.stderr and "nothing done" in result.stderr


def test_rejected_key_exits_2(frozen: None, handlers: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_FOOTBALL_KEY", "wrong-key-0000")
    result = CliRunner().invoke(app, ["live-loop", "--once", "--leagues", "135"])
    assert result.exit_code == 2
    assert "the API rejected the key" in result.stderr and "wrong-key-0000" not in result.stderr


def test_a_database_migrated_by_a_newer_afc_exits_2(frozen: None, handlers: None) -> None:
    """Not a tick failure retried every 15 s for ever: a person must upgrade afc (exit 2, not restarted)."""
    from afc.db.migrate import migrate

    db = connect(os.environ["AFC_DATABASE_URL"])
    try:
        migrate(db)
        with db.transaction():
            db.execute("INSERT INTO ops.schema_migrations (version, name, applied_at) "
                       "VALUES (9999, 'from_the_future', '2026-11-28T12:00:00+00:00')")
    finally:
        db.close()
    result = CliRunner().invoke(app, ["live-loop", "--once", "--leagues", "135"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("afc: ") and "the schema is newer than this afc" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_two_loops_never_write_at_once_when_the_lock_is_freed_under_one(pg_url: str, tmp_path: Path) -> None:
    """The first loop's lock session is terminated (as a PostgreSQL restart would end it) and a second loop on
    another host takes the lock: the first stops, 75 and one line, before its next write; their responses never
    interleave."""
    from tests.test_lock import terminate_holder

    clock = SimClock(DAY + timedelta(hours=11, minutes=40), speed=1)  # real time, two matches in play
    with start_sandbox(SandboxConfig(seed=42), clock=clock) as sb, ExitStack() as stack:
        settings = load_settings({}, api_key=sb.key, api_base_url=sb.url, database_url=pg_url, data_dir=tmp_path)
        seed_schedule(settings, clock)
        db = connect(pg_url)
        stack.callback(db.close)

        def start(host: str) -> subprocess.Popen[str]:
            proc = subprocess.Popen([AFC, "live-loop", "--leagues", "39,135,140", "--interval", "5"],
                                    env=env_for(sb, pg_url, tmp_path / host, clock), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
            stack.callback(proc.kill)
            return proc

        def responses(proc: subprocess.Popen[str]) -> list[int]:
            return [row[0] for row in db.fetchall(
                "SELECT r.id FROM raw.responses r JOIN ops.job_runs j ON j.id = r.job_run_id WHERE j.pid = %s "
                "ORDER BY r.id", (proc.pid,))]

        def until(done: Callable[[], object], what: str) -> None:
            deadline = time.monotonic() + 30
            while not done():
                assert time.monotonic() < deadline, what
                time.sleep(0.1)

        first = start("a")
        until(lambda: responses(first), "the first loop never ticked")
        pause_between_statements(db, first)  # else it takes the lock again long before the second has started
        terminate_holder(pg_url)
        second = start("b")
        until(lambda: responses(second) or second.poll() is not None, "the second loop never ticked")
        assert second.poll() is None, second.communicate()[1]
        first.send_signal(signal.SIGCONT)
        _, err = first.communicate(timeout=30)
        assert first.returncode == 75, err
        assert err.splitlines()[-1] == ("afc: live: lost this group's lock (its PostgreSQL session ended) and "
                                        "another afc run holds it now; stopping without writing more")
        assert "Traceback" not in err
        assert second.poll() is None
        assert max(responses(first)) < min(responses(second))


def pause_between_statements(db: Database, proc: subprocess.Popen[str]) -> None:
    """SIGSTOP `proc` while none of its connections is inside a statement or a transaction (a stopped holder of
    row locks would hold up the other loop)."""
    busy = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND state <> 'idle'"
    while True:
        proc.send_signal(signal.SIGSTOP)
        if db.fetchone(busy, (f"afc[{proc.pid}]",)) == (0,):
            return
        proc.send_signal(signal.SIGCONT)
        time.sleep(0.05)
