"""Operations costs: pruning a year of raw responses (PostgreSQL drops whole months; SQLite deletes
in batches), backing the database up, and what the circuit breaker adds to every call.

    python tests/bench/bench_ops.py [--json] [--rows 60000] [--backend sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from afc.clock import SimClock  # noqa: E402
from afc.collect.breaker import DbBreaker  # noqa: E402
from afc.db import connect, dump_json  # noqa: E402
from afc.ops.backup import backup  # noqa: E402
from afc.ops.retention import prune  # noqa: E402
from tests.bench.common import fresh_database  # noqa: E402
from tests.conftest import scalar  # noqa: E402

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
BODY = dump_json({"get": "fixtures", "errors": [], "results": 1, "response": [{"fixture": {"id": 1}}] * 20})
INSERT = """
INSERT INTO raw.responses (endpoint, params, status, headers, body, fetched_at)
VALUES ('fixtures', '{}', 200, '{}', %s, %s)"""


def _database(backend: str, tmp: Path) -> tuple[str, Any]:
    """A fresh migrated database and a function that drops it."""
    return fresh_database(backend)


def _fill(db: Any, rows: int) -> None:
    """`rows` responses spread evenly over the 365 days before NOW."""
    step = timedelta(days=365) / rows
    times = [NOW - step * i for i in range(rows)]
    with db.transaction():
        if db.backend == "postgres":
            for month in sorted({(t.year, t.month) for t in times}):
                db.fetchone("SELECT raw.ensure_partition(%s)", (datetime(*month, 1, tzinfo=UTC),))
        db.executemany(INSERT, [(BODY, t) for t in times])


def _breaker_overhead(db: Any, calls: int = 2000) -> float:
    """Microseconds the breaker adds to a call on a healthy endpoint (check + record success)."""
    breaker = DbBreaker(db, SimClock(NOW, speed=0))
    start = time.perf_counter()
    for _ in range(calls):
        breaker.check("fixtures")
        breaker.record("fixtures", ok=True)
    return (time.perf_counter() - start) / calls * 1e6


def one(backend: str, rows: int, tmp: Path) -> dict[str, Any]:
    """Fill, back up, prune 90 days, and time the breaker on one backend."""
    url, drop = _database(backend, tmp)
    db = connect(url)
    try:
        _fill(db, rows)
        start = time.perf_counter()
        made = backup(db, tmp / f"backups-{backend}", NOW, keep=1)
        backup_s = time.perf_counter() - start
        start = time.perf_counter()
        result = prune(db, timedelta(days=90), NOW)
        prune_s = time.perf_counter() - start
        left = scalar(db, "SELECT COUNT(*) FROM raw.responses")
        return {"backend": backend, "rows": rows, "backup_s": round(backup_s, 3),
                "backup_mb": round(made.size / 2**20, 1),
                "prune_s": round(prune_s, 3), "partitions_dropped": len(result.partitions_dropped),
                "rows_deleted_by_batch": result.rows_deleted, "rows_left": left,
                "breaker_us_per_call": round(_breaker_overhead(db), 1)}
    finally:
        db.close()
        drop()


def run(rows: int = 60_000, backends: tuple[str, ...] = ("sqlite", "postgres")) -> dict[str, Any]:
    """Every backend's figures."""
    with tempfile.TemporaryDirectory() as tmp:
        return {"results": [one(b, rows, Path(tmp)) for b in backends]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    out = run(args.rows, backends)
    if args.json:
        print(json.dumps(out, indent=2))
        return
    keys = list(out["results"][0])
    print(" | ".join(keys))
    for row in out["results"]:
        print(" | ".join(str(row[k]) for k in keys))


if __name__ == "__main__":
    main()
