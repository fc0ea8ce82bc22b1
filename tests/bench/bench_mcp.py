"""`db_query` round trip over a real stdio subprocess (`afc mcp stdio`), on SQLite and PostgreSQL
(`--transport http`: an `afc mcp http` subprocess reached over streamable HTTP with a bearer token).

The database holds 20 leagues x 380 fixtures (7,600 rows in core.fixtures and mart.daily_fixtures).
Each call asks the dashboard mart for one day's fixtures with league and team names (an indexed
lookup returning ~50 rows) and, separately, a core aggregate (goals per league over every finished
fixture). Timings are wall-clock from the client's `call_tool` to its answer: JSON-RPC framing,
the server's read-only connection (PostgreSQL: a fresh connection, BEGIN READ ONLY, SET LOCAL
ROLE, DECLARE/FETCH, ROLLBACK per query), and the result conversion.

    python tests/bench/bench_mcp.py [--json] [--calls N] [--transport stdio|http]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import anyio  # noqa: E402
from mcp import Client, StdioServerParameters  # noqa: E402

from afc.db import Database, connect  # noqa: E402
from afc.db.migrate import migrate  # noqa: E402
from afc.mcp.role import apply_setup  # noqa: E402
from tests.conftest import PG_ADMIN  # noqa: E402
from tests.mcp_support import text_of  # noqa: E402

START = datetime(2026, 8, 15, 12, tzinfo=UTC)
ROLE = f"afc_ai_bench{os.getpid()}"
MART = ("SELECT d.fixture_id, d.kickoff_at, d.league_name, d.home_team, d.away_team, d.home_goals, d.away_goals "
        "FROM {daily} d WHERE d.match_date = '2026-09-13' ORDER BY d.kickoff_at, d.fixture_id")
ONE = "SELECT 1"
CORE = ("SELECT league_id, count(*) AS fixtures, sum(home_goals + away_goals) AS goals FROM {fixtures} "
        "WHERE status_group = 'finished' GROUP BY league_id ORDER BY league_id")

QUERIES = {"select_1": ONE, "mart_day": MART, "core_aggregate": CORE}


def fill(db: Database, leagues: int = 20, per_league: int = 380) -> int:
    """Leagues, teams, fixtures and their mart rows; returns the number of fixtures."""
    now = {"updated_at": START}
    with db.transaction():
        db.executemany("INSERT INTO core.leagues (id, name, updated_at) VALUES (%(id)s, %(name)s, %(updated_at)s)",
                       [{"id": lg, "name": f"League {lg}"} | now for lg in range(1, leagues + 1)])
        db.executemany("INSERT INTO core.teams (id, name, updated_at) VALUES (%(id)s, %(name)s, %(updated_at)s)",
                       [{"id": t, "name": f"Team {t}"} | now for t in range(1, leagues * 20 + 1)])
        rows = []
        for lg in range(1, leagues + 1):
            for i in range(per_league):
                home, away = (lg - 1) * 20 + i % 20 + 1, (lg - 1) * 20 + (i + 7) % 20 + 1
                kickoff = START + timedelta(days=(i // 10) * 7 + i % 3, hours=12 + i % 8)
                rows.append({"id": lg * 1000 + i, "league_id": lg, "kickoff": kickoff, "day": kickoff.date(),
                             "home": home, "away": away, "hg": i % 4, "ag": i % 3,
                             "group": "finished" if i < 200 else "scheduled", "league": f"League {lg}"} | now)
        db.executemany("INSERT INTO core.fixtures (id, league_id, season, kickoff_at, status_group, home_team_id, "
                       "away_team_id, home_goals, away_goals, updated_at) VALUES (%(id)s, %(league_id)s, 2026, "
                       "%(kickoff)s, %(group)s, %(home)s, %(away)s, %(hg)s, %(ag)s, %(updated_at)s)", rows)
        db.executemany("INSERT INTO mart.daily_fixtures (fixture_id, match_date, kickoff_at, league_id, league_name, "
                       "season, home_team_id, home_team, away_team_id, away_team, home_goals, away_goals, "
                       "status_group, updated_at) VALUES (%(id)s, %(day)s, %(kickoff)s, %(league_id)s, %(league)s, "
                       "2026, %(home)s, 'Team ' || %(home)s, %(away)s, 'Team ' || %(away)s, %(hg)s, %(ag)s, "
                       "%(group)s, %(updated_at)s)", rows)
    return len(rows)


@asynccontextmanager
async def _connected(url: str, role: str | None, transport: str) -> AsyncIterator[Client]:
    """A client of a server subprocess: over stdio, or over HTTP (startup counted until it listens)."""
    options = ["--db", url] + (["--role", role] if role else [])
    if transport == "stdio":
        params = StdioServerParameters(command=sys.executable, args=["-m", "afc", "mcp", "stdio", *options],
                                       env={"AFC_DATA_DIR": tempfile.gettempdir()})
        async with Client(params) as client:
            yield client
        return
    from tests.test_mcp_http import connected, http_server

    with tempfile.TemporaryDirectory() as tmp, http_server(url, Path(tmp), *options) as endpoint:
        async with connected(endpoint) as client:
            yield client


async def _time_calls(url: str, calls: int, role: str | None, transport: str) -> dict[str, Any]:
    sqlite = url.startswith("sqlite:")
    names = {"daily": "mart_daily_fixtures" if sqlite else "mart.daily_fixtures",
             "fixtures": "core_fixtures" if sqlite else "core.fixtures"}
    out: dict[str, Any] = {}
    started = time.perf_counter()
    async with _connected(url, role, transport) as client:
        out["startup_ms"] = round((time.perf_counter() - started) * 1000, 1)
        for label, sql in QUERIES.items():
            sql = sql.format(**names)
            for _ in range(10):  # warm-up
                await client.call_tool("db_query", {"sql": sql})
            times, rows = [], 0
            for _ in range(calls):
                t0 = time.perf_counter()
                result = await client.call_tool("db_query", {"sql": sql})
                times.append((time.perf_counter() - t0) * 1000)
                if result.is_error:
                    raise RuntimeError(text_of(result))
                rows = result.structured_content["row_count"]
            times.sort()
            out[label] = {"calls": calls, "rows": rows, "p50_ms": round(statistics.median(times), 2),
                          "p95_ms": round(times[int(len(times) * 0.95) - 1], 2), "max_ms": round(times[-1], 2)}
    return out


def _sqlite(calls: int, transport: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/afc.db"
        db = connect(url)
        migrate(db)
        fixtures = fill(db)
        db.close()
        return {"fixtures": fixtures} | anyio.run(_time_calls, url, calls, None, transport)


def _postgres(calls: int, transport: str) -> dict[str, Any]:
    import psycopg

    name = f"afc_bench_mcp_{uuid.uuid4().hex[:8]}"
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        db = connect(url)
        migrate(db)
        fixtures = fill(db)
        db.close()
        apply_setup(url, ROLE)
        return {"fixtures": fixtures} | anyio.run(_time_calls, url, calls, ROLE, transport)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{ROLE}"')


def run(calls: int = 200, transport: str = "stdio") -> dict[str, Any]:
    """p50/p95 of db_query round trips over stdio (or HTTP), per backend and query."""
    return {"sqlite": _sqlite(calls, transport), "postgres": _postgres(calls, transport)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--calls", type=int, default=200, help="timed calls per query and backend")
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio", help="how the client connects")
    options = parser.parse_args()
    results = run(options.calls, options.transport)
    if options.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{'backend':10} {'query':15} {'rows':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}   (startup ms)")
    for backend, figures in results.items():
        for label in QUERIES:
            f = figures[label]
            print(f"{backend:10} {label:15} {f['rows']:5d} {f['p50_ms']:8.2f} {f['p95_ms']:8.2f} {f['max_ms']:8.2f}"
                  f"   ({figures['startup_ms']})")


if __name__ == "__main__":
    main()
