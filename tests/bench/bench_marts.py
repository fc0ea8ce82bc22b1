"""Mart maintenance cost of a 20-fixture update on a database of 10,000 and of 1,000,000 fixtures.

The database is filled with bulk SQL (generate_series on PostgreSQL, a recursive CTE on SQLite):
380 fixtures per league season, 100 leagues, with the marts built for every row. Then the same 20
fixtures of one league season change score again and again, through the real transform and
pipeline write; the figure is the median time of the mart refresh alone, and of the whole write.

    python tests/bench/bench_marts.py [--json] [--small N] [--large N] [--repeats N]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
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

from afc import transform  # noqa: E402
from afc.db import Database, connect  # noqa: E402
from afc.db.migrate import migrate  # noqa: E402
from afc.db.upsert import apply  # noqa: E402
from afc.marts import refresh as mart  # noqa: E402
from tests.conftest import PG_ADMIN, sample  # noqa: E402

PER_SEASON, LEAGUES, TEAMS = 380, 100, 20
BASE = datetime(2020, 1, 1, tzinfo=UTC)
SERIES = {
    "postgres": "SELECT i FROM generate_series(CAST(%(first)s AS integer), CAST(%(last)s AS integer)) AS g(i)",
    "sqlite": "SELECT i FROM n",
}
RECURSIVE = "WITH RECURSIVE n(i) AS (SELECT %(first)s UNION ALL SELECT i + 1 FROM n WHERE i < %(last)s) "
KICKOFF = {
    "postgres": "%(base)s + i * interval '1 hour'",
    "sqlite": "strftime('%%Y-%%m-%%dT%%H:%%M:%%S+00:00', %(epoch)s + i * 3600, 'unixepoch')",
}
# league season k = (i - 1) / 380: league k % 100 + 1, season 2000 + k / 100; teams 100 per league
FIXTURES = """
INSERT INTO core.fixtures (id, league_id, season, round, kickoff_at, status_short, status_long, status_group,
    home_team_id, away_team_id, home_goals, away_goals, updated_at, raw_id)
SELECT i, ((i - 1) / 380) %% 100 + 1, 2000 + ((i - 1) / 380) / 100, 'Regular Season', {kickoff}, 'FT',
    'Match Finished', 'finished', (((i - 1) / 380) %% 100 + 1) * 100 + i %% 20,
    (((i - 1) / 380) %% 100 + 1) * 100 + (i + 7) %% 20, i %% 4, i %% 3, %(now)s, 0
FROM ({series}) AS s"""
DAILY = """
INSERT INTO mart.daily_fixtures (fixture_id, match_date, kickoff_at, league_id, league_name, season, round,
    home_team_id, home_team, away_team_id, away_team, home_goals, away_goals, status_short, status_group, updated_at)
SELECT f.id, {day}, f.kickoff_at, f.league_id, l.name, f.season, f.round, f.home_team_id, h.name, f.away_team_id,
    a.name, f.home_goals, f.away_goals, f.status_short, f.status_group, %(now)s
FROM core.fixtures f JOIN core.leagues l ON l.id = f.league_id JOIN core.teams h ON h.id = f.home_team_id
JOIN core.teams a ON a.id = f.away_team_id WHERE f.id >= %(first)s AND f.id <= %(last)s"""
DAY = {"postgres": "CAST(f.kickoff_at AT TIME ZONE 'UTC' AS date)", "sqlite": "substr(f.kickoff_at, 1, 10)"}


def seed_reference(db: Database, now: datetime) -> None:
    """Leagues, their teams and seasons."""
    meta = {"updated_at": now, "raw_id": 0}
    with db.transaction():
        leagues = [{"id": lg, "name": f"League {lg}"} for lg in range(1, LEAGUES + 1)]
        apply(db, _rows("core.leagues", ("id",), leagues), meta)
        teams = [{"id": lg * 100 + t, "name": f"Club {lg}-{t}"} for lg in range(1, LEAGUES + 1) for t in range(TEAMS)]
        apply(db, _rows("core.teams", ("id",), teams), meta)


def _rows(table: str, key: tuple[str, ...], rows: list[dict[str, Any]]) -> Any:
    from afc.transform.model import TableRows

    return TableRows(table, key, rows)


def grow(db: Database, first: int, last: int, now: datetime) -> float:
    """Add fixtures first..last and their mart rows with bulk SQL; returns seconds."""
    started = time.perf_counter()
    values = {"first": first, "last": last, "now": now, "base": BASE, "epoch": int(BASE.timestamp())}
    series = SERIES[db.backend]
    prefix = RECURSIVE if db.backend == "sqlite" else ""
    with db.transaction():
        db.execute(prefix + FIXTURES.format(kickoff=KICKOFF[db.backend], series=series), values)
        db.execute(DAILY.format(day=DAY[db.backend]), values)
        seasons = {((i - 1) // PER_SEASON % LEAGUES + 1, 2000 + (i - 1) // PER_SEASON // LEAGUES)
                   for i in range(first, last + 1, PER_SEASON)}
        mart.refresh(db, {"league_season": seasons}, now)
    return time.perf_counter() - started


def update_items(target: int, round_no: int) -> list[dict[str, Any]]:
    """20 real-shaped /fixtures items for fixtures target..target+19 with a new score each round."""
    base = sample("fixtures/obissing__matches2023.json")["response"][0]
    league, season = (target - 1) // PER_SEASON % LEAGUES + 1, 2000 + (target - 1) // PER_SEASON // LEAGUES
    items = []
    for i in range(target, target + 20):
        item = copy.deepcopy(base)
        item["fixture"]["id"] = i
        item["fixture"]["timestamp"] = int((BASE + timedelta(hours=i)).timestamp())
        item["league"].update(id=league, season=season)
        item["teams"]["home"].update(id=league * 100 + i % 20, name=f"Club {league}-{i % 20}")
        item["teams"]["away"].update(id=league * 100 + (i + 7) % 20, name=f"Club {league}-{(i + 7) % 20}")
        item["goals"] = {"home": round_no % 5, "away": (round_no + i) % 4}
        items.append(item)
    return items


def measure(db: Database, target: int, repeats: int) -> dict[str, Any]:
    """Median ms of the mart refresh (and of each refresher), and of the whole write, for a 20-fixture update."""
    refresh_ms: list[float] = []
    write_ms: list[float] = []
    each: dict[str, list[float]] = {}
    for n in range(repeats + 3):  # the first three warm caches and prepared statements up
        now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n)
        batch = transform.run("fixtures", {}, update_items(target, n + 1))
        started = time.perf_counter()
        with db.transaction():
            for rows in batch.tables():
                apply(db, rows, {"updated_at": now, "raw_id": n + 1})
            middle = time.perf_counter()
            timings = _refresh(db, batch.touched, now)
        done = time.perf_counter()
        if n >= 3:
            refresh_ms.append((done - middle) * 1000)
            write_ms.append((done - started) * 1000)
            for name, ms in timings.items():
                each.setdefault(name, []).append(ms)
    return {"refresh_ms": round(statistics.median(refresh_ms), 2), "write_ms": round(statistics.median(write_ms), 2),
            "refreshers_ms": {name: round(statistics.median(v), 2) for name, v in each.items()}}


def _refresh(db: Database, touched: dict[str, set[Any]], now: datetime) -> dict[str, float]:
    """mart.refresh, timing each refresher (other stages register theirs too: all are counted)."""
    timings: dict[str, float] = {}
    _joints(db, mart.FIRST, touched, now, timings)  # before the dashboard rows take the new state, as in refresh
    for kind, keys in touched.items():
        for fn in mart.REFRESHERS.get(kind, ()):
            started = time.perf_counter()
            fn(db, keys, now)
            timings[f"{fn.__module__}.{fn.__name__}"] = (time.perf_counter() - started) * 1000
    _joints(db, mart.JOINT, touched, now, timings)
    return timings


def _joints(db: Database, joints: list[tuple[tuple[str, ...], Any]], touched: dict[str, set[Any]], now: datetime,
            timings: dict[str, float]) -> None:
    for kinds, joint in joints:
        found = {kind: touched[kind] for kind in kinds if touched.get(kind)}
        if found:
            started = time.perf_counter()
            joint(db, found, now)
            timings[f"{joint.__module__}.{joint.__name__}"] = (time.perf_counter() - started) * 1000


def bench(db: Database, small: int, large: int, repeats: int) -> dict[str, Any]:
    """Both sizes on one backend: grow to `small`, measure, grow to `large`, measure again."""
    migrate(db)
    transform.has_transform("fixtures")  # registers the transforms and with them the marts
    now = datetime(2025, 12, 31, tzinfo=UTC)
    seed_reference(db, now)
    target = small - PER_SEASON + 1  # the 20 fixtures changed are in a full league season
    result: dict[str, Any] = {"build_small_s": round(grow(db, 1, small, now), 1)}
    result["small"] = measure(db, target, repeats)
    result["build_large_s"] = round(grow(db, small + 1, large, now), 1)
    result["large"] = measure(db, target, repeats)
    result["refresh_ratio"] = round(result["large"]["refresh_ms"] / result["small"]["refresh_ms"], 2)
    result["write_ratio"] = round(result["large"]["write_ms"] / result["small"]["write_ms"], 2)
    return result


def run(small: int = 10_000, large: int = 1_000_000, repeats: int = 30) -> dict[str, Any]:
    """The figures for SQLite and PostgreSQL."""
    results: dict[str, Any] = {"load_before": round(os.getloadavg()[0], 2), "small": small, "large": large,
                               "repeats": repeats}
    with tempfile.TemporaryDirectory() as tmp:
        db = connect(f"sqlite:///{tmp}/bench.db")
        results["sqlite"] = bench(db, small, large, repeats)
        db.close()
    import psycopg

    name = f"afc_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            db = connect(PG_ADMIN.rsplit("/", 1)[0] + "/" + name)
            results["postgres"] = bench(db, small, large, repeats)
            db.close()
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    results["load_after"] = round(os.getloadavg()[0], 2)  # other work on the machine skews figures
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    results = run(args.small, args.large, args.repeats)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"load average {results['load_before']} before, {results['load_after']} after")
    print(f"20-fixture update, median of {args.repeats}: mart refresh and whole write (ms)")
    print(f"{'backend':<10} {'refresh@small':>14} {'refresh@large':>14} {'ratio':>6} "
          f"{'write@small':>12} {'write@large':>12} {'ratio':>6} {'build large s':>14}")
    for backend in ("sqlite", "postgres"):
        r = results[backend]
        print(f"{backend:<10} {r['small']['refresh_ms']:>14} {r['large']['refresh_ms']:>14} {r['refresh_ratio']:>6} "
              f"{r['small']['write_ms']:>12} {r['large']['write_ms']:>12} {r['write_ratio']:>6} "
              f"{r['build_large_s']:>14}")
        for name, ms in r["large"]["refreshers_ms"].items():
            print(f"  {name}: {r['small']['refreshers_ms'].get(name)} ms -> {ms} ms")


if __name__ == "__main__":
    main()
