"""afc's own Python work per item, without a database: transform, drift observer, canonical JSON of the parts.

The full step (`bench_step.py`) mixes this with the drivers, the server and the garbage collector's
timing, which move its CPU figure by tens of µs per item on a busy machine. This isolates the part
that is pure Python and reports the fastest of several rounds of CPU time, the steadiest figure on a
shared machine. Loads as in bench_step: plain `/fixtures` items (380 per response) and items with
every detail part (20 per `ids=` response), parsed from JSON text as the client parses them.

    python tests/bench/bench_items.py [--json] [--plain N] [--details N] [--rounds N] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from afc import transform  # noqa: E402
from afc.collect import drift  # noqa: E402
from afc.db import dump_json  # noqa: E402
from afc.transform.fixtures import PARTS  # noqa: E402
from tests.bench.bench_ingest import DETAILED, PLAIN, replicate  # noqa: E402
from tests.conftest import sample  # noqa: E402

Responses = list[list[dict[str, Any]]]


def responses(name: str, count: int) -> Responses:
    """`count` items of one load as the client hands them over: parsed from text, split per response."""
    source, per = (PLAIN, 380) if name == "plain" else (DETAILED, 20)
    items = json.loads(json.dumps(replicate(sample(source)["response"], count, 10_000_000)))
    return [items[first : first + per] for first in range(0, len(items), per)]


def stages() -> dict[str, Callable[[Responses], None]]:
    """What the step does in Python with each response's items."""
    def transformed(answers: Responses) -> None:
        for items in answers:
            list(transform.run("fixtures", {}, items).tables())

    def observed(answers: Responses) -> None:
        for items in answers:
            drift.found_in("fixtures", items)

    def encoded(answers: Responses) -> None:
        for items in answers:
            for entry in items:
                for part in PARTS:
                    if part in entry:
                        dump_json(entry[part])

    return {"transform": transformed, "drift": observed, "json": encoded}


def cpu_us(stage: Callable[[Responses], None], answers: Responses, rounds: int) -> float:
    """The fastest of `rounds` runs, in CPU µs per item (after one warm-up run: caches, plans)."""
    stage(answers)
    items = sum(map(len, answers))
    best = min(_seconds(stage, answers) for _ in range(rounds))
    return round(best / items * 1e6, 1)


def _seconds(stage: Callable[[Responses], None], answers: Responses) -> float:
    started = time.process_time()
    stage(answers)
    return time.process_time() - started


def run(plain: int = 3_800, details: int = 400, rounds: int = 7) -> dict[str, Any]:
    """CPU µs per item of each stage for both loads."""
    out: dict[str, Any] = {"load_before": round(os.getloadavg()[0], 2), "rounds": rounds}
    for name, count in (("plain", plain), ("details", details)):
        answers = responses(name, count)
        out[name] = {stage: cpu_us(fn, answers, rounds) for stage, fn in stages().items()}
    out["load_after"] = round(os.getloadavg()[0], 2)
    return out


def profile(plain: int, details: int, top: int = 20) -> None:
    """cProfile of every stage for both loads, top entries by own time."""
    for name, count in (("plain", plain), ("details", details)):
        answers = responses(name, count)
        profiler = cProfile.Profile()
        profiler.enable()
        for stage in stages().values():
            stage(answers)
        profiler.disable()
        print(f"== {name}: {count} items")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--plain", type=int, default=3_800)
    parser.add_argument("--details", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.profile:
        profile(args.plain, args.details)
        return
    results = run(args.plain, args.details, args.rounds)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"load average {results['load_before']} before, {results['load_after']} after; "
          f"CPU µs per item, fastest of {results['rounds']} rounds")
    for name in ("plain", "details"):
        print(f"{name}: " + ", ".join(f"{stage} {us}" for stage, us in results[name].items()))


if __name__ == "__main__":
    main()
