"""The live loop in `afc health` and the metrics, end to end against the sandbox: following a match it is healthy
and writes the `live` group's files; failing ticks during a match (the API answering 503) or a loop that stopped
beating make `afc health` exit 1 with the reason; idle with no match on it is healthy however old its beat."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from afc.clock import SimClock
from afc.config.live import LiveConfig
from afc.live.loop import LiveLoop
from tests.live_support import DAY, INTERVAL, Day, UntilClock, run_loop
from tests.test_live_service import AFC

KICKOFF = DAY + timedelta(hours=11, minutes=30)  # the first block: two Serie A matches


def health_at(day: Day, at: datetime, jobs: Path | None = None) -> tuple[int, list[dict[str, str]]]:
    """`afc health --json` at `at` (a process of its own, reading `jobs` or the shipped jobs): its exit code and the
    live loop's problems."""
    env = {"PATH": os.environ["PATH"], "AFC_DATABASE_URL": day.settings.db_url,
           "AFC_DATA_DIR": str(day.settings.data_dir), "AFC_CLOCK": SimClock(at, speed=0).spec(),
           **({"AFC_JOBS_DIR": str(jobs)} if jobs else {})}
    done = subprocess.run([AFC, "health", "--json"], env=env, capture_output=True, text=True, timeout=60)
    problems = json.loads(done.stdout)["problems"]
    return done.returncode, [p for p in problems if p["key"] == "live"]


def gauges(directory: Path, name: str) -> dict[str, float]:
    """`name{labels} value` lines of the metrics files, by metric name."""
    text = (directory / name).read_text()
    return {line.split("{")[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
            if not line.startswith("#")}


@pytest.fixture
def metrics(day: Day, tmp_path: Path) -> Path:
    day.settings = day.settings.model_copy(update={"metrics_dir": tmp_path / "metrics"})
    return tmp_path / "metrics"


def test_idle_with_no_match_on_is_healthy(day: Day) -> None:
    run_loop(day, KICKOFF - timedelta(hours=1))  # 10:00 to 10:30: nothing in play yet
    assert health_at(day, KICKOFF - timedelta(minutes=20)) == (0, [])


def test_following_a_match_is_healthy_and_writes_the_live_groups_metrics(day: Day, metrics: Path) -> None:
    run_loop(day, KICKOFF + timedelta(minutes=10))
    assert health_at(day, KICKOFF + timedelta(minutes=10)) == (0, [])
    state, live = gauges(metrics, "afc_state.prom"), gauges(metrics, "afc_job_live.prom")
    assert state["afc_live_last_tick_timestamp_seconds"] >= (KICKOFF + timedelta(minutes=8)).timestamp()
    assert live["afc_live_fixtures_in_play"] == 2 and live["afc_job_last_run_timestamp_seconds"] > 0


def test_failing_ticks_during_a_match_show_in_health_and_metrics(day: Day, metrics: Path) -> None:
    failing = KICKOFF + timedelta(minutes=15)
    health: list[tuple[int, list[dict[str, str]]]] = []
    states: list[dict[str, float]] = []

    def look() -> None:  # while the loop still runs, failing: its back-off wakes it, it beats
        health.append(health_at(day, day.clock.now()))
        states.append(gauges(metrics, "afc_state.prom") | gauges(metrics, "afc_job_live.prom"))

    run_loop(day, failing + timedelta(minutes=12), hooks=[(failing, lambda: day.sb.inject("503", count=10_000)),
                                                          (failing + timedelta(minutes=10), look)])
    [(code, live)] = health
    assert code == 1
    assert len(live) == 1 and live[0]["check"] == "live_stalled"
    assert live[0]["reason"].startswith("live loop failing: last tick 11:4")
    assert "2 fixtures in play, the loop is api-error" in live[0]["reason"]
    [state] = states  # rewritten by the loop itself while it fails
    assert state["afc_live_fixtures_in_play"] == 2
    assert state["afc_heartbeat_timestamp_seconds"] - state["afc_live_last_tick_timestamp_seconds"] > 5 * 60


def test_a_loop_that_stopped_during_a_match_is_stalled(day: Day) -> None:
    run_loop(day, KICKOFF + timedelta(minutes=5))
    code, live = health_at(day, KICKOFF + timedelta(minutes=12))
    assert code == 1
    assert [p["reason"] for p in live] == [
        "live loop stalled: last heartbeat 11:35:00 UTC, 2 fixtures in play; check `journalctl -u afc-live`"]


def test_health_judges_the_loop_by_the_leagues_it_follows_not_the_jobs_files(day: Day, tmp_path: Path) -> None:
    """`afc live-loop --leagues …` records its leagues; health had judged it by the jobs files' `live:` leagues
    (else the tracked ones): blind to a stalled loop whose matches the files do not name, and alarmed by one whose
    leagues have nothing in play."""
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    (jobs / "live.yaml").write_text("live:\n  leagues: [78]\n")  # no Bundesliga match in play at 11:42
    run_loop(day, KICKOFF + timedelta(minutes=5))  # following 39, 135, 140: Serie A kicked off at 11:30
    code, live = health_at(day, KICKOFF + timedelta(minutes=12), jobs)
    assert code == 1
    assert [p["reason"] for p in live] == [
        "live loop stalled: last heartbeat 11:35:00 UTC, 2 fixtures in play; check `journalctl -u afc-live`"]

    stop = threading.Event()  # now a loop that follows La Liga alone (14:00), stopped while Serie A plays
    LiveLoop(day.settings, LiveConfig(interval=INTERVAL), [140], stop=stop,
             clock=UntilClock(day.clock, KICKOFF + timedelta(minutes=15), stop)).run()
    assert health_at(day, KICKOFF + timedelta(minutes=25)) == (0, [])  # the shipped jobs track Serie A
