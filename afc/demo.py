"""`afc demo`: the whole collector against the built-in sandbox, in about a minute, with no key.

It starts the sandbox in-process on a free port with a fast clock set just before the next
kickoffs of the tracked leagues, then runs what a VM would: bootstrap, a backfill of last season,
the daily job, the live loop while the first matches are played, and a coverage report.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from afc.clock import SimClock
from afc.collect.collector import Collector
from afc.config.settings import Settings, load_settings
from afc.db import as_datetime
from afc.words import plural

SPEED = 240  # a 2-hour match plays in 30 seconds
COUNTED = ("core.leagues", "core.teams", "core.fixtures", "core.fixture_details", "core.standings",
           "core.players", "core.player_season_stats", "core.injuries", "core.odds", "core.predictions",
           "mart.daily_fixtures", "mart.live_scores", "mart.league_summary", "mart.coverage_status",
           "core.odds_history", "core.standings_history", "mart.odds_movement", "mart.table_by_round",
           "raw.responses")


@dataclass
class DemoReport:
    """What the demo did, step by step, and what the database holds at the end."""

    database: str
    started_at: datetime
    steps: list[tuple[str, str]] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    calls: int = 0
    seconds: float = 0.0


def first_kickoff(world: Any, leagues: list[int], now: datetime) -> datetime:
    """The next kickoff in the tracked leagues (the world plays most days; look a fortnight ahead)."""
    for fixture in world.fixtures_between(now, now + timedelta(days=14), leagues):
        return fixture.kickoff
    return now


def run_demo(settings: Settings, *, quick: bool = False, say: Callable[[str], None] = print) -> DemoReport:
    """Serve the sandbox and collect from it into `settings.db_url`; returns the report."""
    from afc.config.jobs import load
    from afc.sandbox import SandboxConfig, start_sandbox

    began = time.perf_counter()
    config = load(settings.jobs_dir)
    leagues = [t.league for t in config.tracked]
    clock = SimClock(datetime.now().astimezone(), speed=0)
    with start_sandbox(SandboxConfig(plan="pro"), clock=clock) as sb:
        start = first_kickoff(sb.world, leagues, clock.now()) - timedelta(minutes=20)
        clock.set(start)
        conf = load_settings({}, **_overrides(settings, sb.url, sb.key))
        collector = Collector.open(conf, clock=clock)
        report = DemoReport(collector.db.url, start)
        try:
            for name, step in _steps(collector, conf, clock, quick):
                say(f"· {name} …")
                report.steps.append((name, step()))
                say(f"  {report.steps[-1][1]}")
            report.rows = {t: (collector.db.fetchone(f"SELECT count(*) FROM {t}") or (0,))[0] for t in COUNTED}
        finally:
            collector.close()
        report.calls = sb.total_calls
    report.seconds = time.perf_counter() - began
    return report


def _overrides(settings: Settings, url: str, key: str) -> dict[str, Any]:
    values = settings.model_dump(exclude={"api_key", "api_base_url", "clock", "database_url"})
    return values | {"api_key": key, "api_base_url": url, "database_url": settings.db_url}


Step = tuple[str, Callable[[], str]]


def _steps(collector: Collector, settings: Settings, clock: SimClock, quick: bool) -> list[Step]:
    season = collector.clock.now().year - 1 if collector.clock.now().month >= 7 else collector.clock.now().year - 2
    return [
        ("bootstrap: countries, leagues, teams, venues", lambda: _bootstrap(collector)),
        (f"backfill: Premier League {season}", lambda: _backfill(collector, season, quick)),
        ("daily: fixtures by date, standings, details, injuries, odds", lambda: _daily(collector)),
        ("live loop: the first matches of the day, at 240x speed", lambda: _live(settings, clock, quick)),
        ("match day: lineups before kickoff, statistics in play, predictions", lambda: _matchday(collector)),
        ("coverage report", lambda: _coverage(collector, season)),
        ("history: a day of odds moves, the table after each round", lambda: _history(collector, clock, quick)),
    ]


def _summary(reports: list[Any]) -> str:
    calls = sum(r.calls for r in reports)
    new = sum(r.counts.inserted for r in reports)
    changed = sum(r.counts.updated for r in reports)
    bad = [r for r in reports if r.status != "ok"]
    tail = f"; {len(bad)} jobs not ok: {bad[0].job_id} {bad[0].error}" if bad else ""
    return f"{calls} calls, {new} rows new, {changed} changed{tail}"


def _bootstrap(collector: Collector) -> str:
    from afc.jobs.bootstrap import bootstrap

    return _summary(bootstrap(collector, "all"))


def _backfill(collector: Collector, season: int, quick: bool) -> str:
    from afc import backfill

    what = "fixtures,standings,teams" if quick else "fixtures,details,standings,teams,topscorers"
    report = backfill.execute(collector, backfill.targets(["39"], [str(season)], what), priority="LOW")
    return f"{report.status}: {report.done} tasks, {report.calls} calls, {report.counts.written} rows written"


def _daily(collector: Collector) -> str:
    from afc.jobs.daily import daily

    return _summary(daily(collector))


def _live(settings: Settings, clock: SimClock, quick: bool) -> str:
    from afc.live import build

    stop = threading.Event()
    loop = build(settings, clock=clock, stop=stop)
    clock_start = clock.now()
    clock.set_speed(SPEED)
    timer = threading.Timer(8 if quick else 40, stop.set)  # quick: to just past the first kickoff
    timer.start()
    try:
        report = loop.run()
    finally:
        timer.cancel()
        clock.set_speed(0)
    played = clock.now() - clock_start
    extra = ", ".join(f"{calls} {kind}" for kind, calls in report.matchday_calls.items())
    return (f"{report.ticks} live calls, {report.detail_calls} details calls and match-day calls "
            f"({extra or 'none'}) over {played.total_seconds() / 60:.0f} simulated minutes")


MATCHDAY = """
SELECT
  (SELECT count(*) FROM core.fixture_details WHERE lineups_before_kickoff_min > 0),
  (SELECT avg(lineups_before_kickoff_min) FROM core.fixture_details WHERE lineups_before_kickoff_min > 0),
  (SELECT count(*) FROM mart.live_scores WHERE home_shots IS NOT NULL),
  (SELECT count(*) FROM core.predictions p JOIN core.fixtures f ON f.id = p.fixture_id
   WHERE f.kickoff_at >= %(tomorrow)s AND f.kickoff_at < %(after)s)"""


def _matchday(collector: Collector) -> str:
    """What the match day left in core and the marts: lineups, live statistics, tomorrow's predictions."""
    now = collector.clock.now()
    tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
    row = collector.db.fetchone(MATCHDAY, {"tomorrow": tomorrow, "after": tomorrow + timedelta(days=1)})
    lineups, lead, live, predicted = row if row else (0, None, 0, 0)
    early = f", first seen {float(lead):.0f} min before kickoff on average" if lead is not None else ""
    return (f"{plural(lineups, 'fixture')} with lineups confirmed before kickoff{early}; {live} in play with "
            f"statistics on the live panel; {plural(predicted, 'prediction')} for tomorrow's fixtures")


def _coverage(collector: Collector, season: int) -> str:
    from afc.marts.coverage import report

    backfilled = report(collector.db, collector.config, collector.now(), 39, season)
    tracked = report(collector.db, collector.config, collector.now())
    return (f"Premier League {season} (backfilled): {_statuses(backfilled.rows)}; the tracked current "
            f"seasons: {_statuses(tracked.rows)} — `afc coverage gaps` lists the calls that would fill them")


def _statuses(rows: list[Any]) -> str:
    statuses = [r.status for r in rows]
    return ", ".join(f"{statuses.count(s)} {s.replace('_', ' ')}" for s in dict.fromkeys(sorted(statuses)))


def _history(collector: Collector, clock: SimClock, quick: bool) -> str:
    """Walk the clock on: a fixture's odds every 3 h up to its kick-off (a Premier League one if core holds
    one for tomorrow), the Premier League table each night for three weeks."""
    from afc.api.client import Request
    from afc.collect import runs
    from afc.collect.step import step
    from afc.marts.history_read import odds_movement, rounds

    now = clock.now()
    row = collector.db.fetchone(NEXT_FIXTURE, (now + timedelta(hours=12),))
    fixture, kickoff = (int(row[0]), as_datetime(row[1])) if row else (None, None)
    season = int(row[2]) if row else now.year
    table = Request.of("standings", {"league": 39, "season": season})
    moments = [(now.replace(hour=23, minute=0) + timedelta(days=d), table) for d in range(8 if quick else 22)]
    if fixture and kickoff:
        odds = Request.of("odds", {"fixture": fixture})
        moments += [(at, odds) for at in (kickoff - timedelta(hours=h) for h in range(24, -1, -3)) if at >= now]
    ctx = collector.context("demo_history", "demo", "LOW")
    for moment, request in sorted(moments, key=lambda m: m[0]):
        clock.set(max(moment, clock.now()))
        step(ctx, request)
    runs.finish(collector.db, ctx.run_id, "ok", clock.now())
    held = rounds(collector.db, 39, season)
    tables = f"Premier League table kept after rounds {held[0]}-{held[-1]}" if held else "no table kept"
    if not fixture:
        return tables
    moves = [f"{s.summary['value_label']} {s.summary['opening_odd']} → {s.summary['closing_odd']}"
             for s in odds_movement(collector.db, fixture, bookmaker=8, bet=1)]
    where = collector.db.url
    return (f"fixture {fixture}, Bet365 match winner opening → closing: {', '.join(moves)}; {tables} "
            f"(afc history odds --fixture {fixture} --db {where}; "
            f"afc history standings --league 39 --season {season} --round N --db {where})")


NEXT_FIXTURE = """
SELECT id, kickoff_at, season FROM core.fixtures WHERE kickoff_at >= %s AND status_short = 'NS'
ORDER BY league_id = 39 DESC, kickoff_at LIMIT 1"""


def default_demo_db(settings: Settings) -> str:
    """The demo's own SQLite file, next to (never inside) the collector's database."""
    return f"sqlite:///{Path(settings.data_dir) / 'demo.db'}"
