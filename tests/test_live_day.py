"""The live loop over a simulated match day against the sandbox, on both backends.

The `day` fixture and the helpers live in tests/live_support.py (shared with the resilience tests and drills).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from afc.config.live import LiveConfig
from afc.db import connect
from tests.live_support import DAY, INTERVAL, Day, assert_core_matches_truth, live_calls, run_loop


def in_play_windows(day: Day, live: LiveConfig) -> list[tuple[datetime, datetime]]:
    """Per fixture: from the lead before kickoff to one interval after the final whistle."""
    spans = []
    for fx in day.fixtures:
        done = day.sb.world.finished_at(fx.id)
        assert done is not None, f"fixture {fx.id} never finishes; pick another day"
        spans.append((fx.kickoff - timedelta(seconds=live.lead), done + timedelta(seconds=live.interval + 1)))
    return spans


def test_match_day_calls_only_while_in_play_and_core_matches_the_truth(day: Day) -> None:
    live = LiveConfig(interval=INTERVAL)
    first = min(fx.kickoff for fx in day.fixtures)
    assert len({fx.league_id for fx in day.fixtures}) == 3 and len(day.fixtures) >= 6
    report = run_loop(day, DAY + timedelta(hours=23, minutes=30), live)
    db = connect(day.settings.db_url)
    try:
        calls = live_calls(db)
        windows = in_play_windows(day, live)
        outside = [t for t in calls if not any(lo <= t <= hi for lo, hi in windows)]
        assert outside == [], f"live calls while nothing was in play: {outside[:5]}"
        assert calls[0] >= first - timedelta(seconds=live.lead)
        match_day = report.matchday_calls.get("lineups", 0) + report.matchday_calls.get("statistics", 0)
        assert len(calls) == report.ticks == day.sb.calls["fixtures"] - report.detail_calls - match_day - 1
        gaps = [b - a for a, b in zip(calls, calls[1:], strict=False) if b - a > timedelta(minutes=20)]
        assert len(gaps) >= 2  # the loop slept between the day's blocks of matches
        assert len(calls) < 1440 / 2  # polling every 60 s all day would be 1,440
        assert_core_matches_truth(db, day)
        assert db.fetchall("SELECT fixture_id FROM mart.live_scores") == []
        kinds = {row[0] for row in db.fetchall("SELECT kind FROM ops.live_followups")}
        assert kinds == {"done"}
        runs = db.fetchall("SELECT status FROM ops.job_runs WHERE job_id = 'live_loop'")
        assert runs and {r[0] for r in runs} == {"ok"}
    finally:
        db.close()
    assert report.failures == 0 and report.state == "stopped"
