"""What the live loop costs: calls on a match day, tick overhead by database size, memory over a long run.

1. Calls: the loop follows a simulated Saturday (the tracked leagues, sandbox seed 42) from 00:00 to
   23:59 at the default 15 s interval; reported against polling every 15 s all day (5,760 calls).
2. Tick overhead excluding HTTP: `pipeline.store` of a recorded /fixtures?live=all answer grown to 20
   fixtures (each repetition a new minute of play, so rows really change), and the loop's schedule
   read, on a database holding 10,000 and then 1,000,000 fixtures (bulk SQL). Target: p50 <= 20 ms,
   big/small ratio <= 1.5.
3. Memory: resident set size while an in-process loop makes 10,000 ticks against an httpx
   MockTransport (flat: the end is close to the size after the first 1,000 ticks).

    python tests/bench/bench_live.py [--json] [--backend sqlite|postgres] [--big N] [--ticks N]
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from afc.api.client import ApiClient, Request, Response  # noqa: E402
from afc.clock import SimClock  # noqa: E402
from afc.collect.ledger import Ledger, Reservation  # noqa: E402
from afc.collect.step import Context, store  # noqa: E402
from afc.config.live import LiveConfig  # noqa: E402
from afc.config.settings import Floors, load_settings  # noqa: E402
from afc.db import Database, connect  # noqa: E402
from afc.db.migrate import migrate  # noqa: E402
from afc.live.loop import LiveLoop  # noqa: E402
from afc.live.schedule import read  # noqa: E402
from tests.bench.common import fresh_database  # noqa: E402
from tests.conftest import sample  # noqa: E402
from tests.live_support import UntilClock, seed_schedule  # noqa: E402

DAY = datetime(2026, 11, 28, tzinfo=UTC)
TRACKED = [39, 140, 135, 78, 61, 2]
NAIVE_CALLS = 24 * 3600 // 15


def match_day() -> dict[str, Any]:
    """Follow the whole day against the sandbox; count what the loop asked for."""
    from afc.sandbox import SandboxConfig, start_sandbox

    clock = SimClock(DAY, speed=0)
    with tempfile.TemporaryDirectory() as tmp, start_sandbox(SandboxConfig(seed=42), clock=clock) as sb:
        settings = load_settings({}, api_key=sb.key, api_base_url=sb.url, database_url=f"sqlite:///{tmp}/afc.db",
                                 data_dir=tmp)
        seed_schedule(settings, clock)
        sb.reset_counters()
        stop, started = threading.Event(), time.perf_counter()
        alone = LiveConfig(lineups_lead=0, statistics_every=0)  # the live list alone: bench_matchday.py has the rest
        LiveLoop(settings, alone, TRACKED, clock=UntilClock(clock, DAY + timedelta(hours=23, minutes=59), stop),
                 stop=stop).run()
        live = sum(1 for endpoint, params in sb.requests if "live" in params)
        details = sum(1 for endpoint, params in sb.requests if "ids" in params)
        fixtures = sb.world.fixtures_between(DAY, DAY + timedelta(days=1), TRACKED)
        return {"fixtures": len(fixtures), "leagues": len({f.league_id for f in fixtures}), "live_calls": live,
                "details_calls": details, "total_calls": live + details, "naive_calls": NAIVE_CALLS,
                "share_of_naive": round((live + details) / NAIVE_CALLS, 3),
                "wall_seconds": round(time.perf_counter() - started, 1)}


def live_items(count: int = 20) -> list[dict[str, Any]]:
    """The recorded live=all answer, grown to `count` fixtures by copying items under new ids."""
    items = sample("fixtures_live/livefut__dataTest.js")["response"]
    grown = [copy.deepcopy(items[i % len(items)]) for i in range(count)]
    for i, item in enumerate(grown[len(items):]):
        item["fixture"]["id"] += 50_000_000 + i
    return grown


def fill(db: Database, count: int) -> None:
    """`count` finished fixtures over ten years in 50 leagues (one bulk statement per backend)."""
    now = DAY
    with db.transaction():
        db.executemany("INSERT INTO core.leagues (id, name, updated_at) VALUES (%s, %s, %s)",
                       [(900 + i, f"League {900 + i}", now) for i in range(50)])
        if db.backend == "postgres":
            db.execute("INSERT INTO core.fixtures (id, league_id, season, kickoff_at, status_short, status_group, "
                       "updated_at) SELECT 20000000 + g, 900 + mod(g, 50), 2016 + mod(g, 10), %(start)s + g * interval "
                       "'5 minutes', 'FT', 'finished', %(now)s FROM generate_series(1, %(n)s) g",
                       {"start": now - timedelta(days=3650), "now": now, "n": count})
        else:
            db.conn.execute(  # type: ignore[attr-defined]
                "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ?) "
                "INSERT INTO core_fixtures (id, league_id, season, kickoff_at, status_short, status_group, updated_at) "
                "SELECT 20000000 + g, 900 + g % 50, 2016 + g % 10, strftime('%Y-%m-%dT%H:%M:%S', '2016-11-30', "
                "'+' || (g * 5) || ' minutes') || '+00:00', 'FT', 'finished', ? FROM s", (count, now.isoformat()))


def database(backend: str) -> tuple[str, Any]:
    """A fresh database URL (migrated by the caller) and a function that drops it."""
    return fresh_database(backend, migrated=False)


def pct(values: list[float], q: float) -> float:
    return round(sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000, 2)


class Ticker:
    """A database holding `fixtures` fixtures, storing one 20-fixture live answer per `tick()`."""

    def __init__(self, backend: str, fixtures: int):
        self.url, self.drop = database(backend)
        self.db = connect(self.url)
        migrate(self.db)
        started = time.perf_counter()
        fill(self.db, fixtures)
        self.fill_seconds = time.perf_counter() - started
        self.backend, self.fixtures = backend, fixtures
        self.clock = SimClock(DAY + timedelta(hours=15), speed=0)
        ledger = Ledger(self.db, self.clock, account="bench", daily_limit=75_000, minute_limit=450, floors=Floors())
        from afc.collect import runs

        run_id = runs.start(self.db, "bench", "bench", self.clock.now())
        self.ctx = Context(self.db, None, ledger, self.clock, run_id, "CRITICAL")  # type: ignore[arg-type]
        self.items, self.n = live_items(), 0
        self.stores: list[float] = []
        self.reads: list[float] = []

    def tick(self, keep: bool) -> None:
        """Store one changed live answer and read the schedule, timing both when `keep`."""
        for n, item in enumerate(self.items):
            item["fixture"]["status"]["elapsed"] = self.n % 90 + 1
            item["goals"]["home"] = (self.n + n) // 30
        body = {"get": "fixtures", "parameters": {"live": "all"}, "errors": [], "results": len(self.items),
                "paging": {"current": 1, "total": 1}, "response": self.items}
        now = self.clock.now()
        response = Response(Request.of("fixtures", {"live": "all"}), 200, {}, copy.deepcopy(body), None, now, 0)
        reservation = Reservation(now.date(), now.replace(second=0, microsecond=0), "CRITICAL")
        t0 = time.perf_counter()
        store(self.ctx, response, reservation)
        t1 = time.perf_counter()
        read(self.db, None, now, LiveConfig())
        t2 = time.perf_counter()
        if keep:  # the first stores insert the fixtures and their references
            self.stores.append(t1 - t0)
            self.reads.append(t2 - t1)
        self.clock.advance(15)
        self.n += 1

    def figures(self) -> dict[str, Any]:
        return {"backend": self.backend, "fixtures": self.fixtures, "fill_seconds": round(self.fill_seconds, 1),
                "store_p50_ms": pct(self.stores, 0.5), "store_p95_ms": pct(self.stores, 0.95),
                "schedule_p50_ms": pct(self.reads, 0.5), "schedule_p95_ms": pct(self.reads, 0.95)}

    def close(self) -> None:
        self.db.close()
        self.drop()


def tick_overhead(backend: str, sizes: tuple[int, ...], repeats: int = 200) -> list[dict[str, Any]]:
    """Tick cost at each database size, measured side by side: the ticks alternate between them,
    so a noisy moment of the machine hits every size alike."""
    tickers = [Ticker(backend, n) for n in sizes]
    try:
        for i in range(repeats + 5):
            for ticker in tickers:
                ticker.tick(keep=i >= 5)
        return [t.figures() for t in tickers]
    finally:
        for ticker in tickers:
            ticker.close()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def memory(ticks: int) -> dict[str, Any]:
    """RSS while an in-process loop ticks `ticks` times against a MockTransport."""
    clock = SimClock(DAY + timedelta(hours=12), speed=0)
    items = live_items()

    def answer(request: httpx.Request) -> httpx.Response:
        now = int(clock.now().timestamp())
        for item in items:
            item["fixture"]["timestamp"] = now - 1800
            item["fixture"]["status"]["elapsed"] = now // 60 % 90 + 1
        return httpx.Response(200, json={"get": "fixtures", "parameters": {"live": "all"}, "errors": [],
                                         "results": len(items), "paging": {"current": 1, "total": 1},
                                         "response": items})

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({}, api_key="bench-key", api_base_url="http://api.invalid",
                                 database_url=f"sqlite:///{tmp}/afc.db", data_dir=tmp, plan="mega")
        client = ApiClient(settings.api_base_url, "bench-key", clock, transport=httpx.MockTransport(answer))
        samples: list[tuple[int, float]] = []
        start, stop = clock.now(), threading.Event()

        def sample(n: int) -> None:
            samples.append((n, round(rss_mb(), 1)))

        hooks: list[tuple[datetime, Callable[[], None]]] = [
            (start + timedelta(seconds=15 * n), functools.partial(sample, n)) for n in range(1000, ticks + 1, 1000)]
        loop = LiveLoop(settings, LiveConfig(), None, clock=UntilClock(clock, start + timedelta(seconds=15 * ticks + 1),
                                                                       stop, hooks), stop=stop, client=client)
        _seed_live(settings.db_url, clock, items)
        started = time.perf_counter()
        report = loop.run()
        return {"ticks": report.ticks, "rss_mb_by_ticks": samples, "rss_start_mb": samples[0][1],
                "rss_end_mb": samples[-1][1], "wall_seconds": round(time.perf_counter() - started, 1)}


def _seed_live(url: str, clock: SimClock, items: list[dict[str, Any]]) -> None:
    """Put the 20 fixtures into core as live, as a previous tick would have."""
    db = connect(url)
    try:
        migrate(db)
        now = int(clock.now().timestamp())
        for item in items:
            item["fixture"]["timestamp"] = now - 1800
        from afc.collect.step import write_batch
        from afc.transform import run

        with db.transaction():
            write_batch(db, run("fixtures", {"live": "all"}, items), 0, clock.now(), "fixtures")
    finally:
        db.close()


def run(backend: str = "sqlite", big: int = 1_000_000, ticks: int = 10_000) -> dict[str, Any]:
    """Every measurement, as one dict."""
    small, large = tick_overhead(backend, (10_000, big))
    return {"match_day": match_day(), "tick_small": small, "tick_big": large,
            "store_ratio_p50": round(large["store_p50_ms"] / small["store_p50_ms"], 2),
            "memory": memory(ticks)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--ticks", type=int, default=10_000)
    args = parser.parse_args()
    result = run(args.backend, args.big, args.ticks)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return
    day = result["match_day"]
    print(f"match day: {day['fixtures']} fixtures in {day['leagues']} leagues: {day['live_calls']} live + "
          f"{day['details_calls']} details = {day['total_calls']} calls vs {day['naive_calls']} polling all day "
          f"({day['share_of_naive']:.1%})")
    print(f"{'fixtures in core':>18} {'store p50':>10} {'store p95':>10} {'schedule p50':>13} {'schedule p95':>13}")
    for key in ("tick_small", "tick_big"):
        t = result[key]
        print(f"{t['fixtures']:>18,} {t['store_p50_ms']:>8} ms {t['store_p95_ms']:>8} ms "
              f"{t['schedule_p50_ms']:>11} ms {t['schedule_p95_ms']:>11} ms")
    print(f"store p50 ratio big/small: {result['store_ratio_p50']} ({args.backend})")
    mem = result["memory"]
    print(f"memory: {mem['ticks']} ticks, RSS {mem['rss_start_mb']} MB after 1,000 -> "
          f"{mem['rss_end_mb']} MB at the end")


if __name__ == "__main__":
    main()
