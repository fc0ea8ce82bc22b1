"""End to end ingest: afc's full per-response step side by side with dlt and a bare COPY, same items.

"afc" is exactly what follows the HTTP call: `pipeline.store` — raw archive, drift observer, transform,
core upserts, marts, run log, quota settled — one transaction per response. "dlt" is dlt 1.31
(`pip install 'afc[bench]'`) loading the same items into PostgreSQL with `write_disposition="merge"`
on the fixture id, nested lists normalised into child tables, all items in one `pipeline.run` (its
best case: one load job, not one per response). "bare" is a COPY (SQLite: executemany) of the
core.fixtures rows alone. Two loads: plain `/fixtures` items (380 per response, a real EPL season
replicated with fresh ids) and items with events, lineups, statistics and players (20 per `ids=`
response). Rounds alternate afc on SQLite, afc on PostgreSQL and dlt, each in a fresh database;
figures are medians. dlt's PostgreSQL destination needs a password login: the bench creates a
throwaway role with a random password and drops it at the end.

    python tests/bench/bench_step.py [--json] [--plain N] [--details N] [--rounds N] [--no-dlt]
    python tests/bench/bench_step.py --profile sqlite|postgres [--details N]   # cProfile of the step
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from afc.api.body import has_nul  # noqa: E402
from afc.api.client import Request, Response  # noqa: E402
from afc.clock import SimClock  # noqa: E402
from afc.collect import runs  # noqa: E402
from afc.collect.ledger import Ledger, Reservation  # noqa: E402
from afc.collect.step import Context, store  # noqa: E402
from afc.config.settings import Floors  # noqa: E402
from afc.db import Database, connect  # noqa: E402
from tests.bench.bench_ingest import DETAILED, PLAIN, bare, fixture_rows, replicate  # noqa: E402
from tests.bench.common import fresh_database  # noqa: E402
from tests.conftest import PG_ADMIN, sample  # noqa: E402

START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HEADERS = {"x-ratelimit-requests-limit": "75000", "x-ratelimit-requests-remaining": "70000",
           "x-ratelimit-limit": "450", "x-ratelimit-remaining": "440"}
Load = tuple[str, list[dict[str, Any]], int]  # (name, items, items per response)


def loads(plain: int, detailed: int, offset: int) -> list[Load]:
    """The two loads, with fixture ids from `offset` (each round writes new fixtures)."""
    both = [("plain", replicate(sample(PLAIN)["response"], plain, offset), 380),
            ("details", replicate(sample(DETAILED)["response"], detailed, offset + 5_000_000), 20)]
    return [load for load in both if load[1]]  # --details 0: the plain load alone


def wire(name: str, items: list[dict[str, Any]], per: int) -> Iterator[tuple[Request, str]]:
    """Each response as its request and the JSON text that came over the wire."""
    for first in range(0, len(items), per):
        part = items[first : first + per]
        query = {"league": "39", "season": "2023"} if name == "plain" else {
            "ids": "-".join(str(i["fixture"]["id"]) for i in part)}
        body = {"get": "fixtures", "parameters": query, "errors": [], "results": len(part),
                "paging": {"current": 1, "total": 1}, "response": part}
        yield Request.of("fixtures", query), json.dumps(body)


class Step:
    """afc's pipeline.store on one database, as the collector calls it after each HTTP answer."""

    def __init__(self, db: Database):
        self.db = db
        self.clock = SimClock(START, speed=0)
        ledger = Ledger(db, self.clock, account="bench", daily_limit=10**9, minute_limit=10**9, floors=Floors())
        self.ctx = Context(db, None, ledger, self.clock, runs.start(db, "bench", "bench", START))  # type: ignore[arg-type]

    def load(self, name: str, items: list[dict[str, Any]], per: int) -> tuple[float, float, float]:
        """Seconds, wall, this process's CPU and the PostgreSQL server's (its backend's, when it runs on this
        host; 0 for SQLite), to store every response of `items` (parsed beforehand, a \\u0000 looked for too: the client
        parses, not the step). CPU time is the steadier figure on a busy machine."""
        answers = [(request, text, json.loads(text), has_nul(text)) for request, text in wire(name, items, per)]
        started, cpu, server = time.perf_counter(), time.process_time(), server_cpu(self.db)
        for request, text, body, nul in answers:
            self.store(request, text, body, nul)
        return time.perf_counter() - started, time.process_time() - cpu, server_cpu(self.db) - server

    def store(self, request: Request, text: str, body: dict[str, Any], nul: bool | None = None) -> None:
        """Store one answer as the collector does; `nul`: whether its text holds a \\u0000 escape, as the client's
        parse finds (None: the step looks)."""
        now = self.clock.now()
        response = Response(request, 200, HEADERS, body, None, now, 40, raw_text=text, nul=nul)
        store(self.ctx, response, Reservation(now.date(), now.replace(second=0, microsecond=0), "MEDIUM", now))
        self.clock.advance(1)


def server_cpu(db: Database) -> float:
    """Seconds of CPU the connection's PostgreSQL backend has used (Linux, server on this host), else 0."""
    pid = getattr(getattr(db, "conn", None), "info", None)
    try:
        return int(Path(f"/proc/{pid.backend_pid}/schedstat").read_text().split()[0]) / 1e9 if pid else 0.0
    except OSError:
        return 0.0


def afc_round(backend: str, batches: list[Load]) -> dict[str, float]:
    """Items/s of the full step for each load (and CPU µs per item), and of the bare write of the plain load's
    fixture rows."""
    url, drop = fresh_database(backend)
    try:
        db = connect(url)
        step = Step(db)
        step.load("plain", replicate(sample(PLAIN)["response"], 380, 1), 380)  # warm-up: stubs, caches, partition
        out: dict[str, float] = {}
        for name, items, per in batches:
            wall, cpu, server = step.load(name, items, per)
            out[name], out[f"{name}_cpu_us"] = round(len(items) / wall), round(cpu / len(items) * 1e6)
            out[f"{name}_server_us"] = round(server / len(items) * 1e6)
        if batches[0][0] == "plain":  # the bare write is of the plain load's rows
            columns, rows = fixture_rows(batches[0][1])
            out["bare"] = round(len(rows) / bare(db, columns, rows))
        db.close()
        return out
    finally:
        drop()


@contextmanager
def password_login() -> Iterator[str]:
    """A throwaway PostgreSQL role with a password and its own database (dlt logs in with a password)."""
    import psycopg

    role, password = f"afc_dlt_{secrets.token_hex(4)}", secrets.token_hex(16)
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        conn.execute(f"CREATE DATABASE {role} OWNER {role}")
    host = PG_ADMIN.split("@", 1)[1].rsplit("/", 1)[0]
    try:
        yield f"postgresql://{role}:{password}@{host}/{role}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {role} WITH (FORCE)")
            conn.execute(f"DROP ROLE IF EXISTS {role}")


def dlt_round(batches: list[Load]) -> dict[str, float]:
    """Items/s of dlt merging each load into PostgreSQL (one pipeline.run per load)."""
    import dlt

    out: dict[str, float] = {}
    with password_login() as url, tempfile.TemporaryDirectory() as tmp:
        for name, items, _ in batches:
            pipeline = dlt.pipeline(pipeline_name=f"bench_{name}", pipelines_dir=tmp, dataset_name=name,
                                    destination=dlt.destinations.postgres(credentials=url))
            resource = dlt.resource(items, name="fixtures", write_disposition="merge", primary_key="fixture__id")
            started = time.perf_counter()
            pipeline.run(resource)
            out[name] = round(len(items) / (time.perf_counter() - started))
    return out


def run(plain: int = 10_000, detailed: int = 2_000, rounds: int = 3, with_dlt: bool = True) -> dict[str, Any]:
    """Medians of `rounds` alternating rounds: afc on SQLite, afc on PostgreSQL, dlt on PostgreSQL."""
    contenders: dict[str, Callable[[list[Load]], dict[str, float]]] = {
        "sqlite": lambda b: afc_round("sqlite", b), "postgres": lambda b: afc_round("postgres", b)}
    if with_dlt:
        contenders["dlt"] = dlt_round
    figures: dict[str, list[dict[str, float]]] = {name: [] for name in contenders}
    load_before = round(os.getloadavg()[0], 2)
    for n in range(rounds):
        batches = loads(plain, detailed, 10_000_000 * (n + 1))
        for name, contender in contenders.items():
            figures[name].append(contender(batches))
    medians = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in figures.items()}
    results: dict[str, Any] = {"plain_items": plain, "detail_items": detailed, "rounds": rounds,
                               "load_before": load_before, "load_after": round(os.getloadavg()[0], 2),
                               "medians": medians, "runs": figures}
    if with_dlt:
        results["ratios"] = {backend: {load: round(medians[backend][load] / medians["dlt"][load], 1)
                                       for load in ("plain", "details") if load in medians["dlt"]}
                             for backend in ("sqlite", "postgres")}
    results["bare_over_afc"] = {b: round(medians[b]["bare"] / medians[b]["plain"], 1) for b in ("sqlite", "postgres")
                                if "plain" in medians[b]}  # --plain 0: no plain load, no bare write
    return results


def peak_rss(backend: str, items: int = 1_300) -> dict[str, Any]:
    """Peak RSS growth of storing one worldwide `/fixtures?date=` answer of `items` items, in a fresh process."""
    url, drop = fresh_database(backend)
    try:
        db = connect(url)
        step = Step(db)
        step.load("plain", replicate(sample(PLAIN)["response"], 380, 1), 380)
        request, text = next(wire("plain", replicate(sample(PLAIN)["response"], items, 40_000_000), items))
        body = json.loads(text)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        step.store(request, text, body)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        db.close()
        return {"backend": backend, "items": items, "body_kb": len(text) // 1024,
                "peak_rss_mb": round(after / 1024, 1), "growth_mb": round((after - before) / 1024, 1)}
    finally:
        drop()


def profile(backend: str, plain: int, detailed: int, top: int = 25) -> None:
    """cProfile of the full step for both loads (after a warm-up), top entries by own time."""
    url, drop = fresh_database(backend)
    try:
        db = connect(url)
        step = Step(db)
        step.load("plain", replicate(sample(PLAIN)["response"], 380, 1), 380)
        for name, items, per in loads(plain, detailed, 10_000_000):
            answers = [(request, text, json.loads(text), has_nul(text)) for request, text in wire(name, items, per)]
            profiler = cProfile.Profile()
            profiler.enable()
            for request, text, body, nul in answers:
                step.store(request, text, body, nul)
            profiler.disable()
            print(f"== {backend} {name}: {len(items)} items")
            pstats.Stats(profiler).sort_stats("tottime").print_stats(top)
        db.close()
    finally:
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--plain", type=int, default=10_000)
    parser.add_argument("--details", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-dlt", action="store_true", help="afc and the bare write only")
    parser.add_argument("--profile", choices=("sqlite", "postgres"))
    parser.add_argument("--memory", choices=("sqlite", "postgres"), help="peak RSS of one 1,300-item response")
    args = parser.parse_args()
    if args.profile:
        profile(args.profile, args.plain, args.details)
        return
    if args.memory:
        print(json.dumps(peak_rss(args.memory)))
        return
    results = run(args.plain, args.details, args.rounds, with_dlt=not args.no_dlt)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(table(results))


def table(results: dict[str, Any]) -> str:
    """The side-by-side figures as a Markdown table (the README's performance table)."""
    m, ratios = results["medians"], results.get("ratios", {})
    lines = [f"load average {results['load_before']} before, {results['load_after']} after; "
             f"medians of {results['rounds']} alternating rounds",
             "| load | dlt (PostgreSQL) | afc full step, SQLite | afc full step, PostgreSQL | bare write (PG) |",
             "|---|---|---|---|---|"]
    measured = [(load, label) for load, label in (("plain", f"plain /fixtures, {results['plain_items']:,} items"),
                                                  ("details", f"with details, {results['detail_items']:,} items"))
                if load in m["postgres"]]
    for load, label in measured:
        dlt = f"{m['dlt'][load]:,.0f}/s" if "dlt" in m else "—"
        cells = [f"{m[b][load]:,.0f}/s" + (f" ({ratios[b][load]}× dlt)" if ratios else "")
                 for b in ("sqlite", "postgres")]
        barecell = (f"{m['postgres']['bare']:,.0f}/s ({results['bare_over_afc']['postgres']}× afc)"
                    if load == "plain" else "—")
        lines.append(f"| {label} | {dlt} | {cells[0]} | {cells[1]} | {barecell} |")
    lines += [f"afc's own CPU per item, {load}: SQLite {m['sqlite'][load + '_cpu_us']:,.0f} µs, "
              f"PostgreSQL {m['postgres'][load + '_cpu_us']:,.0f} µs + the server's "
              f"{m['postgres'][load + '_server_us']:,.0f} µs" for load, _ in measured]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
