"""Export throughput: a season with details to Parquet (target < 2 s), then to CSV and JSON Lines.

A full season (380 fixtures, every one with details in `ids=` batches of 20, and the table) is
collected from the sandbox through the real pipeline (bench_rebuild's `collect`); then `afc export
all` writes every core and mart table. Each format's best of three runs into a fresh directory;
then an incremental run (`--since last`, nothing changed) shows what a nightly timer costs.

    python tests/bench/bench_export.py [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from afc.clock import SimClock  # noqa: E402
from afc.db import Database  # noqa: E402
from afc.export.run import ExportReport, ExportRequest, Since, export  # noqa: E402
from tests.bench.bench_rebuild import START, collect  # noqa: E402
from tests.bench.common import fresh_database  # noqa: E402

TARGET_SECONDS = 2.0
ROUNDS = 3


def timed(db: Database, out: Path, fmt: str, since: Since = None) -> ExportReport:
    """One `afc export all` run, on a clock past the settle window of the collected rows."""
    clock = SimClock(START + timedelta(hours=1), speed=0)
    return export(db, ExportRequest(("all",), fmt, out, since), clock)


def measure(url: str) -> dict[str, Any]:
    """Collect the season, then export it in each format (best of ROUNDS) and once incrementally."""
    collector, _ = collect(url)
    db = collector.db
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("parquet", "csv", "jsonl"):
            runs = [timed(db, Path(tmp) / f"{fmt}-{i}", fmt) for i in range(ROUNDS)]
            best = min(runs, key=lambda r: r.seconds)
            size = sum(p.stat().st_size for p in (Path(tmp) / f"{fmt}-0").rglob("*") if p.is_file())
            figures[fmt] = {"rows": best.rows, "seconds": round(best.seconds, 3),
                            "rows_per_s": round(best.rows / best.seconds), "mb": round(size / 1e6, 1)}
        out = Path(tmp) / "nightly"
        timed(db, out, "parquet", "last")
        again = timed(db, out, "parquet", "last")
        figures["incremental_unchanged_s"] = round(again.seconds, 3)
    collector.close()
    figures["parquet_under_target"] = figures["parquet"]["seconds"] < TARGET_SECONDS
    return figures


def run() -> dict[str, Any]:
    """Both backends (PostgreSQL is skipped when it is not reachable)."""
    results: dict[str, Any] = {}
    for backend in ("sqlite", "postgres"):
        try:
            url, drop = fresh_database(backend, migrated=False)
        except Exception as exc:  # noqa: BLE001 — no server: say so in the figures
            results[backend] = f"skipped: {exc}"
            continue
        try:
            results[backend] = measure(url)
        finally:
            drop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = run()
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"afc export all: a season with details (best of {ROUNDS}; target: Parquet < {TARGET_SECONDS} s)")
    print(f"{'backend':<10} {'format':<8} {'rows':>6} {'seconds':>8} {'rows/s':>8} {'MB':>6}")
    for backend, figures in results.items():
        if isinstance(figures, str):
            print(f"{backend:<10} {figures}")
            continue
        for fmt in ("parquet", "csv", "jsonl"):
            f = figures[fmt]
            print(f"{backend:<10} {fmt:<8} {f['rows']:>6} {f['seconds']:>8} {f['rows_per_s']:>8} {f['mb']:>6}")
        print(f"{backend:<10} nightly run with nothing changed: {figures['incremental_unchanged_s']} s")


if __name__ == "__main__":
    main()
