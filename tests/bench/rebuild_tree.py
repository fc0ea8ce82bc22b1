"""One rebuild measurement with the afc of a given source tree: from scratch, then over itself.

bench_rebuild.py runs this in a child process, once with this checkout and once with an older one (a
`git archive` of the reference commit), so both are measured side by side on the same archive:

    python tests/bench/rebuild_tree.py TREE DATABASE_URL

Prints JSON: per run the rows, wall seconds, the process's CPU seconds, the PostgreSQL server process's
CPU seconds (read from /proc: the server is local) and the peak RSS. The caller wipes core and marts first.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # bench_rebuild.START: the clock the archive was collected on


def server_cpu(db: Any) -> float | None:
    """CPU seconds the connection's PostgreSQL backend has used so far (None on SQLite or a remote server)."""
    if db.backend != "postgres":
        return None
    row = db.fetchone("SELECT pg_backend_pid()")
    try:
        fields = Path(f"/proc/{row[0]}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def measure(url: str) -> dict[str, Any]:
    from afc.clock import SimClock
    from afc.collect import rebuild
    from afc.db import connect

    db, clock = connect(url), SimClock(START, speed=0)
    out: dict[str, Any] = {}
    for name in ("from_scratch", "over_itself"):
        server, cpu, wall = server_cpu(db), time.process_time(), time.perf_counter()
        report = rebuild.rebuild(db, clock)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        server_after = server_cpu(db)
        out[name] = {"responses": report.responses, "rows": report.rows, "seconds": round(wall, 3),
                     "cpu_seconds": round(cpu, 3),
                     "server_cpu_seconds": None if server is None or server_after is None
                     else round(server_after - server, 3),
                     "rows_per_s": round(report.rows / wall), "rows_per_cpu_s": round(report.rows / cpu)}
    db.close()
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(Path(sys.argv[1]).resolve()))  # that tree's afc, not this checkout's
    print(json.dumps(measure(sys.argv[2])))
