"""Benchmark of the sandbox: requests per second for small endpoints over one keep-alive client,
and the latency of a full-season fixture list and of an `ids=` batch of 20 finished fixtures.

    python tests/bench/bench_sandbox.py              # a small table
    python tests/bench/bench_sandbox.py --json       # one JSON object (also: `run()` returns the dict)
    python tests/bench/bench_sandbox.py --in-process # server thread in this process (shares the GIL)

By default the sandbox runs as `afc sandbox` in a child process, as users run it, so the client
and the server do not compete for one interpreter lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx  # noqa: E402

from afc.sandbox import SandboxConfig, World, start_sandbox  # noqa: E402
from afc.sandbox.testing import frozen_clock  # noqa: E402

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
SMALL = ("/timezone", "/countries", "/status")
UNLIMITED = 10**9  # the benchmark makes more calls than any plan allows in a day


def _throughput(client: httpx.Client, path: str, seconds: float) -> float:
    for _ in range(20):
        client.get(path)
    if client.get(path).json()["errors"]:
        raise RuntimeError(f"{path} answers with errors")
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        client.get(path).raise_for_status()
        count += 1
    return count / (time.perf_counter() - started)


def _raw_throughput(url: str, path: str, seconds: float) -> float:
    """Requests per second from a minimal keep-alive socket client: what the server can do alone."""
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(url)
    request = f"GET {path} HTTP/1.1\r\nHost: sandbox\r\nx-apisports-key: sandbox\r\n\r\n".encode()
    with socket.create_connection((where.hostname, where.port)) as conn, conn.makefile("rb") as reader:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            conn.sendall(request)
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            reader.read(length)
            count += 1
    return count / (time.perf_counter() - started)


def _latencies(client: httpx.Client, path: str, params_list: list[dict]) -> list[float]:
    """Milliseconds from sending to the last byte received (bodies are checked after, not timed)."""
    timings, last = [], None
    for params in params_list:
        started = time.perf_counter()
        last = client.get(path, params=params)
        timings.append((time.perf_counter() - started) * 1000)
        last.raise_for_status()
    if last is not None and last.json()["errors"]:
        raise RuntimeError(f"{path}: {last.json()['errors']}")
    return timings


def _summary(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {"median_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
            "first_ms": round(timings[0], 2), "n": len(timings)}


@contextlib.contextmanager
def _child() -> Iterator[str]:
    """`afc sandbox` in a child process, frozen at NOW, minute limit off; yields its URL."""
    command = [sys.executable, "-m", "afc", "sandbox", "--port", "0", "--now", NOW.isoformat(), "--clock-speed", "0",
               "--no-rate-limit", "--daily-limit", str(UNLIMITED)]
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        url = re.search(r"AFC_API_BASE_URL=(\S+)", line)
        if url is None:
            raise RuntimeError(f"afc sandbox did not announce its URL: {line!r}")
        yield url[1]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


@contextlib.contextmanager
def _in_process() -> Iterator[str]:
    with start_sandbox(SandboxConfig(rate_limit=False, daily_limit=UNLIMITED), clock=frozen_clock(NOW)) as sb:
        yield sb.url


def _cpu_ms(repeats: int = 200) -> dict[str, float]:
    """Server CPU per request without HTTP (`Api.handle` in this process): steady under machine load."""
    from afc.sandbox.service import Api

    api = Api(SandboxConfig(rate_limit=False, daily_limit=UNLIMITED), frozen_clock(NOW), world=World.at(42, NOW))
    year = api.world.year
    ids = "-".join(str(f.id) for f in api.world.fixtures(39, year - 1)[:20])
    targets = {**{path: path for path in SMALL}, "season_fixtures": f"/fixtures?league=39&season={year}",
               "ids_batch_20_warm": f"/fixtures?ids={ids}"}
    headers = {"x-apisports-key": "sandbox"}
    result = {}
    for name, target in targets.items():
        api.handle("GET", target, headers)
        started = time.process_time()
        for _ in range(repeats):
            api.handle("GET", target, headers)
        result[name] = round((time.process_time() - started) * 1000 / repeats, 3)
    return result


def run(seconds: float = 2.0, repeats: int = 30, in_process: bool = False) -> dict:
    """Measure and return {"rps": {path: n}, "season_fixtures": {...}, "ids_batch_20": {...}}."""
    world = World.at(42, NOW)
    finished = [f.id for f in world.fixtures(39, world.year - 1)]
    batches = [{"ids": "-".join(map(str, finished[i:i + 20]))} for i in range(0, 20 * repeats, 20)]
    server = _in_process() if in_process else _child()
    with server as url, httpx.Client(base_url=url, headers={"x-apisports-key": "sandbox"}, timeout=30) as client:
        rps = {path: round(_throughput(client, path, seconds)) for path in SMALL}
        raw = {path: round(_raw_throughput(url, path, seconds)) for path in SMALL}
        season = _latencies(client, "/fixtures", [{"league": "39", "season": str(world.year)}] * repeats)
        cold = _latencies(client, "/fixtures", batches)
        warm = _latencies(client, "/fixtures", batches[:1] * repeats)
    return {"server": "thread" if in_process else "process", "rps": rps, "rps_raw_client": raw,
            "season_fixtures": _summary(season),
            "ids_batch_20": {"cold": _summary(cold), "warm": _summary(warm)}, "server_cpu_ms": _cpu_ms(),
            "load_average": round(os.getloadavg()[0], 2)}


def _table(result: dict) -> str:
    lines = [f"sandbox benchmark (one keep-alive httpx client, rate limit off, server in a {result['server']})", ""]
    lines += [f"  {path:<32} {n:>8} req/s  ({result['rps_raw_client'][path]} req/s from a bare socket client)"
              for path, n in result["rps"].items()]
    season = result["season_fixtures"]
    lines.append(f"  {'/fixtures league+season (380)':<32} median {season['median_ms']} ms, p95 {season['p95_ms']} ms, "
                 f"first {season['first_ms']} ms")
    for kind in ("cold", "warm"):
        batch = result["ids_batch_20"][kind]
        lines.append(f"  {'/fixtures ids= (20) ' + kind:<32} median {batch['median_ms']} ms, p95 {batch['p95_ms']} ms")
    lines += ["", "server CPU per request, without HTTP:"]
    lines += [f"  {name:<32} {ms} ms" for name, ms in result["server_cpu_ms"].items()]
    lines.append(f"(load average {result['load_average']})")
    return "\n".join(lines)


if __name__ == "__main__":
    outcome = run(in_process="--in-process" in sys.argv[1:])
    print(json.dumps(outcome) if "--json" in sys.argv[1:] else _table(outcome))
