"""The live loop's match day against the sandbox: the `day` fixture (loaded as a plugin) and its helpers.

The sandbox and afc share one frozen SimClock that only the loop moves (each sleep advances it), so
a whole day passes in seconds and every request has an exact time to compare with the world's truth.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from afc.api.client import Request
from afc.clock import SimClock
from afc.collect.collector import Collector
from afc.collect.step import step
from afc.config.live import LiveConfig
from afc.config.settings import Settings, load_settings
from afc.db import Database, load_json
from afc.live.loop import LiveLoop, LoopReport
from afc.sandbox import Sandbox, SandboxConfig, start_sandbox
from tests.conftest import timestamp

DAY = datetime(2026, 11, 28, tzinfo=UTC)
LEAGUES = [39, 135, 140]  # Serie A 11:30, La Liga 14:00, then an evening of all three, with gaps
INTERVAL = 60


class UntilClock:
    """The shared SimClock, seen by the loop: runs each hook once its time is reached, stops at `end`."""

    speed = 0.0

    def __init__(self, inner: SimClock, end: datetime, stop: threading.Event,
                 hooks: list[tuple[datetime, Callable[[], None]]] | None = None):
        self.inner, self.end, self.stop = inner, end, stop
        self.hooks = sorted(hooks or [], key=lambda h: h[0])

    def now(self) -> datetime:
        return self.inner.now()

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)
        while self.hooks and self.inner.now() >= self.hooks[0][0]:
            self.hooks.pop(0)[1]()
        if self.inner.now() >= self.end:
            self.stop.set()


@dataclass
class Day:
    """A sandbox, afc's settings pointing at it, and the day's tracked fixtures."""

    sb: Sandbox
    clock: SimClock
    settings: Settings
    fixtures: list[Any]


@pytest.fixture
def day(db_url: str, tmp_path: Path) -> Iterator[Day]:
    """The sandbox at 10:00 on DAY with the day's fixtures already in core (as the daily job leaves them)."""
    clock = SimClock(DAY + timedelta(hours=10), speed=0)
    with start_sandbox(SandboxConfig(seed=42, plan="pro"), clock=clock) as sb:
        settings = load_settings({}, api_key=sb.key, api_base_url=sb.url, database_url=db_url, data_dir=tmp_path)
        seed_schedule(settings, clock)
        fixtures = sb.world.fixtures_between(DAY, DAY + timedelta(days=1), LEAGUES)
        yield Day(sb, clock, settings, fixtures)


def seed_schedule(settings: Settings, clock: SimClock) -> None:
    """Fetch the day's fixtures list into core, as the daily job does."""
    collector = Collector.open(settings, clock=clock)
    try:
        step(collector.context("seed", "test", "HIGH"), Request.of("fixtures", {"date": DAY.date().isoformat()}))
    finally:
        collector.close()


def run_loop(day: Day, until: datetime, live: LiveConfig | None = None,
             hooks: list[tuple[datetime, Callable[[], None]]] | None = None, **kw: Any) -> LoopReport:
    """Run the loop on the shared clock until the clock reaches `until`."""
    stop = threading.Event()
    loop = LiveLoop(kw.pop("settings", day.settings), live or LiveConfig(interval=INTERVAL), LEAGUES,
                    clock=UntilClock(day.clock, until, stop, hooks), stop=stop, **kw)
    return loop.run()


def live_calls(db: Database) -> list[datetime]:
    """When each /fixtures?live= response was fetched, from afc's own archive."""
    rows = db.fetchall("SELECT params, fetched_at FROM raw.responses WHERE endpoint = 'fixtures' ORDER BY id")
    return [timestamp(at) for params, at in rows if "live" in load_json(params)]


def assert_core_matches_truth(db: Database, day: Day, *, require_correction: bool = True) -> None:
    """Final scores, events and the other detail parts in core equal the sandbox's final items."""
    corrected = 0
    for fx in day.fixtures:
        truth = day.sb.world.final(fx.id)
        row = db.fetch_dicts("SELECT status_short, home_goals, away_goals, ht_home, ht_away, ft_home, ft_away "
                             "FROM core.fixtures WHERE id = %s", (fx.id,))[0]
        assert row == {"status_short": truth["fixture"]["status"]["short"],
                       "home_goals": truth["goals"]["home"], "away_goals": truth["goals"]["away"],
                       "ht_home": truth["score"]["halftime"]["home"], "ht_away": truth["score"]["halftime"]["away"],
                       "ft_home": truth["score"]["fulltime"]["home"], "ft_away": truth["score"]["fulltime"]["away"]}
        details = db.fetch_dicts("SELECT events, lineups, statistics, players, final FROM core.fixture_details "
                                 "WHERE fixture_id = %s", (fx.id,))[0]
        assert details["final"] is True or details["final"] == 1
        for part in ("events", "lineups", "statistics", "players"):
            assert load_json(details[part]) == truth[part], f"fixture {fx.id}: {part} differ from the truth"
        assert truth["lineups"] and truth["statistics"] and truth["players"]  # full coverage: all present
        if day.sb.world.details(fx.id).wrong:
            corrected += 1
            assert_correction_was_rechecked(db, fx.id, truth["events"])
    assert corrected >= 1 or not require_correction, "no fixture of the day had a silent correction; pick another day"


def assert_correction_was_rechecked(db: Database, fixture_id: int, final_events: list[Any]) -> None:
    """The first details fetch saw the wrong events; the re-check 30 minutes later fixed them."""
    seen = []
    for params, body in db.fetchall("SELECT params, body FROM raw.responses WHERE endpoint = 'fixtures' ORDER BY id"):
        if str(fixture_id) in load_json(params).get("ids", "").split("-"):
            item = next(i for i in load_json(body)["response"] if i["fixture"]["id"] == fixture_id)
            if item["fixture"]["status"]["short"] in ("FT", "AET", "PEN"):  # not the statistics fetched in play
                seen.append(item["events"])
    assert len(seen) == 2 and seen[0] != final_events and seen[1] == final_events
