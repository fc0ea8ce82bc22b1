"""Every benchmark in tests/bench/, on both backends, as one table (and JSON).

    .venv/bin/python -m tests.bench [--quick] [--only NAME ...] [--out bench-results/latest.json]

Each benchmark module has a `run()` returning its figures; this runs them one after another (never
in parallel: they would skew each other), keeps the raw figures in the JSON file and prints the
headline of each. `--quick` shrinks the sizes (100k instead of 1M fixtures, fewer repeats) for a
run of a few minutes; the README's table comes from a full run.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
Row = tuple[str, str, str, str, str]  # benchmark, measure, sqlite, postgres, target


def _runs(quick: bool) -> dict[str, Callable[[], Any]]:
    big = 100_000 if quick else 1_000_000

    def module(name: str) -> Any:
        return importlib.import_module(f"tests.bench.bench_{name}")

    return {
        "backfill": lambda: module("backfill").run(),
        "ingest": lambda: module("ingest").run(plain=10_000 if quick else 20_000, detailed=400 if quick else 1_000),
        "step": lambda: module("step").run(plain=3_800 if quick else 10_000, detailed=400 if quick else 2_000,
                                           with_dlt=importlib.util.find_spec("dlt") is not None),
        "marts": lambda: module("marts").run(large=big, repeats=10 if quick else 30),
        "live": lambda: {b: module("live").run(b, big=big, ticks=2_000 if quick else 10_000)
                         for b in ("sqlite", "postgres")},
        "cli": lambda: module("cli").run(runs=5 if quick else 15),
        "mcp": lambda: module("mcp").run(calls=50 if quick else 200),
        "sandbox": lambda: module("sandbox").run(seconds=1.0 if quick else 2.0, repeats=10 if quick else 30),
        "rebuild": lambda: module("rebuild").run(),
        "coverage": lambda: module("coverage").run(seasons=20 if quick else 60),
        "ops": lambda: module("ops").run(rows=20_000 if quick else 60_000),
        "export": lambda: module("export").run(),
        "notify": lambda: {b: module("notify").run(b, ticks=100 if quick else 300, events=30 if quick else 100)
                           for b in ("sqlite", "postgres")},
        "history": lambda: module("history").run(fixtures=5 if quick else 10),
    }


def _both(figures: dict[str, Any], path: Callable[[Any], Any]) -> tuple[str, str]:
    out = []
    for backend in ("sqlite", "postgres"):
        value = figures.get(backend)
        out.append("skipped" if not isinstance(value, dict) else str(path(value)))
    return out[0], out[1]


def _by_backend(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["backend"]: item for item in items}


def headline(name: str, f: dict[str, Any]) -> list[Row]:
    """The figures the README's table shows, per benchmark."""
    if name == "backfill":
        b = _by_backend(f["results"])
        return [("backfill", "calls vs the API's minimum", *_both(b, lambda v: f"{v['vs_minimum']}x"), "≤ 1.1x"),
                ("backfill", "naive per-fixture plan ÷ afc", *_both(b, lambda v: f"{v['naive_over_afc']}x"), "≥ 15x"),
                ("backfill", "season wall time (no rate limit)", *_both(b, lambda v: f"{v['seconds']} s"), "")]
    if name == "ingest":
        return [("ingest", "plain fixture items/s", *_both(f, lambda v: v["plain_items_per_s"]), "≥ 10,000"),
                ("ingest", "items/s with all details", *_both(f, lambda v: v["details_items_per_s"]), ""),
                ("ingest", "bare COPY/executemany ÷ afc", *_both(f, lambda v: f"{v['bare_vs_afc']}x"), "")]
    if name == "step":
        m, ratios = f["medians"], f.get("ratios", {})

        def vs_dlt(load: str) -> Callable[[Any], str]:
            return lambda v: f"{v[load]:,.0f}" + (f" ({ratios[v['backend']][load]}x dlt)" if ratios else "")

        both = {b: m[b] | {"backend": b, "bare_x": f["bare_over_afc"][b]} for b in ("sqlite", "postgres")}
        rows = [("step", "full step, plain fixture items/s", *_both(both, vs_dlt("plain")), "≥ 5x dlt"),
                ("step", "full step, items/s with all details", *_both(both, vs_dlt("details")), "≥ 5x dlt"),
                ("step", "bare write ÷ full step, plain", *_both(both, lambda v: f"{v['bare_x']}x"), "≤ 8x")]
        if "dlt" in m:
            rows.append(("step", "dlt 1.31 merge (PostgreSQL), plain / details items/s", "",
                         f"{m['dlt']['plain']:,.0f} / {m['dlt']['details']:,.0f}", ""))
        return rows
    if name == "marts":
        return [("marts", f"20-fixture refresh, 10k vs {f['large']:,} fixtures",
                 *_both(f, lambda v: f"{v['small']['refresh_ms']} → {v['large']['refresh_ms']} ms "
                                     f"({v['refresh_ratio']}x)"), "ratio < 1.5")]
    if name == "live":
        day = f["sqlite"]["match_day"]
        return [("live", "calls for a match day vs polling all day", f"{day['total_calls']} vs {day['naive_calls']}",
                 "", "fewer"),
                ("live", "tick store p50, 10k fixtures", *_both(f, lambda v: f"{v['tick_small']['store_p50_ms']} ms"),
                 "≤ 20 ms"),
                ("live", "tick p50 ratio, big vs 10k", *_both(f, lambda v: f"{v['store_ratio_p50']}x"), "≤ 1.5"),
                ("live", "RSS start → end", *_both(f, lambda v: f"{v['memory']['rss_start_mb']} → "
                                                           f"{v['memory']['rss_end_mb']} MB"), "flat")]
    if name == "cli":
        return [("cli", "afc --help cold start", f"{f['afc_help_s']} s", "", "≤ 0.3 s"),
                ("cli", "… vs python -c pass", f"{f['help_over_bare']}x ({f['python_pass_s']} s)", "", "")]
    if name == "mcp":
        return [("mcp", "db_query over stdio, mart query p50", *_both(f, lambda v: f"{v['mart_day']['p50_ms']} ms"),
                 "")]
    if name == "sandbox":
        rps = ", ".join(f"{k} {v:,}" for k, v in f["rps"].items())
        return [("sandbox", "requests/s, small endpoints", rps, "", ""),
                ("sandbox", "full season /fixtures p50", f"{f['season_fixtures']['median_ms']} ms", "", ""),
                ("sandbox", "ids= batch of 20 p50 (warm)", f"{f['ids_batch_20']['warm']['median_ms']} ms", "", "")]
    if name == "rebuild":
        return [("rebuild", "rows/s, season with details", *_both(f, lambda v: v["from_scratch"]["rows_per_s"]), "")]
    if name == "coverage":
        n = f["seasons"]
        return [("coverage", f"per-response refresh, 2 vs {n} seasons held",
                 *_both(f, lambda v: f"{v['refresh_ms_2']} → {v[f'refresh_ms_{n}']} ms"), "flat")]
    if name == "notify":
        return [("notify", "live tick store p50, outbox off → on (the outbox's own p50)",
                 *_both(f, lambda v: f"{v['tick']['store_p50_ms_without']} → {v['tick']['store_p50_ms_with']} ms "
                                     f"({v['tick']['outbox_p50_ms']} ms)"), "no measurable change"),
                ("notify", "response → webhook arrival, p50 / p95",
                 *_both(f, lambda v: f"{v['latency']['latency_p50_ms']} / {v['latency']['latency_p95_ms']} ms"),
                 "p50 < 1 s")]
    if name == "ops":
        b = _by_backend(f["results"])
        return [("ops", "prune a year of raw", *_both(b, lambda v: f"{v['prune_s']} s"), ""),
                ("ops", "backup", *_both(b, lambda v: f"{v['backup_s']} s"), "")]
    if name == "export":
        return [("export", "season with details to Parquet (rows/s)",
                 *_both(f, lambda v: f"{v['parquet']['seconds']} s ({v['parquet']['rows_per_s']:,})"), "< 2 s"),
                ("export", "… to CSV / JSON Lines (rows/s)",
                 *_both(f, lambda v: f"{v['csv']['rows_per_s']:,} / {v['jsonl']['rows_per_s']:,}"), "")]
    if name == "history":
        return [("history", "/odds page (10 fixtures, every price moved): without → with history",
                 *_both(f, lambda v: f"{v['without']['odds_ms_p50']} → {v['with']['odds_ms_p50']} ms"), ""),
                ("history", "/odds page re-fetched unchanged, with history",
                 *_both(f, lambda v: f"{v['with']['odds_refetch_ms_p50']} ms"), ""),
                ("history", "/standings answer: without → with history",
                 *_both(f, lambda v: f"{v['without']['standings_ms_p50']} → {v['with']['standings_ms_p50']} ms"), ""),
                ("history", "a season of odds history (one league, every 3 h)",
                 *_both(f, lambda v: f"{v['season_odds_rows']:,} rows, {v['season_odds_mb']} MB"), ""),
                ("history", "a season of tables (one league, every evening)",
                 *_both(f, lambda v: f"{v['core.standings_history']['rows']:,} rows, {v['season_standings_kb']} kB"),
                 "")]
    return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a few minutes in all")
    parser.add_argument("--only", nargs="*", help="benchmark names (default: all)")
    parser.add_argument("--out", default=str(ROOT / "bench-results" / "latest.json"))
    args = parser.parse_args()
    runs = _runs(args.quick)
    chosen = args.only or list(runs)
    results: dict[str, Any] = {"started": datetime.now(UTC).isoformat(), "quick": args.quick,
                               "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                           "load_before": round(os.getloadavg()[0], 2)}, "benchmarks": {}}
    rows: list[Row] = []
    for name in chosen:
        started = time.perf_counter()
        sys.stderr.write(f"· {name} …\n")
        try:
            figures = runs[name]()
        except Exception as exc:  # a benchmark that breaks is reported, and the others still run
            figures = {"error": f"{type(exc).__name__}: {exc}"}
        figures["wall_seconds"] = round(time.perf_counter() - started, 1)
        results["benchmarks"][name] = figures
        rows += headline(name, figures) if "error" not in figures else [(name, "error", figures["error"], "", "")]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2, default=str))
    print(table(rows))
    print(f"\nraw figures: {args.out}")


def table(rows: list[Row]) -> str:
    """A Markdown table (pasteable into the README)."""
    lines = ["| benchmark | measure | SQLite | PostgreSQL | target |", "|---|---|---|---|---|"]
    lines += [f"| {' | '.join(str(c) for c in row)} |" for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
