"""What push notifications cost and how fast they arrive.

1. Tick cost: `pipeline.store` of a 20-fixture live answer (bench_live's Ticker, a new minute and new
   goals each tick) on a database of 10,000 fixtures, with the outbox off (before #19) and on, ticks
   alternating between the two so a noisy moment hits both alike. Target: the p50s within noise.
2. Latency: the live answers are stored once a second while `Courier.serve` (default policy: 0.5 s
   idle poll) delivers to a real HTTP receiver on localhost; from the moment the response is in hand
   (before `store`) to the webhook's arrival, one new goal per stored answer. Target: p50 < 1 s.

    python tests/bench/bench_notify.py [--json] [--backend sqlite|postgres] [--ticks N] [--events N]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from afc.clock import SystemClock  # noqa: E402
from afc.collect import step  # noqa: E402
from afc.config.notify import NotifyConfig, Target  # noqa: E402
from afc.db import connect  # noqa: E402
from afc.notify.service import Courier  # noqa: E402
from tests.bench.bench_live import Ticker, pct  # noqa: E402
from tests.notify_support import SECRET, Receiver  # noqa: E402


def playing_now(ticker: Ticker) -> Ticker:
    """The recorded live items kicked off half an hour before the ticker's clock (older is history)."""
    kickoff = int(ticker.clock.now().timestamp()) - 1800
    for item in ticker.items:
        item["fixture"]["timestamp"], item["fixture"]["date"] = kickoff, None
    return ticker


def score(ticker: Ticker, n: int) -> None:
    """A goal in one of the matches: a new event in its list (the next tick stores it)."""
    item = ticker.items[n % len(ticker.items)]
    team = item["teams"]["home"]
    item["events"] = [*(item.get("events") or []), {
        "time": {"elapsed": n % 90 + 1, "extra": None}, "team": {"id": team["id"], "name": team["name"]},
        "player": {"id": 700_000 + n, "name": f"Scorer {n}"}, "assist": {"id": None, "name": None},
        "type": "Goal", "detail": "Normal Goal", "comments": None}]


def tick_cost(backend: str, ticks: int) -> dict[str, Any]:
    """Store p50/p95 with the outbox off and on, and the outbox's own share (`outbox.record`) of the latter."""
    off, on = playing_now(Ticker(backend, 10_000)), playing_now(Ticker(backend, 10_000))
    off.ctx.notify = False
    spent: list[float] = []

    def timed(*args: Any) -> int:
        started = time.perf_counter()
        try:
            return record(*args)
        finally:
            spent.append(time.perf_counter() - started)

    record, step.outbox.record = step.outbox.record, timed  # type: ignore[assignment]
    try:
        for i in range(ticks + 5):
            off.tick(keep=i >= 5)
            on.tick(keep=i >= 5)
        events = on.db.fetchone("SELECT COUNT(*) FROM ops.events_outbox")
        return {"backend": backend, "ticks": ticks, "store_p50_ms_without": pct(off.stores, 0.5),
                "store_p50_ms_with": pct(on.stores, 0.5), "store_p95_ms_without": pct(off.stores, 0.95),
                "store_p95_ms_with": pct(on.stores, 0.95), "outbox_p50_ms": pct(spent[5:], 0.5),
                "outbox_p95_ms": pct(spent[5:], 0.95), "events_written": events[0] if events else 0}
    finally:
        step.outbox.record = record
        off.close()
        on.close()


def latency(backend: str, events: int) -> dict[str, Any]:
    """Seconds from a response in hand to its webhook's arrival, over at least `events` events."""
    ticker = playing_now(Ticker(backend, 1_000))
    stored_at: dict[str, float] = {}
    last = 0
    with Receiver().running() as receiver:
        conf = NotifyConfig(targets=[Target(name="bench", type="webhook", url=receiver.url, secret="s")],
                            start_window=90 * 86400)
        db = connect(ticker.url)
        courier, stop = Courier(db, conf, {"s": SECRET}, SystemClock()), threading.Event()
        thread = threading.Thread(target=courier.serve, args=(stop,), daemon=True)
        thread.start()
        try:
            ticker.tick(keep=False)  # the kickoffs of all 20 matches at once: not a typical tick
            last = int(ticker.db.fetchone("SELECT MAX(id) FROM ops.events_outbox")[0])  # type: ignore[index]
            time.sleep(2.0)
            while len(stored_at) < events:
                score(ticker, len(stored_at))
                started = time.time()
                ticker.tick(keep=True)
                for event_id, key in ticker.db.fetchall(
                        "SELECT id, event_key FROM ops.events_outbox WHERE id > %s ORDER BY id", (last,)):
                    stored_at[key], last = started, event_id
                time.sleep(1.0)
            deadline = time.time() + 30
            while len(receiver.keys) < len(stored_at) and time.time() < deadline:
                time.sleep(0.1)
        finally:
            stop.set()
            thread.join()
            courier.close()
            db.close()
            ticker.close()
        arrivals = {body["key"]: at for body, at in zip(receiver.bodies, receiver.arrived, strict=True)}
    waits = [arrivals[key] - at for key, at in stored_at.items() if key in arrivals]
    return {"backend": backend, "events": len(stored_at), "arrived": len(waits),
            "latency_p50_ms": pct(waits, 0.5), "latency_p95_ms": pct(waits, 0.95), "latency_max_ms": pct(waits, 1.0)}


def run(backend: str, ticks: int = 300, events: int = 200) -> dict[str, Any]:
    return {"tick": tick_cost(backend, ticks), "latency": latency(backend, events)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), action="append")
    parser.add_argument("--ticks", type=int, default=300)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = {b: run(b, args.ticks, args.events) for b in args.backend or ("sqlite", "postgres")}
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for backend, found in figures.items():
        tick, wait = found["tick"], found["latency"]
        print(f"{backend}: store p50 {tick['store_p50_ms_without']} ms without the outbox, "
              f"{tick['store_p50_ms_with']} ms with it, of which the outbox {tick['outbox_p50_ms']} ms "
              f"({tick['events_written']} events); "
              f"webhook latency p50 {wait['latency_p50_ms']} ms, p95 {wait['latency_p95_ms']} ms "
              f"over {wait['arrived']}/{wait['events']} events")


if __name__ == "__main__":
    main()
