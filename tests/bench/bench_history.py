"""History write cost per response and the space a season of history takes, on SQLite and PostgreSQL.

The answers are the sandbox's own (its /odds items every 3 hours from the day a fixture's odds open to
kick-off, its /standings every evening of a season), written without HTTP through the pipeline's
write path, one transaction per response. The cost of history is the same sequence written with and
without the history rows (core.odds_history / core.standings_history and their marts).

    python tests/bench/bench_history.py [--json] [--fixtures N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from afc import transform  # noqa: E402
from afc.collect.step import write_batch  # noqa: E402
from afc.db import Database, connect  # noqa: E402
from afc.sandbox.catalog import LEAGUE_BY_ID  # noqa: E402
from afc.sandbox.contract import Query  # noqa: E402
from afc.sandbox.endpoints.odds import STEP, has_odds, odds_item, opens  # noqa: E402
from afc.sandbox.endpoints.teams import standings  # noqa: E402
from afc.sandbox.world import World  # noqa: E402
from tests.bench.common import fresh_database  # noqa: E402

SEED, LEAGUE = 42, 39
HISTORY = {"core.odds_history", "core.standings_history"}
PER_PAGE = 10  # /odds answers 10 fixtures per page


def odds_pages(world: World, season: int, fixtures: int) -> list[tuple[datetime, list[dict[str, Any]]]]:
    """The first `fixtures` of a league season, their /odds answer every 3 h from opening to kick-off,
    fetched as `league&season` pages of 10: one (moment, items) per page."""
    chosen = [fx for fx in world.fixtures(LEAGUE, season) if fx.fate != "CANC"][:fixtures]
    probe = Query("odds", {}, world, chosen[0].kickoff)
    first = min(opens(probe, fx) for fx in chosen)
    last = max(fx.kickoff for fx in chosen)
    pages = []
    at = first - timedelta(seconds=first.timestamp() % STEP) + timedelta(minutes=5)
    while at <= last:
        q = Query("odds", {}, world, at)
        items = [odds_item(q, fx) for fx in chosen if has_odds(q, fx) and at <= fx.kickoff]
        pages += [(at, items[i : i + PER_PAGE]) for i in range(0, len(items), PER_PAGE)]
        at += timedelta(seconds=STEP)
    return pages


def table_days(world: World, season: int) -> list[tuple[datetime, list[dict[str, Any]]]]:
    """The league's /standings answer every evening of the season."""
    fixtures = world.fixtures(LEAGUE, season)
    day, end = fixtures[0].kickoff.replace(hour=23, minute=0), fixtures[-1].kickoff + timedelta(days=1)
    days = []
    while day <= end:
        days.append((day, standings(Query("standings", {"league": str(LEAGUE), "season": str(season)},
                                          world, day)).response))
        day += timedelta(days=1)
    return days


def write(db: Database, endpoint: str, params: dict[str, str], answers: list[tuple[datetime, list[Any]]],
          history: bool) -> list[float]:
    """Milliseconds per response written (with or without the history rows)."""
    took = []
    for raw_id, (at, items) in enumerate(answers, start=1):
        batch = transform.run(endpoint, params, items)
        if not history:
            batch.touched.pop("odds_history", None)
            batch.touched.pop("standings_history", None)
            batch = replace(batch, _groups={k: v for k, v in batch._groups.items() if k[0] not in HISTORY})
        started = time.perf_counter()
        with db.transaction():
            write_batch(db, batch, raw_id, at, endpoint)
        took.append((time.perf_counter() - started) * 1000)
    return took


def size(db: Database, table: str) -> int:
    """Bytes a table takes with its indexes (SQLite: from dbstat pages)."""
    if db.backend == "postgres":
        return int(db.fetchone("SELECT pg_total_relation_size(%s)", (table,))[0])  # type: ignore[index]
    name = table.replace(".", "_", 1)
    rows = db.fetchall("SELECT sum(pgsize) FROM dbstat WHERE name = %s OR name IN "
                       "(SELECT name FROM sqlite_master WHERE tbl_name = %s AND type = 'index')", (name, name))
    return int(rows[0][0] or 0)


def measure(backend: str, odds: list[tuple[datetime, list[Any]]], tables: list[tuple[datetime, list[Any]]],
            season: int) -> dict[str, Any]:
    """Per-response milliseconds with and without history, and the history's rows and bytes."""
    figures: dict[str, Any] = {}
    params = {"odds": {"league": str(LEAGUE), "season": str(season)},
              "standings": {"league": str(LEAGUE), "season": str(season)}}
    for history in (False, True):
        url, drop = fresh_database(backend)
        try:
            db = connect(url)
            odds_ms = write(db, "odds", params["odds"], odds, history)
            again = [(at + timedelta(hours=1), items) for at, items in odds[-20:]]  # an hour on, unchanged
            refetch_ms = write(db, "odds", params["odds"], again, history)
            table_ms = write(db, "standings", params["standings"], tables, history)
            key = "with" if history else "without"
            figures[key] = {"odds_ms_p50": round(statistics.median(odds_ms), 2),
                            "odds_refetch_ms_p50": round(statistics.median(refetch_ms), 2),
                            "standings_ms_p50": round(statistics.median(table_ms), 2)}
            if history:
                for table in ("core.odds_history", "core.standings_history", "mart.odds_movement",
                              "mart.table_by_round"):
                    rows = int(db.fetchone(f"SELECT count(*) FROM {table}")[0])  # type: ignore[index]
                    figures[table] = {"rows": rows, "bytes": size(db, table)}
            db.close()
        finally:
            drop()
    figures["odds_extra_ms"] = round(figures["with"]["odds_ms_p50"] - figures["without"]["odds_ms_p50"], 2)
    figures["standings_extra_ms"] = round(figures["with"]["standings_ms_p50"]
                                          - figures["without"]["standings_ms_p50"], 2)
    return figures


def run(fixtures: int = 20) -> dict[str, Any]:
    """Both backends; space extrapolated from `fixtures` to the league's whole season."""
    world = World.shared(SEED, 2026)
    season = world.current_season(LEAGUE, datetime(2026, 11, 1, tzinfo=UTC))
    odds, tables = odds_pages(world, season, fixtures), table_days(world, season)
    season_fixtures = len(world.fixtures(LEAGUE, season))
    results: dict[str, Any] = {"load_before": round(os.getloadavg()[0], 2), "fixtures": fixtures,
                               "odds_responses": len(odds), "standings_responses": len(tables),
                               "prices_per_response": round(statistics.mean(
                                   sum(len(v["values"]) for i in items for b in i["bookmakers"] for v in b["bets"])
                                   for _, items in odds)),
                               "season_fixtures": season_fixtures,
                               "odds_covered": LEAGUE_BY_ID[LEAGUE].coverage()["odds"]}
    for backend in ("sqlite", "postgres"):
        figures = measure(backend, odds, tables, season)
        held = figures["core.odds_history"]
        figures["season_odds_mb"] = round(held["bytes"] / fixtures * season_fixtures / 1e6, 1)
        figures["season_odds_rows"] = round(held["rows"] / fixtures * season_fixtures)
        figures["season_standings_kb"] = round(figures["core.standings_history"]["bytes"] / 1e3)
        results[backend] = figures
    results["load_after"] = round(os.getloadavg()[0], 2)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--fixtures", type=int, default=20)
    args = parser.parse_args()
    results = run(args.fixtures)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{results['odds_responses']} /odds pages ({results['prices_per_response']} prices each), "
          f"{results['standings_responses']} /standings answers; load {results['load_before']} → "
          f"{results['load_after']}")
    for backend in ("sqlite", "postgres"):
        r = results[backend]
        print(f"{backend}: /odds page {r['without']['odds_ms_p50']} → {r['with']['odds_ms_p50']} ms "
              f"(+{r['odds_extra_ms']}), re-fetch {r['with']['odds_refetch_ms_p50']} ms, /standings "
              f"{r['without']['standings_ms_p50']} → {r['with']['standings_ms_p50']} ms; a season of odds "
              f"history {r['season_odds_rows']:,} rows, {r['season_odds_mb']} MB; of tables "
              f"{r['core.standings_history']['rows']:,} rows, {r['season_standings_kb']} kB")


if __name__ == "__main__":
    main()
