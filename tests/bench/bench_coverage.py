"""What keeping mart.coverage_status current costs per response, on a small and a large database.

Each league season holds 380 fixtures (200 finished, with details), 20 teams and their standings,
player statistics, and 30 archived season-list calls per endpoint. The refresh one response
triggers (one league season, as after a /standings call) is timed with 2 and with N league seasons
in the database: with indexed lookups only, the two times should be about equal. The full
recompute `afc coverage report` makes (every tracked league season) is timed too.

    python tests/bench/bench_coverage.py [--json] [--seasons N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from afc.config.coverage import CoverageConfig  # noqa: E402
from afc.db import Database, connect, dump_json  # noqa: E402
from afc.db.migrate import migrate  # noqa: E402
from afc.marts.coverage import refresh_seasons, write  # noqa: E402
from afc.marts.coverage.calculate import compute  # noqa: E402
from tests.conftest import PG_ADMIN  # noqa: E402

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
ENDPOINTS = ("fixtures", "standings", "teams", "injuries", "players/topscorers")


def _rows(db: Database, table: str, rows: list[dict[str, Any]]) -> None:
    cols = list(rows[0])
    db.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(f'%({c})s' for c in cols)})",
                   rows)


def fill_season(db: Database, league: int, season: int) -> None:
    """One league season of realistic size (see the module docstring)."""
    at = {"updated_at": NOW - timedelta(hours=3)}
    base = league * 100_000 + season % 100 * 1000
    teams = [base + t for t in range(20)]
    _rows(db, "core.leagues", [{"id": league, "name": f"League {league}"} | at]) if not db.fetchone(
        "SELECT 1 FROM core.leagues WHERE id = %s", (league,)) else None
    _rows(db, "core.league_seasons", [{"league_id": league, "season": season, "current": True, "cov_events": True,
                                       "cov_lineups": True, "cov_standings": True, "cov_players": True} | at])
    _rows(db, "core.teams", [{"id": t} | at for t in teams])
    _rows(db, "core.team_seasons", [{"league_id": league, "season": season, "team_id": t} | at for t in teams])
    fixtures = [{"id": base + i, "league_id": league, "season": season, "status_group": "finished" if i < 200
                 else "scheduled", "kickoff_at": NOW + timedelta(hours=i - 200), "home_team_id": teams[i % 20],
                 "away_team_id": teams[(i + 1) % 20]} | at for i in range(380)]
    _rows(db, "core.fixtures", fixtures)
    _rows(db, "core.fixture_details", [{"fixture_id": f["id"], "events": "[]", "lineups": "[]"} | at
                                       for f in fixtures[:200]])
    _rows(db, "core.standings", [{"league_id": league, "season": season, "group_name": "A", "team_id": t} | at
                                 for t in teams])
    params = dump_json({"league": str(league), "season": str(season)})
    _rows(db, "raw.responses", [{"endpoint": e, "params": params, "status": 200, "headers": "{}", "results": 20,
                                 "fetched_at": NOW - timedelta(days=d)} for e in ENDPOINTS for d in range(30)])


def build(db: Database, seasons: int) -> list[tuple[int, int]]:
    keys = [(1000 + n // 5, 2022 + n % 5) for n in range(seasons)]
    with db.transaction():
        for league, season in keys:
            fill_season(db, league, season)
        write(db, compute(db, CoverageConfig(), keys, NOW), NOW)  # as `afc coverage report` leaves it
    return keys


def timed_refresh(db: Database, key: tuple[int, int], repeats: int = 20) -> float:
    """Median milliseconds of the refresh one response triggers for `key`."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        with db.transaction():
            refresh_seasons(db, [key], NOW)
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


def measure(open_db, seasons: int) -> dict[str, Any]:
    """Refresh times with 2 and with `seasons` league seasons in the database, and a full recompute."""
    figures: dict[str, Any] = {}
    for size in (2, seasons):
        db = open_db()
        keys = build(db, size)
        figures[f"refresh_ms_{size}"] = timed_refresh(db, keys[0])
        started = time.perf_counter()
        compute(db, CoverageConfig(), keys, NOW)
        figures[f"full_ms_{size}"] = round((time.perf_counter() - started) * 1000, 1)
        figures[f"raw_rows_{size}"] = db.fetchone("SELECT count(*) FROM raw.responses")[0]
        db.close()
    return figures


def run(seasons: int = 60) -> dict[str, Any]:
    """Refresh cost on both backends (PostgreSQL is skipped when it is not reachable)."""
    results: dict[str, Any] = {"seasons": seasons}
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(10))

        def sqlite() -> Database:
            db = connect(f"sqlite:///{tmp}/bench{next(counter)}.db")
            migrate(db)
            return db

        results["sqlite"] = measure(sqlite, seasons)
    results["postgres"] = _postgres(seasons)
    return results


def _postgres(seasons: int) -> dict[str, Any] | str:
    import psycopg

    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True)
    except psycopg.Error as exc:
        return f"skipped: {exc}".splitlines()[0]
    names: list[str] = []

    def open_db() -> Database:
        names.append(f"afc_bench_{uuid.uuid4().hex[:8]}")
        admin.execute(f'CREATE DATABASE "{names[-1]}"')
        db = connect(PG_ADMIN.rsplit("/", 1)[0] + "/" + names[-1])
        migrate(db)
        return db

    try:
        return measure(open_db, seasons)
    finally:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--seasons", type=int, default=60)
    args = parser.parse_args()
    results = run(args.seasons)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    n = args.seasons
    print("refresh: one league season's coverage (what one response costs); full: every league season")
    print(f"{'backend':<10} {'raw rows':>9} {'refresh ms':>11} {'raw rows':>9} {'refresh ms':>11} "
          f"{'full ms':>8}")
    print(f"{'':<10} {'(2 seasons)':>21} {f'({n} seasons)':>21} {f'({n})':>8}")
    for backend in ("sqlite", "postgres"):
        r = results[backend]
        if isinstance(r, str):
            print(f"{backend:<10} {r}")
            continue
        print(f"{backend:<10} {r['raw_rows_2']:>9} {r['refresh_ms_2']:>11} {r[f'raw_rows_{n}']:>9} "
              f"{r[f'refresh_ms_{n}']:>11} {r[f'full_ms_{n}']:>8}")


if __name__ == "__main__":
    main()
