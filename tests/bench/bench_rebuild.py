"""Rebuild throughput from the raw archive, and what the drift observer costs per response.

Rebuild: a full season (380 fixtures, every one with details in `ids=` batches of 20, and the
table) is collected from the sandbox through the real pipeline; then core and marts are wiped and
rebuilt from raw (every row inserted), and rebuilt again over the result (every row unchanged).
With `--before REF` the same is measured with the afc of an older commit (its `git archive`), side by
side on the same archive: rounds alternate the two, each rebuild in a child process of its own
(rebuild_tree.py), and the figures are medians. Wall time is what a user sees but moves with the
machine's load; CPU seconds (afc's process, plus the PostgreSQL server process) are the steadier figure.
Observer: the comparison with the known shapes, warm (as in a running process), for a real
season of plain fixtures (380 items) and a real `ids=` answer with details (20 items), next to
the transform of the same items.

    python tests/bench/bench_rebuild.py [--json] [--before REF] [--rounds N]
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from afc import transform  # noqa: E402
from afc.api.client import Request  # noqa: E402
from afc.clock import SimClock  # noqa: E402
from afc.collect import drift  # noqa: E402
from afc.collect import step as pipeline  # noqa: E402
from afc.collect.collector import Collector  # noqa: E402
from afc.collect.drift.shapes import shape_of  # noqa: E402
from afc.config.settings import load_settings  # noqa: E402
from afc.db import Database  # noqa: E402
from afc.sandbox import SandboxConfig, start_sandbox  # noqa: E402
from tests.bench.common import fresh_database  # noqa: E402
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


def measure_rebuild(url: str, trees: dict[str, Path], rounds: int) -> dict[str, Any]:
    """Collect once; then per round, for each tree in turn: wipe, rebuild from scratch, rebuild again."""
    started = time.perf_counter()
    collector, responses = collect(url)
    collect_seconds = time.perf_counter() - started
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    for round_ in range(rounds):
        order = list(trees) if round_ % 2 == 0 else list(reversed(trees))  # neither always goes first
        for name in order:
            wipe(collector.db)
            runs[name].append(replay(trees[name], url))
    collector.close()
    out: dict[str, Any] = {"collect_seconds": round(collect_seconds, 1), "responses": responses, "rounds": rounds,
                           **medians(runs["after"])}
    if "before" in runs:
        out["before"] = medians(runs["before"])
        out["ratio"] = {run: ratios(out[run], out["before"][run]) for run in RUNS}
    return out


RUNS = ("from_scratch", "over_itself")


def replay(tree: Path, url: str) -> dict[str, Any]:
    """One child process rebuilding with the afc of `tree` (see rebuild_tree.py)."""
    script = Path(__file__).with_name("rebuild_tree.py")
    done = subprocess.run([sys.executable, str(script), str(tree), url], capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout))


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per run kind, the median of each figure over the rounds."""
    out: dict[str, Any] = {"peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs)}
    for run in RUNS:
        figures = [r[run] for r in runs]
        out[run] = {key: _median([f[key] for f in figures]) for key in figures[0]}
        out[run]["cpu_all_seconds"] = _median([f["cpu_seconds"] + (f["server_cpu_seconds"] or 0) for f in figures])
    return out


def _median(values: list[Any]) -> Any:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 3) if known else None


def ratios(after: dict[str, Any], before: dict[str, Any]) -> dict[str, float]:
    """How many times faster `after` is: by wall time (rows/s) and by CPU (afc's process and the server's)."""
    return {"rows_per_s": round(after["rows_per_s"] / before["rows_per_s"], 2),
            "cpu": round(before["cpu_all_seconds"] / after["cpu_all_seconds"], 2)}


@contextmanager
def tree_of(ref: str) -> Iterator[Path]:
    """The source tree of commit `ref`, exported to a temporary directory."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "tree.tar"
        subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), ref], check=True)
        with tarfile.open(archive) as tar:
            tar.extractall(Path(tmp) / "tree", filter="data")
        yield Path(tmp) / "tree"


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


def run(before: str | None = None, rounds: int = 1) -> dict[str, Any]:
    """Every figure (PostgreSQL is skipped when it is not reachable); with `before`, that commit side by side."""
    results: dict[str, Any] = {"observer": measure_observer()}
    if before is None:
        return results | _backends({"after": ROOT}, rounds)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", before], capture_output=True, text=True,
                            check=True).stdout.strip()
    with tree_of(before) as old:
        return results | {"before_commit": commit} | _backends({"before": old, "after": ROOT}, rounds)


def _backends(trees: dict[str, Path], rounds: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = measure_rebuild(f"sqlite:///{tmp}/bench.db", trees, rounds)
    url, drop = fresh_database("postgres", migrated=False)
    try:
        results["postgres"] = measure_rebuild(url, trees, rounds)
    finally:
        drop()
    results["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--before", metavar="REF", help="also measure this commit's afc, side by side")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = run(args.before, args.rounds)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print("rebuild of a full season with details (380 fixtures, 19 ids= calls, the table); medians of "
          f"{args.rounds} rounds; load average at the end {results['load_average']}")
    print(f"{'backend':<9} {'afc':<14} {'run':<13} {'rows':>5} {'seconds':>8} {'rows/s':>7} {'cpu s':>6} "
          f"{'server s':>8} {'peak MB':>8}")
    for backend in ("sqlite", "postgres"):
        r = results[backend]
        versions = {"before " + results["before_commit"]: r["before"]} if "before" in r else {}
        for version, figures in (versions | {"this": r}).items():
            for run_name in RUNS:
                f = figures[run_name]
                print(f"{backend:<9} {version:<14} {run_name:<13} {f['rows']:>5} {f['seconds']:>8} "
                      f"{f['rows_per_s']:>7} {f['cpu_seconds']:>6} {f['server_cpu_seconds'] or '':>8} "
                      f"{figures['peak_rss_mb']:>8}")
        for run_name, ratio in r.get("ratio", {}).items():
            print(f"{backend:<9} {run_name}: {ratio['rows_per_s']}x rows/s, {ratio['cpu']}x less CPU (afc + server)")
    print("\ndrift observer per response (warm), next to the transform of the same items")
    print(f"{'response':<16} {'observer ms':>12} {'transform ms':>13} {'observer/transform':>19}")
    for name, f in results["observer"].items():
        print(f"{name:<16} {f['observer_ms']:>12} {f['transform_ms']:>13} {f['observer_vs_transform_pct']:>18}%")


if __name__ == "__main__":
    main()
