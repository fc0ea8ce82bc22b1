"""The live loop's parts: its config section, the schedule read from core, the follow-up queue,
the quota-adaptive interval, sd_notify and the stop-aware clock."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from afc.clock import SimClock
from afc.config.jobs import load
from afc.config.live import LiveConfig, leagues_of, live_config, parse_leagues
from afc.db import Database, as_datetime
from afc.errors import ConfigError
from afc.live import followups, pace
from afc.live.schedule import read, wake_at
from afc.live.stop import StopClock, Stopped
from afc.ops.sdnotify import Notifier

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LIVE = LiveConfig()


def add_fixture(db: Database, fixture_id: int, league: int, kickoff: datetime, group: str | None) -> None:
    """A bare core.fixtures row (and its league)."""
    with db.transaction():
        db.execute("INSERT INTO core.leagues (id, name, updated_at) VALUES (%s, %s, %s) ON CONFLICT (id) DO NOTHING",
                   (league, f"League {league}", NOW))
        db.execute("INSERT INTO core.fixtures (id, league_id, kickoff_at, status_group, updated_at) "
                   "VALUES (%s, %s, %s, %s, %s)", (fixture_id, league, kickoff, group, NOW))


# ---- config --------------------------------------------------------------------------------

def jobs_dir(tmp_path: Path, live: str) -> Path:
    (tmp_path / "leagues.yaml").write_text("tracked:\n  - league: 39\n  - league: 140\n  - league: 39\n")
    (tmp_path / "live.yaml").write_text(live)
    return tmp_path


def test_config_durations_and_defaults(tmp_path: Path) -> None:
    config = load(jobs_dir(tmp_path, "live:\n  interval: 20s\n  lead: 2m\n  recheck_delay: 1h\n"))
    live = live_config(config)
    assert (live.interval, live.lead, live.recheck_delay, live.lag_window) == (20, 120, 3600, 10800)
    assert leagues_of(live, config) == [39, 140]
    assert live_config(config, interval=45).interval == 45


def test_config_errors_name_file_and_field(tmp_path: Path) -> None:
    config = load(jobs_dir(tmp_path, "live:\n  intervall: 15\n"))
    with pytest.raises(ConfigError) as err:
        live_config(config)
    assert str(err.value).startswith(f"{tmp_path / 'live.yaml'}: live.intervall: ")
    config = load(jobs_dir(tmp_path, "live:\n  lead: soon\n"))
    with pytest.raises(ConfigError, match=r"live\.yaml: live\.lead: must be a duration such as 90s"):
        live_config(config)
    config = load(jobs_dir(tmp_path, "live:\n  leagues: [39, -1]\n"))
    with pytest.raises(ConfigError, match=r"live\.leagues: league ids are positive"):
        live_config(config)


def test_leagues_from_flag_and_all(tmp_path: Path) -> None:
    config = load(jobs_dir(tmp_path, "live:\n  leagues: [61]\n"))
    assert leagues_of(live_config(config), config) == [61]
    assert leagues_of(live_config(config, leagues=parse_leagues("78-2")), config) == [2, 78]
    assert leagues_of(live_config(config, leagues=parse_leagues("all")), config) is None
    with pytest.raises(ConfigError, match="--leagues: expected league ids such as 39,140 or 'all', got 'pl'"):
        parse_leagues("pl")


def test_no_leagues_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "live.yaml").write_text("live:\n  interval: 15\n")
    config = load(tmp_path)
    with pytest.raises(ConfigError, match="no leagues to follow live"):
        leagues_of(live_config(config), config)


def test_shipped_live_yaml_is_valid() -> None:
    config = load()
    live = live_config(config)
    assert live.interval == 15 and live.recheck_delay == 1800
    leagues = leagues_of(live, config)
    assert leagues is not None and 39 in leagues  # the shipped file follows the tracked leagues, not all


# ---- pace ----------------------------------------------------------------------------------

def test_merged_seconds_merges_overlaps_and_clips() -> None:
    h = timedelta(hours=1)
    spans = [(NOW, NOW + 2 * h), (NOW + h, NOW + 3 * h), (NOW + 5 * h, NOW + 6 * h), (NOW - 2 * h, NOW - h)]
    assert pace.merged_seconds(spans, NOW, NOW + 24 * h) == 4 * 3600
    assert pace.merged_seconds(spans, NOW + 90 * timedelta(minutes=1), NOW + 5.5 * h) == 1.5 * 3600 + 1800


def test_plan_keeps_or_lengthens_the_interval() -> None:
    enough = pace.plan(7200, 10, available=1000, base=15)
    assert (enough.interval, enough.calls) == (15, 480 + 2)
    short = pace.plan(7200, 10, available=242, base=15)
    assert short.interval == 30 and short.calls == 482
    assert pace.plan(0, 0, available=0, base=15).interval == 15
    assert pace.plan(7200, 40, available=4, base=15).interval == 7200  # nothing spare: one call left for it all


# ---- schedule ------------------------------------------------------------------------------

def test_schedule_awake_live_next_and_expired(db: Database) -> None:
    add_fixture(db, 1, 39, NOW + timedelta(minutes=4), "scheduled")  # within the 5 min lead
    add_fixture(db, 2, 39, NOW - timedelta(minutes=50), "live")
    add_fixture(db, 3, 140, NOW - timedelta(hours=2), "scheduled")  # started, not final: API lag
    add_fixture(db, 4, 39, NOW - timedelta(hours=1), "finished")
    add_fixture(db, 5, 39, NOW - timedelta(minutes=30), "postponed")
    add_fixture(db, 6, 39, NOW + timedelta(hours=3), "scheduled")
    add_fixture(db, 7, 78, NOW, "live")  # not a followed league
    add_fixture(db, 8, 39, NOW - timedelta(hours=5), "scheduled")  # left the lag window
    add_fixture(db, 9, 39, NOW + timedelta(days=2), "scheduled")
    schedule = read(db, [39, 140], NOW, LIVE)
    assert schedule.awake == (1, 2, 3)
    assert schedule.live == (2,)
    assert schedule.next_kickoff == NOW + timedelta(hours=3)
    assert schedule.expired == (8,)
    assert sorted(schedule.today) == [NOW - timedelta(hours=2), NOW - timedelta(minutes=50),
                                      NOW + timedelta(minutes=4), NOW + timedelta(hours=3)]
    assert read(db, None, NOW, LIVE).awake == (1, 2, 3, 7)


def test_idle_schedule_wakes_before_the_next_kickoff(db: Database) -> None:
    add_fixture(db, 1, 39, NOW + timedelta(minutes=30), "scheduled")
    schedule = read(db, [39], NOW, LIVE)
    assert schedule.awake == ()
    assert wake_at(schedule, None, LIVE) == NOW + timedelta(seconds=60)  # max_sleep
    slow = LiveConfig(max_sleep=3600)
    assert wake_at(schedule, None, slow) == NOW + timedelta(minutes=25)  # kickoff - lead
    assert wake_at(schedule, NOW + timedelta(minutes=10), slow) == NOW + timedelta(minutes=10)


# ---- follow-ups ----------------------------------------------------------------------------

def followup_rows(db: Database) -> dict[int, tuple[str, datetime | None, int]]:
    rows = db.fetchall("SELECT fixture_id, kind, due_at, attempts FROM ops.live_followups")
    return {r[0]: (r[1], as_datetime(r[2]), r[3]) for r in rows}


def test_followups_final_then_recheck_then_done(db: Database) -> None:
    with db.transaction():
        assert followups.queue(db, [11, 12, 11], NOW) == 2
    batch = followups.due(db, NOW)
    assert [(f.fixture_id, f.kind) for f in batch] == [(11, "final"), (12, "final")]
    later = NOW + timedelta(minutes=1)
    with db.transaction():
        followups.settle(db, batch, {11: "finished", 12: "scheduled"}, later, LIVE)
    rows = followup_rows(db)
    assert rows[11] == ("recheck", later + timedelta(minutes=30), 1)
    assert rows[12] == ("final", later + timedelta(minutes=10), 1)
    assert followups.due(db, later) == []
    assert followups.next_due(db) == later + timedelta(minutes=10)
    recheck = NOW + timedelta(hours=1)
    with db.transaction():
        followups.settle(db, followups.due(db, recheck), {11: "finished", 12: "cancelled"}, recheck, LIVE)
    assert followup_rows(db) == {11: ("done", None, 2), 12: ("done", None, 2)}
    with db.transaction():
        followups.queue(db, [11], recheck)  # a done fixture is not queued again
    assert followups.due(db, recheck) == [] and followups.next_due(db) is None
    with db.transaction():
        assert followups.forget(db, recheck + timedelta(days=3)) == 2


def test_followups_give_up_after_attempts_and_clear_on_live(db: Database) -> None:
    with db.transaction():
        followups.queue(db, [21, 22], NOW)
    at = NOW
    for _ in range(2):
        with db.transaction():
            followups.settle(db, followups.due(db, at), {21: "live", 22: None}, at, LIVE)
        at += timedelta(minutes=11)
    with db.transaction():
        followups.queue(db, [21], at - timedelta(minutes=5))  # brought forward, never pushed back
        followups.clear(db, [21])  # seen in play again: the drop was a glitch
    assert followup_rows(db) == {22: ("final", at - timedelta(minutes=1), 2)}
    with db.transaction():
        followups.settle(db, followups.due(db, at), {}, at, LIVE)
    assert followup_rows(db)[22][0] == "done"  # three fetches without a result: the daily job takes over


# ---- sd_notify -----------------------------------------------------------------------------

@pytest.mark.parametrize("abstract", [False, True])
def test_notifier_sends_datagrams(tmp_path: Path, abstract: bool) -> None:
    name = f"@afc-test-{time.time_ns()}" if abstract else str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind("\0" + name[1:] if abstract else name)
        notifier = Notifier({"NOTIFY_SOCKET": name, "WATCHDOG_USEC": "90000000"})
        assert notifier.enabled and notifier.watchdog_seconds == 90
        assert notifier.ready("following leagues 39")
        assert notifier.watchdog("2 in play,\n every 15 s")
        assert notifier.extend_timeout(31, "waiting for the database")
        assert notifier.stopping()
        got = [server.recv(4096).decode() for _ in range(4)]
    assert got == ["READY=1\nSTATUS=following leagues 39", "WATCHDOG=1\nSTATUS=2 in play, every 15 s",
                   "EXTEND_TIMEOUT_USEC=31000000\nSTATUS=waiting for the database", "STOPPING=1\nSTATUS=stopping"]


def test_notifier_outside_systemd_is_a_no_op() -> None:
    notifier = Notifier({"WATCHDOG_USEC": "90000000", "WATCHDOG_PID": "1"})
    assert not notifier.enabled and notifier.watchdog_seconds is None  # another process's watchdog
    assert notifier.ready("x") is False
    assert list(notifier.sent) == ["READY=1\nSTATUS=x"]
    assert Notifier({"NOTIFY_SOCKET": "/nonexistent/sock"}).watchdog("x") is False


# ---- stop-aware clock ----------------------------------------------------------------------

def test_stop_clock_advances_a_frozen_clock_and_stops() -> None:
    stop = threading.Event()
    clock = StopClock(SimClock(NOW, speed=0), stop)
    clock.sleep(90)
    assert clock.now() == NOW + timedelta(seconds=90)
    stop.set()
    with pytest.raises(Stopped):
        clock.sleep(1)


def test_stop_clock_wakes_a_running_sleep_at_once() -> None:
    stop = threading.Event()
    clock = StopClock(SimClock(NOW, speed=1), stop)
    threading.Timer(0.1, stop.set).start()
    started = time.monotonic()
    with pytest.raises(Stopped):
        clock.sleep(3600)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("live_window", [LIVE.live_window, 24 * 3600])
def test_a_fixture_live_past_the_settle_bound_is_not_in_play(db: Database, live_window: int) -> None:
    """The schedule uses the live panel's bound (kick-off + 4 h), whatever live_window says."""
    add_fixture(db, 1, 39, NOW - timedelta(hours=3, minutes=59), "live")
    add_fixture(db, 2, 39, NOW - timedelta(hours=4, minutes=1), "live")  # stuck: an old record
    add_fixture(db, 3, 39, NOW - timedelta(days=9), "live")
    schedule = read(db, [39], NOW, LiveConfig(live_window=live_window))
    assert schedule.live == (1,) and schedule.awake == (1,)
