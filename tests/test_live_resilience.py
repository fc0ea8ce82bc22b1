"""The live loop outlives what it should: a database outage, API failures, a spent quota, a bug."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta

import psycopg
import pytest

from afc.collect.step import Context
from afc.config.live import LiveConfig
from afc.config.settings import load_settings
from afc.db import connect
from afc.live import loop as live_loop
from afc.live.schedule import Schedule
from afc.live.tick import TickResult
from afc.ops.sdnotify import Notifier
from tests.conftest import PG_ADMIN, timestamp
from tests.live_support import DAY, INTERVAL, Day, live_calls, run_loop


class Recording(Notifier):
    """A notifier outside systemd that keeps every message."""

    def __init__(self) -> None:
        super().__init__({})
        self.all: list[str] = []

    def send(self, *fields: str) -> bool:
        self.all.append("\n".join(fields))
        return super().send(*fields)


FIRST_BLOCK = [1326135, 1326139]  # Serie A, 11:30
OUTAGE, BACK = DAY + timedelta(hours=12), DAY + timedelta(hours=12, minutes=3)


def assert_first_block_final(db_url: str, day: Day) -> None:
    """The 11:30 fixtures reached their true final score and events despite the trouble."""
    db = connect(db_url)
    try:
        for fixture_id in FIRST_BLOCK:
            truth = day.sb.world.final(fixture_id)
            row = db.fetchone("SELECT f.status_short, f.home_goals, f.away_goals, d.events FROM core.fixtures f "
                              "JOIN core.fixture_details d ON d.fixture_id = f.id WHERE f.id = %s", (fixture_id,))
            assert row is not None
            from afc.db import load_json

            assert (row[0], row[1], row[2]) == (truth["fixture"]["status"]["short"], truth["goals"]["home"],
                                                truth["goals"]["away"])
            assert load_json(row[3]) == truth["events"]
    finally:
        db.close()


def outage_hooks(db_url: str, monkeypatch: pytest.MonkeyPatch) -> list[tuple[datetime, Callable[[], None]]]:
    """Take the database away at OUTAGE and give it back at BACK (PostgreSQL: refuse and kill
    connections, as a restart does; SQLite: another process holds the write lock)."""
    if db_url.startswith("postgresql"):
        name = db_url.rsplit("/", 1)[1]

        def admin(sql: str) -> None:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(sql)

        def down() -> None:
            admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))

        return [(OUTAGE, down), (BACK, lambda: admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))]
    real = sqlite3.connect  # a short busy timeout, so a held lock fails fast instead of waiting 30 s
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: real(*a, **{**k, "timeout": 0.05}))
    path = db_url.removeprefix("sqlite:///")
    holder: list[sqlite3.Connection] = []

    def lock() -> None:
        holder.append(real(path, timeout=1, isolation_level=None))
        holder[0].execute("BEGIN EXCLUSIVE")

    return [(OUTAGE, lock), (BACK, lambda: holder[0].close())]


def test_database_outage_is_waited_out(day: Day, monkeypatch: pytest.MonkeyPatch,
                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="afc.live")
    notifier = Recording()
    url = day.settings.db_url
    report = run_loop(day, DAY + timedelta(hours=13, minutes=45), hooks=outage_hooks(url, monkeypatch),
                      notifier=notifier)
    assert report.reconnects >= 1 and report.state == "stopped"
    assert sum("database unavailable" in r.getMessage() for r in caplog.records) >= 3  # backing off
    assert any("database reachable again" in r.getMessage() for r in caplog.records)
    # while it waits the loop keeps pinging the watchdog: a restart would not bring the database back
    assert any(m.startswith("WATCHDOG=1\nSTATUS=waiting for the database") for m in notifier.all)
    db = connect(url)
    try:
        calls = live_calls(db)
        assert [t for t in calls if OUTAGE < t < BACK] == []
        assert any(t > BACK for t in calls), "no tick landed after the outage"
    finally:
        db.close()
    assert_first_block_final(url, day)


def test_api_failures_back_off_and_recover(day: Day, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="afc.live")
    notifier = Notifier({})
    report = run_loop(day, DAY + timedelta(hours=13, minutes=45), notifier=notifier,
                      hooks=[(OUTAGE, lambda: day.sb.inject("503", count=12))])
    assert report.failures >= 2 and report.state == "stopped"
    failed = [r.getMessage() for r in caplog.records if "tick failed" in r.getMessage()]
    assert len(failed) == report.failures and "next try in" in failed[0]
    db = connect(day.settings.db_url)
    try:
        assert any(t > OUTAGE + timedelta(minutes=20) for t in live_calls(db))
    finally:
        db.close()
    assert_first_block_final(day.settings.db_url, day)


def test_spent_quota_parks_until_midnight(day: Day, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="afc.live")
    notifier = Notifier({})
    before: list[int] = []

    def spend() -> None:
        day.sb.set_quota_used(7500)
        before.append(len(day.sb.requests))

    report = run_loop(day, DAY + timedelta(hours=14), notifier=notifier, hooks=[(OUTAGE, spend)])
    assert len(day.sb.requests) == before[0] + 1  # the call that found out; nothing after it
    parked = [r.getMessage() for r in caplog.records if "daily request limit" in r.getMessage()]
    assert len(parked) == 1 and "2026-11-29 00:00 UTC" in parked[0]
    assert report.state == "stopped"
    assert sum(m == "WATCHDOG=1\nSTATUS=daily quota spent; resumes at 00:00 UTC" for m in notifier.sent) >= 10
    db = connect(day.settings.db_url)
    try:
        status = db.fetchall("SELECT status FROM ops.job_runs WHERE job_id = 'live_loop' ORDER BY id")
        assert [s[0] for s in status] == ["quota"]
    finally:
        db.close()


def test_short_quota_lengthens_the_interval(day: Day, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="afc.live")
    settings = load_settings({}, api_key=day.sb.key, api_base_url=day.sb.url, database_url=day.settings.db_url,
                             data_dir=day.settings.data_dir, daily_limit=300)
    report = run_loop(day, DAY + timedelta(hours=13, minutes=45), LiveConfig(interval=15), settings=settings)
    lengthened = [r.getMessage() for r in caplog.records if "instead of 15 s" in r.getMessage()]
    assert lengthened and report.interval > 15
    assert len(lengthened) <= 3  # said when it changes, not every tick
    db = connect(day.settings.db_url)
    try:
        calls = live_calls(db)
        # (the first tick still sees the 7,500 the seeding run wrote; its settlement lowers the day to 300)
        gaps = {round((b - a).total_seconds()) for a, b in zip(calls[1:], calls[2:], strict=False)
                if b - a < timedelta(minutes=20)}
        assert min(gaps) > 15
        used = db.fetchone("SELECT used FROM ops.quota_days")
        assert used is not None and used[0] <= 300
    finally:
        db.close()
    assert_first_block_final(day.settings.db_url, day)


def test_a_bug_in_a_tick_is_logged_and_not_pinged(day: Day, monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    real, state = live_loop.tick, {"raised": False}

    def flaky(ctx: Context, leagues: list[int] | None, schedule: Schedule) -> TickResult:
        if not state["raised"] and day.clock.now() >= OUTAGE:
            state["raised"] = True
            raise RuntimeError("boom")
        return real(ctx, leagues, schedule)

    monkeypatch.setattr(live_loop, "tick", flaky)
    notifier = Notifier({})
    report = run_loop(day, DAY + timedelta(hours=12, minutes=10), notifier=notifier)
    assert state["raised"] and report.failures == 1
    assert any("unexpected RuntimeError" in r.getMessage() for r in caplog.records)
    assert not any("boom" in m for m in notifier.sent)  # no watchdog ping for a failing loop
    db = connect(day.settings.db_url)
    try:
        assert any(t > OUTAGE for t in live_calls(db))
        beat = db.fetchone("SELECT beat_at, status FROM ops.heartbeats WHERE name = 'live'")
        assert beat is not None and beat[1] == "stopped" and timestamp(beat[0]) >= OUTAGE
    finally:
        db.close()


def test_a_clock_stepping_back_does_not_stop_the_polling(day: Day, caplog: pytest.LogCaptureFixture) -> None:
    # In play (Serie A from 11:30), the host's clock steps back 45 minutes (NTP, a restored VM): the next tick
    # had been set by the later time, and the loop made no call for the 45 minutes it waited that out.
    caplog.set_level(logging.INFO, logger="afc.live")
    step_at, back_to = DAY + timedelta(hours=12, minutes=30), DAY + timedelta(hours=11, minutes=45)
    report = run_loop(day, DAY + timedelta(hours=12, minutes=35), hooks=[(step_at, lambda: day.clock.set(back_to))])
    assert report.state == "stopped"
    db = connect(day.settings.db_url)
    try:
        calls = live_calls(db)
    finally:
        db.close()
    after = [t for before, t in zip(calls, calls[1:], strict=False) if t < before]
    assert len(after) == 1, calls  # the one step back
    assert after[0] - back_to <= timedelta(seconds=2 * INTERVAL), calls
    assert any("the clock went back" in r.getMessage() for r in caplog.records)
