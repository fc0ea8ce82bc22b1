"""Rebuild throughput from the raw archive, and what the drift observer costs per response.

Rebuild: a full season (380 fixtures, every one with details in `ids=` batches of 20, and the
table) is collected from the sandbox through the real pipeline; then core and marts are wiped and
rebuilt from raw (every row inserted), and rebuilt again over the result (every row unchanged).
Observer: the comparison with the known shapes, warm (as in a running process), for a real
season of plain fixtures (380 items) and a real `ids=` answer with details (20 items), next to
the transform of the same items.

    python tests/bench/bench_rebuild.py [--json]
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from afc import transform  # noqa: E402
from afc.api.client import Request  # noqa: E402
from afc.clock import SimClock  # noqa: E402
from afc.collect import drift, rebuild  # noqa: E402
from afc.collect import step as pipeline  # noqa: E402
from afc.collect.collector import Collector  # noqa: E402
from afc.collect.drift.shapes import shape_of  # noqa: E402
from afc.config.settings import load_settings  # noqa: E402
from afc.db import Database  # noqa: E402
from afc.sandbox import SandboxConfig, start_sandbox  # noqa: E402
from tests.bench.common import fresh_database  # noqa: E402  # noqa: E402
from tests.conftest import sample  # noqa: E402

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LEAGUE = 39
PLAIN = "fixtures/obissing__matches2023.json"
DETAILED = "fixtures_id/footballay__fixtureByFixtureid.json"


def collect(url: str) -> tuple[Collector, int]:
    """A full season with details in the database at `url`; returns the collector and responses made."""
    clock = SimClock(START, speed=0)
    with start_sandbox(SandboxConfig(seed=42, plan="mega", rate_limit=False), clock=clock) as sandbox:
        collector = Collector.open(load_settings({}, api_key=sandbox.key, api_base_url=sandbox.url,
                                                 database_url=url), clock=clock)
        ctx = collector.context("bench", "bench", "HIGH")
        season = sandbox.world.current_season(LEAGUE, START)
        ids = [f.id for f in sandbox.world.fixtures(LEAGUE, season)]
        requests = [Request.of("fixtures", {"league": LEAGUE, "season": season})]
        requests += [Request.of("fixtures", {"ids": ids[i : i + 20]}) for i in range(0, len(ids), 20)]
        requests.append(Request.of("standings", {"league": LEAGUE, "season": season}))
        for request in requests:
            pipeline.step(ctx, request)
    return collector, len(requests)


def wipe(db: Database) -> None:
    """Delete every core and mart row (raw stays)."""
    if db.backend == "postgres":
        names = [r[0] for r in db.fetchall("SELECT table_schema || '.' || table_name FROM information_schema.tables "
                                           "WHERE table_schema IN ('core', 'mart') AND table_type = 'BASE TABLE'")]
        with db.transaction():
            db.execute(f"TRUNCATE {', '.join(names)}")
        return
    names = [r[0] for r in db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                       "(name LIKE 'core%' OR name LIKE 'mart%')")]
    with db.transaction():
        db.execute("PRAGMA defer_foreign_keys = ON")
        for name in names:
            db.execute(f"DELETE FROM {name.replace('_', '.', 1)}")


def figures(report: rebuild.RebuildReport) -> dict[str, Any]:
    return {"responses": report.responses, "items": report.items, "rows": report.rows,
            "seconds": round(report.seconds, 2), "rows_per_s": round(report.rows_per_second),
            "items_per_s": round(report.items / report.seconds) if report.seconds else 0}


def measure_rebuild(url: str) -> dict[str, Any]:
    """Collect, wipe, rebuild from scratch, rebuild again."""
    started = time.perf_counter()
    collector, responses = collect(url)
    collect_seconds = time.perf_counter() - started
    db = collector.db
    wipe(db)
    scratch = rebuild.rebuild(db, collector.clock)
    again = rebuild.rebuild(db, collector.clock)
    collector.close()
    return {"collect_seconds": round(collect_seconds, 1), "responses": responses,
            "from_scratch": figures(scratch), "over_itself": figures(again)}


def best_of(fns: dict[str, Callable[[], Any]], rounds: int = 7, calls: int = 10) -> dict[str, float]:
    """Milliseconds per call of each function: the best of `rounds` interleaved rounds (fair under load)."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            fn()
            started = time.perf_counter()
            for _ in range(calls):
                fn()
            best[name] = min(best[name], (time.perf_counter() - started) / calls * 1000)
    return best


def measure_observer() -> dict[str, Any]:
    """Observer vs transform on a real plain season and a real ids= answer with details."""
    season = sample(PLAIN)["response"]
    detailed = sample(DETAILED)["response"][0]
    batch = []
    for i in range(20):
        item = copy.deepcopy(detailed)
        item["fixture"]["id"] = 1_000_000 + i
        batch.append(item)
    shape = shape_of("fixtures")
    assert shape is not None  # a checked-in shape
    out = {}
    for name, items, params in (("season_380", season, {"league": "39", "season": "2023"}),
                                ("ids_20_details", batch, {"ids": "x"})):
        ms = best_of({"observer": functools.partial(drift.differences, shape, items),
                      "transform": functools.partial(transform.run, "fixtures", params, items)})
        out[name] = {"observer_ms": round(ms["observer"], 2), "transform_ms": round(ms["transform"], 2),
                     "observer_vs_transform_pct": round(ms["observer"] / ms["transform"] * 100)}
    return out


def run() -> dict[str, Any]:
    """Every figure (PostgreSQL is skipped when it is not reachable)."""
    results: dict[str, Any] = {"observer": measure_observer()}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = measure_rebuild(f"sqlite:///{tmp}/bench.db")
    results["postgres"] = _postgres()
    return results


def _postgres() -> dict[str, Any]:
    url, drop = fresh_database("postgres", migrated=False)
    try:
        return measure_rebuild(url)
    finally:
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = run()
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print("rebuild of a full season with details (380 fixtures, 19 ids= calls, the table)")
    print(f"{'backend':<10} {'run':<14} {'responses':>9} {'items':>6} {'rows':>6} {'seconds':>8} {'rows/s':>8} "
          f"{'items/s':>8}")
    for backend in ("sqlite", "postgres"):
        r = results[backend]
        if isinstance(r, str):
            print(f"{backend:<10} {r}")
            continue
        for run_name in ("from_scratch", "over_itself"):
            f = r[run_name]
            print(f"{backend:<10} {run_name:<14} {f['responses']:>9} {f['items']:>6} {f['rows']:>6} "
                  f"{f['seconds']:>8} {f['rows_per_s']:>8} {f['items_per_s']:>8}")
    print("\ndrift observer per response (warm), next to the transform of the same items")
    print(f"{'response':<16} {'observer ms':>12} {'transform ms':>13} {'observer/transform':>19}")
    for name, f in results["observer"].items():
        print(f"{name:<16} {f['observer_ms']:>12} {f['transform_ms']:>13} {f['observer_vs_transform_pct']:>18}%")


if __name__ == "__main__":
    main()
