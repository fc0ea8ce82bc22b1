"""The full step of two source trees side by side, response by response: the steadiest A/B on a busy machine.

Two worker processes, one per tree (each its own fresh database, after the same warm-up), store the same
answers in turns, one response each, in alternating order; every response's wall time, the worker's CPU and
its PostgreSQL backend's CPU are kept. A burst of load from other work hits both within the same few tens of
milliseconds, so the medians of the paired ratios (after ÷ before, per response) hold where whole-run figures
swing by a quarter. The reference tree is a `git archive` of a commit, or another checkout:

    git archive main | tar -x -C /tmp/before
    python tests/bench/bench_step_pair.py /tmp/before [AFTER] [--backend sqlite|postgres]
        [--load plain|details] [--responses N] [--json]

AFTER defaults to this checkout. Plain responses hold 380 items, detailed ones 20 (bench_step.py's loads).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
MEASURES = ("wall", "client", "server")


def worker(tree: str, backend: str, load: str, responses: int) -> None:
    """Store one response per `go` line read from stdin; print its seconds (wall, CPU, server CPU) as JSON."""
    sys.path.insert(0, tree)
    from afc.api.body import has_nul
    from afc.db import connect
    from tests.bench.bench_step import DETAILED, PLAIN, Step, replicate, sample, server_cpu, wire
    from tests.bench.common import fresh_database

    url, drop = fresh_database(backend)
    try:
        db = connect(url)
        step = Step(db)
        step.load("plain", replicate(sample(PLAIN)["response"], 380, 1), 380)  # warm-up: stubs, caches, partition
        per, source, first = (380, PLAIN, 10_000_000) if load == "plain" else (20, DETAILED, 15_000_000)
        items = replicate(sample(source)["response"], per * responses, first)
        answers = [(r, t, json.loads(t), has_nul(t)) for r, t in wire(load, items, per)]
        print("ready", flush=True)
        for answer in answers:
            if sys.stdin.readline().strip() != "go":
                break
            wall, cpu, server = time.perf_counter(), time.process_time(), server_cpu(db)
            step.store(*answer)
            print(json.dumps([time.perf_counter() - wall, time.process_time() - cpu, server_cpu(db) - server]),
                  flush=True)
        db.close()
    finally:
        drop()


def run(before: str, after: str = str(ROOT), backend: str = "postgres", load: str = "plain",
        responses: int = 100) -> dict[str, Any]:
    """Per-response figures of both trees, taken in turns, and their medians and paired ratios."""
    trees = {"before": before, "after": after}
    procs = {name: subprocess.Popen([sys.executable, __file__, "--worker", tree, "--backend", backend, "--load", load,
                                     "--responses", str(responses)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    text=True) for name, tree in trees.items()}
    for proc in procs.values():
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    found: dict[str, list[list[float]]] = {name: [] for name in procs}
    load_before = os.getloadavg()[0]
    for n in range(responses):
        for name in list(procs)[:: 1 if n % 2 == 0 else -1]:
            found[name].append(_turn(procs[name].stdin, procs[name].stdout))
    for proc in procs.values():
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait()
    medians = {name: {m: round(statistics.median(r[i] for r in rows) * 1e3, 2) for i, m in enumerate(MEASURES)}
               for name, rows in found.items()}
    ratios = {m: round(statistics.median(b[i] / a[i] for a, b in zip(found["before"], found["after"], strict=True)
                                         if a[i] > 0), 3) for i, m in enumerate(MEASURES) if found["before"][0][i]}
    # A cost paid every few responses (an SQLite checkpoint) moves the sums, where the median response may not see it
    totals = {m: round(sum(r[i] for r in found["after"]) / sum(r[i] for r in found["before"]), 3)
              for i, m in enumerate(MEASURES) if found["before"][0][i]}
    return {"backend": backend, "load": load, "responses": responses, "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2), "medians_ms": medians, "after_over_before": ratios,
            "total_after_over_before": totals}


def _turn(stdin: IO[str] | None, stdout: IO[str] | None) -> list[float]:
    assert stdin is not None and stdout is not None
    stdin.write("go\n")
    stdin.flush()
    return list(json.loads(stdout.readline()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", nargs="?")
    parser.add_argument("after", nargs="?", default=str(ROOT))
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--load", choices=("plain", "details"), default="plain")
    parser.add_argument("--responses", type=int, default=100)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.backend, args.load, args.responses)
        return
    if not args.before:
        parser.error("the reference tree (before) is required")
    results = run(args.before, args.after, args.backend, args.load, args.responses)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{results['backend']} {results['load']}: {results['responses']} responses each, in turns; "
          f"load {results['load_before']} -> {results['load_after']}")
    for name, medians in results["medians_ms"].items():
        print(f"  {name:6s} median ms: " + ", ".join(f"{m} {v}" for m, v in medians.items()))
    print("  after / before, median of paired ratios: "
          + ", ".join(f"{m} {v}" for m, v in results["after_over_before"].items()))
    print("  after / before, ratio of the sums: "
          + ", ".join(f"{m} {v}" for m, v in results["total_after_over_before"].items()))


if __name__ == "__main__":
    main()
