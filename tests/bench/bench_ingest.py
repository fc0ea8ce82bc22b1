"""Transform + load throughput of /fixtures items on SQLite and PostgreSQL, without HTTP.

Items are the real EPL 2023 season (plain) and a real `?id=` answer with every detail part, copied
with new fixture ids to get volume. Each response (380 plain items, or 20 with details, as `ids=`
sends them) is one transaction, as in the pipeline. The baseline is a bare bulk write of the same
core.fixtures rows: COPY on PostgreSQL, executemany in one transaction on SQLite.

    python tests/bench/bench_ingest.py [--json] [--plain N] [--details N]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from afc import transform  # noqa: E402
from afc.collect.step import write_batch  # noqa: E402
from afc.db import Database, connect  # noqa: E402
from tests.bench.common import fresh_database  # noqa: E402
from tests.conftest import sample  # noqa: E402
from tests.loading import AT  # noqa: E402

PLAIN = "fixtures/obissing__matches2023.json"
DETAILED = "fixtures_id/footballay__fixtureByFixtureid.json"


def replicate(items: list[dict[str, Any]], count: int, start: int) -> list[dict[str, Any]]:
    """`count` copies of `items` (cycled) with new fixture ids from `start`; each copy of the whole
    list is another season, so league seasons keep their real size."""
    out = []
    for i in range(count):
        item = copy.deepcopy(items[i % len(items)])
        item["fixture"]["id"] = start + i
        item["league"]["season"] = 3000 + start // 1_000_000 + i // len(items)
        out.append(item)
    return out


def load(db: Database, items: list[dict[str, Any]], per_response: int, params: dict[str, str]) -> float:
    """Seconds to transform and write `items`, one transaction per response."""
    started = time.perf_counter()
    for n, first in enumerate(range(0, len(items), per_response)):
        batch = transform.run("fixtures", params, items[first : first + per_response])
        with db.transaction():
            write_batch(db, batch, n + 1, AT, "fixtures")
    return time.perf_counter() - started


def fixture_rows(items: list[dict[str, Any]]) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """The core.fixtures rows the transform makes of `items` (for the bare baseline)."""
    batch = transform.run("fixtures", {}, items)
    rows = [r for t in batch.tables() if t.table == "core.fixtures" for r in t.rows]
    columns = tuple(rows[0]) + ("updated_at", "raw_id")
    return columns, [tuple(r[c] for c in columns[:-2]) + (AT, 1) for r in rows]


def bare(db: Database, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> float:
    """Seconds for a bare bulk write of the same rows into a scratch table shaped like core.fixtures."""
    cols = ", ".join(columns)
    if db.backend == "postgres":
        conn = db.conn  # type: ignore[attr-defined]
        conn.execute("CREATE TEMP TABLE bare_fixtures (LIKE core.fixtures)")
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur, cur.copy(f"COPY bare_fixtures ({cols}) FROM STDIN") as copy_:
            for row in rows:
                copy_.write_row(row)
        return time.perf_counter() - started
    db.execute(f"CREATE TEMP TABLE bare_fixtures AS SELECT {cols} FROM core.fixtures WHERE 0")
    started = time.perf_counter()
    with db.transaction():
        db.executemany(f"INSERT INTO bare_fixtures ({cols}) VALUES ({', '.join(['%s'] * len(columns))})", rows)
    return time.perf_counter() - started


def measure(db: Database, plain: int, detailed: int) -> dict[str, Any]:
    """Every figure for one backend."""
    season = sample(PLAIN)["response"]
    details = sample(DETAILED)["response"]
    plain_items = replicate(season, plain, 10_000_000)
    detail_items = replicate(details, detailed, 20_000_000)
    load(db, season, 380, {"league": "39", "season": "2023"})  # warm up: stubs and caches in place
    first = load(db, plain_items, 380, {"league": "39", "season": "2023"})
    rerun = load(db, plain_items, 380, {"league": "39", "season": "2023"})
    with_details = load(db, detail_items, 20, {"ids": "x"})
    columns, rows = fixture_rows(replicate(season, plain, 30_000_000))
    baseline = bare(db, columns, rows)
    return {
        "plain_items_per_s": round(plain / first), "rerun_items_per_s": round(plain / rerun),
        "details_items_per_s": round(detailed / with_details), "bare_rows_per_s": round(plain / baseline),
        "bare_vs_afc": round((plain / baseline) / (plain / first), 1),
    }


def run(plain: int = 20_000, detailed: int = 1_000, repeats: int = 3) -> dict[str, Any]:
    """Throughput on both backends: the median of `repeats` runs, each into a fresh database, the
    backends alternating so that a noisy moment of the machine does not favour one of them."""
    results: dict[str, Any] = {"load_before": round(os.getloadavg()[0], 2), "plain_items": plain,
                               "detail_items": detailed, "repeats": repeats}
    runs: dict[str, list[dict[str, Any]]] = {"sqlite": [], "postgres": []}
    for _ in range(repeats):
        for backend in runs:
            url, drop = fresh_database(backend)
            try:
                db = connect(url)
                runs[backend].append(measure(db, plain, detailed))
                db.close()
            finally:
                drop()
    for backend, figures in runs.items():
        results[backend] = {key: statistics.median(f[key] for f in figures) for key in figures[0]}
        results[backend]["runs"] = figures
    results["load_after"] = round(os.getloadavg()[0], 2)  # other work on the machine skews figures
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--plain", type=int, default=20_000)
    parser.add_argument("--details", type=int, default=1_000)
    args = parser.parse_args()
    results = run(args.plain, args.details)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"load average {results['load_before']} before, {results['load_after']} after")
    print(f"{args.plain} plain fixture items (380 per response), {args.details} with details (20 per response)")
    print(f"{'backend':<10} {'plain/s':>9} {'rerun/s':>9} {'details/s':>10} {'bare rows/s':>12} {'bare/afc':>9}")
    for backend in ("sqlite", "postgres"):
        r = results[backend]
        if isinstance(r, str):
            print(f"{backend:<10} {r}")
            continue
        print(f"{backend:<10} {r['plain_items_per_s']:>9} {r['rerun_items_per_s']:>9} {r['details_items_per_s']:>10} "
              f"{r['bare_rows_per_s']:>12} {r['bare_vs_afc']:>9}")


if __name__ == "__main__":
    main()
