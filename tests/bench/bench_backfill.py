"""Backfill of a 20-team league season (the sandbox's Premier League 2025) with details, standings,
teams and players: calls made versus the minimum the API allows and versus a naive plan that asks
/fixtures/{events,lineups,statistics,players} per fixture, and wall time against the sandbox with no
rate limit, on SQLite and PostgreSQL.

    python tests/bench/bench_backfill.py [--json] [--backend sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from afc import backfill  # noqa: E402
from afc.clock import SimClock  # noqa: E402
from afc.collect.collector import Collector  # noqa: E402
from afc.config.settings import load_settings  # noqa: E402
from afc.sandbox import SandboxConfig, start_sandbox  # noqa: E402
from tests.bench.common import fresh_database  # noqa: E402

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
LEAGUE, SEASON, WHAT = 39, 2025, "fixtures,details,standings,teams,players"
DETAIL_ENDPOINTS = 4  # /fixtures/events, /lineups, /statistics, /players per fixture


def _database(backend: str, tmp: Path) -> tuple[str, Any]:
    """A fresh migrated database and a function that drops it."""
    return fresh_database(backend)


def measure(backend: str, tmp: Path) -> dict[str, Any]:
    """One uninterrupted backfill; its calls against the minimum and the naive plan."""
    url, drop = _database(backend, tmp)
    clock = SimClock(NOW, speed=0)
    try:
        with start_sandbox(SandboxConfig(plan="pro", rate_limit=False), clock=clock) as sb:
            world = sb.world
            finished = sum(1 for f in world.fixtures(LEAGUE, SEASON)
                           if world.state(f.id, NOW)["fixture"]["status"]["short"] in ("FT", "AET", "PEN"))
            settings = load_settings({}, api_key=sb.key, api_base_url=sb.url, database_url=url, data_dir=str(tmp))
            collector = Collector.open(settings, clock=clock)
            started = time.perf_counter()
            report = backfill.execute(collector, backfill.targets([str(LEAGUE)], [str(SEASON)], WHAT),
                                      priority="LOW", resume=False, listener=lambda e: None)
            seconds = time.perf_counter() - started
            collector.close()
            pages, made, leagues = sb.calls["players"], sb.total_calls, sb.calls["leagues"]
    finally:
        drop()
    minimum = 1 + math.ceil(finished / 20) + 1 + 1 + pages  # list, ids= batches, standings, teams, every page
    naive = 1 + DETAIL_ENDPOINTS * finished + 1 + 1 + pages
    return {"backend": backend, "status": report.status, "finished_fixtures": finished, "player_pages": pages,
            "calls": made, "coverage_calls": leagues, "minimum": minimum, "naive": naive,
            "vs_minimum": round(made / minimum, 3), "naive_over_afc": round(naive / made, 1),
            "seconds": round(seconds, 2), "calls_per_second": round(made / seconds, 1)}


def run(backends: tuple[str, ...] = ("sqlite", "postgres")) -> dict[str, Any]:
    """The benchmark on each backend."""
    with tempfile.TemporaryDirectory() as tmp:
        results = [measure(b, Path(tmp)) for b in backends]
    return {"league": LEAGUE, "season": SEASON, "what": WHAT, "results": results,
            "target_vs_minimum": 1.1, "expected_naive_over_afc": 15}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    result = run(("sqlite", "postgres") if args.backend == "both" else (args.backend,))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"backfill league {LEAGUE} season {SEASON} ({WHAT}) against the sandbox, no rate limit")
    header = ("backend", "calls", "minimum", "vs_minimum", "naive", "naive_over_afc", "seconds", "calls_per_second")
    print("  ".join(f"{h:>15}" for h in header))
    for row in result["results"]:
        print("  ".join(f"{row[h]!s:>15}" for h in header))
    print(f"(calls include {result['results'][0]['coverage_calls']} /leagues call for the coverage flags; "
          "target ≤ 1.1× the minimum, naive ≥ 15× afc)")


if __name__ == "__main__":
    main()
