"""The live loop (`afc live-loop`): follow matches in play, spend nothing when none are on."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time

from afc.clock import Clock, parse_clock
from afc.config.jobs import load
from afc.config.live import LiveConfig, leagues_of, live_config, parse_leagues
from afc.config.settings import Settings
from afc.live.loop import LiveLoop, LoopReport
from afc.live.plan import DayPlan, match_day
from afc.ops.sdnotify import Notifier

__all__ = ["DayPlan", "LiveConfig", "LiveLoop", "LoopReport", "build", "plan_day"]


def build(settings: Settings, *, interval: int | None = None, leagues: str | None = None,
          clock: Clock | None = None, stop: threading.Event | None = None,
          notifier: Notifier | None = None) -> LiveLoop:
    """A loop configured from the `live:` section of the jobs directory, with these flags on top."""
    config = load(settings.jobs_dir)
    live = live_config(config, interval=interval, leagues=parse_leagues(leagues))
    return LiveLoop(settings, live, leagues_of(live, config), clock=clock or parse_clock(settings.clock),
                    stop=stop, notifier=notifier)


def plan_day(settings: Settings, *, day: date | None = None, leagues: str | None = None,
             clock: Clock | None = None) -> DayPlan:
    """A match day's expected calls per kind for the followed leagues (`afc live-loop --dry-run`)."""
    from afc.collect.collector import Collector

    config = load(settings.jobs_dir)
    live = live_config(config, leagues=parse_leagues(leagues))
    clock = clock or parse_clock(settings.clock)
    collector = Collector.open(settings, clock=clock)
    try:
        start = datetime.combine(day or clock.now().date(), time(), UTC)
        return match_day(collector.db, live, leagues_of(live, config), start, collector.ledger.available("CRITICAL"))
    finally:
        collector.close()
