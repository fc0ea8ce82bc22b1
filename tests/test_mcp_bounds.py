"""The MCP server stays bounded in memory, time and connections whatever one session sends, and
every argument out of range gets a one-line answer (issue #14 items 2, 3 and 14), on both backends."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from afc.clock import SimClock
from afc.config.settings import load_settings
from afc.mcp.readonly import MAX_CONCURRENT, Limits, QueryError, ReadOnlyDb, run_query
from afc.mcp.server import build_server
from tests.mcp_support import NOW, restricted_target, text_of

pytestmark = pytest.mark.anyio
MEMORY_BOUND_MB = 400
# Wide rows of large values: each would take the old server past 1 GB before "byte limit reached".
WIDE = {
    "sqlite": [
        "SELECT " + ", ".join(f"zeroblob(15000000) AS z{i}" for i in range(8)) + " FROM (VALUES (1), (2), (3), (4))",
        "SELECT " + ", ".join(f"printf('%.*c', 15000000, 'x') AS p{i}" for i in range(6))
        + " FROM (VALUES (1), (2), (3), (4), (5))",
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40) "
        "SELECT randomblob(15000000) AS r, i FROM n",
    ],
    "postgres": [  # constant values (folded once by the planner), so the cost is the transfer
        "SELECT repeat('x', 8000000) AS a, repeat('y', 8000000) AS b FROM generate_series(1, 60)",
        "SELECT jsonb_build_array(repeat('j', 8000000)) AS j, ARRAY[repeat('k', 8000000)] AS k, "
        "convert_to(repeat('b', 8000000), 'UTF8') AS b FROM generate_series(1, 30)",
        "SELECT g, repeat('é', 6000000) AS t FROM generate_series(1, 40) g",
    ],
}
PEAK_SCRIPT = """
import json, resource, sys, anyio
from mcp import Client
from afc.mcp.server import build_server
from afc.config.settings import load_settings

url, role, timeout, queries = sys.argv[1], sys.argv[2], float(sys.argv[3]), json.loads(sys.argv[4])

async def main():
    answers = []
    server = build_server(load_settings({}, database_url=url), role=role, timeout=timeout)
    async with Client(server) as client:
        for sql in queries:
            result = await client.call_tool("db_query", {"sql": sql, "limit": 5000})
            text = result.content[0].text if result.content else ""
            answers.append({"error": result.is_error, "text": text[:300], "lines": len(text.splitlines()),
                            "structured": result.structured_content and {
                                k: v for k, v in result.structured_content.items() if k != "rows"}})
    return answers

def peak_mb(pid="self"):
    # VmHWM starts afresh at exec; ru_maxrss would carry the forking pytest process's size over
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

answers = anyio.run(main)
from afc.mcp import readonly_sqlite
workers = [peak_mb(w.proc.pid) for w in readonly_sqlite._idle]
readonly_sqlite.stop_workers()  # reaped: RUSAGE_CHILDREN also holds the killed ones' peaks
print(json.dumps({"answers": answers, "self_mb": peak_mb(),
                  "children_mb": max(workers + [resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024])}))
"""


ROLE: dict[str, str] = {}


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, ai_role: str) -> str:  # noqa: F811
    """A migrated database per backend; on PostgreSQL the server runs as the restricted role."""
    if request.param == "sqlite":
        return request.getfixturevalue("module_sqlite_url")
    url = request.getfixturevalue("module_pg_url")
    if url not in ROLE:
        restricted_target(url, ai_role)
        ROLE[url] = ai_role
    return url


def _backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite:") else "postgres"


def server_for(url: str, timeout: float) -> Any:
    return build_server(load_settings({}, database_url=url), role=ROLE.get(url, "afc_ai"), timeout=timeout,
                        clock=SimClock(NOW, speed=0))


# --- memory ---------------------------------------------------------------------------------


def test_peak_memory_stays_bounded_after_wide_rows(url: str) -> None:
    """The server's peak RSS (and its SQLite worker's) stays under the bound; each answer is a clipped
    result or a one-line error."""
    queries = WIDE[_backend(url)]
    done = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, url, ROLE.get(url, "afc_ai"), "30", json.dumps(queries)],
                          capture_output=True, text=True, timeout=300, cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    for answer in report["answers"]:
        if answer["error"]:
            assert answer["lines"] == 1 and "time limit" not in answer["text"], answer  # a bound, not a slow death
        else:
            assert answer["structured"]["truncated"] is True, answer
    assert report["self_mb"] < MEMORY_BOUND_MB, report
    assert report["children_mb"] < MEMORY_BOUND_MB, report


def test_postgres_clips_inside_the_server_as_afc_rows_would(module_pg_url: str) -> None:  # noqa: F811
    """Clipping moved into PostgreSQL (the peak-memory test shows nothing large arrives) gives what
    afc.mcp.rows gave: the same marker and counts, short values of every kind with their type, duplicate
    column names, a trailing ';'."""
    target = ReadOnlyDb("postgres", module_pg_url, None, "test")
    result = run_query(target, "SELECT repeat('é', 20000) AS t, convert_to(repeat('a', 9000), 'UTF8') AS b, "
                               "jsonb_build_object('k', repeat('v', 20000)) AS j, 1 AS one, 1 AS one, "
                               "'\\x00ff'::bytea AS small, '{\"a\": [1]}'::jsonb AS doc, ARRAY[1, 2] AS arr, "
                               "repeat('é', 150) AS mid, repeat('é', 100) AS fits;",
                       None, Limits(value_chars=100))
    text, blob, doc, one, again, small, short_doc, arr, mid, fits = result.rows[0]
    assert text == "é" * 100 + "…[clipped: 20000 characters]"
    assert mid == "é" * 100 + "…[clipped: 150 characters]" and fits == "é" * 100
    assert blob == "\\x" + "61" * 49 + "…[clipped: 18002 characters]"
    assert doc.startswith('{"k": "vvv') and doc.endswith("…[clipped: 20009 characters]") and len(doc) < 140
    assert [one, again, small, short_doc, arr] == [1, 1, "\\x00ff", {"a": [1]}, [1, 2]]
    assert result.columns == ["t", "b", "j", "one", "one", "small", "doc", "arr", "mid", "fits"]
    assert result.truncated is True and result.note == "4 values clipped to 100 characters"


def test_numbers_past_a_floats_range_are_strict_json(module_pg_url: str) -> None:  # noqa: F811
    """numeric reaches 1e131071: past a float's range a value comes as its text, not JSON's invalid Infinity."""
    target = ReadOnlyDb("postgres", module_pg_url, None, "test")
    result = run_query(target, "SELECT 1e400::numeric AS big, -1e400::numeric AS small, 'NaN'::numeric AS nan, "
                               "'Infinity'::float8 AS inf, 1.5::numeric AS fine, 10::numeric AS whole")
    assert result.rows == [["1" + "0" * 400, "-1" + "0" * 400, "NaN", "inf", 1.5, 10]]  # exact, as text
    json.dumps(result.rows, allow_nan=False)  # raises on Infinity/NaN


def test_too_many_columns_is_one_line(url: str) -> None:
    target = _target(url)
    with pytest.raises(QueryError, match="at most 500") as caught:
        run_query(target, "SELECT " + ", ".join(f"{i} AS c{i}" for i in range(600)))
    assert "\n" not in str(caught.value)


def _target(url: str) -> ReadOnlyDb:
    if url.startswith("sqlite:"):
        path = url.split(":///", 1)[1]
        return ReadOnlyDb("sqlite", path, None, path)
    return ReadOnlyDb("postgres", url, None, "test")


# --- time -----------------------------------------------------------------------------------

# One built-in call that runs for tens of seconds with no VDBE step in between (quadratic instr on
# SQLite); on PostgreSQL a long scan that statement_timeout must cut.
SLOW = {
    "sqlite": "SELECT instr(a, b) FROM (SELECT replace(hex(zeroblob(1000000)), '0', 'a') AS a, "
              "replace(hex(zeroblob(100000)), '0', 'a') || 'b' AS b)",
    "postgres": "SELECT count(*) FROM generate_series(1, 10000000000)",
}


async def test_a_slow_builtin_stops_at_the_time_limit(url: str) -> None:
    started = time.monotonic()
    async with Client(server_for(url, 2.0)) as client:
        result = await client.call_tool("db_query", {"sql": SLOW[_backend(url)]})
        elapsed = time.monotonic() - started
        text = text_of(result)
        assert result.is_error is True and "time limit (2 s)" in text and "\n" not in text, text
        assert elapsed < 6, elapsed
        after = await client.call_tool("db_query", {"sql": "SELECT 41 + 1"})
        assert after.structured_content["rows"] == [[42]]  # a killed worker is replaced


def test_the_watchdog_cuts_a_postgres_call_statement_timeout_misses(module_pg_url: str) -> None:  # noqa: F811
    """statement_timeout acts only where the backend checks for interrupts; past the budget plus
    grace the client's socket is cut, so the caller returns whatever the backend is doing."""
    import psycopg

    from afc.mcp.readonly_pg import Watchdog

    with psycopg.connect(module_pg_url, autocommit=True) as conn:
        watchdog = Watchdog(conn, 0.5)
        started = time.monotonic()
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT pg_sleep(20)")  # stands in for an uninterruptible call
        watchdog.stop()
        assert watchdog.fired is True and time.monotonic() - started < 3


async def test_parallel_queries_from_one_session_are_capped(url: str) -> None:
    """Six slow queries at once: at most MAX_CONCURRENT run (SQLite workers / PostgreSQL backends), the
    others are answered busy, and everything is answered within the limit plus the busy wait."""
    backend = _backend(url)
    running = _Peak(lambda: _sqlite_workers() if backend == "sqlite" else _pg_backends(url))
    answers: list[str] = []
    started = time.monotonic()
    async with Client(server_for(url, 2.0)) as client:

        async def one() -> None:
            result = await client.call_tool("db_query", {"sql": SLOW[backend]})
            answers.append(text_of(result))

        with running:
            async with anyio.create_task_group() as group:
                for _ in range(6):
                    group.start_soon(one)
    elapsed = time.monotonic() - started
    assert len(answers) == 6 and all("\n" not in a for a in answers), answers
    assert all("time limit (2 s)" in a or "busy: 2 queries are already running" in a for a in answers), answers
    assert any("busy" in a for a in answers), answers
    assert 1 <= running.peak <= MAX_CONCURRENT, running.peak
    assert elapsed < 9, elapsed


class _Peak:
    """Polls a count in a thread while the block runs and keeps its maximum."""

    def __init__(self, count: Any):
        self.count, self.peak, self._stop = count, 0, threading.Event()

    def __enter__(self) -> _Peak:
        def poll() -> None:
            while not self._stop.wait(0.05):
                self.peak = max(self.peak, self.count())

        self._thread = threading.Thread(target=poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join()


def _sqlite_workers() -> int:
    """Live (not yet reaped) read-only workers that are this process's children and busy or idle."""
    busy = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        parent = next((line.split()[1] for line in status.splitlines() if line.startswith("PPid:")), "")
        state = next((line.split()[1] for line in status.splitlines() if line.startswith("State:")), "")
        if parent == str(__import__("os").getpid()) and b"afc.mcp.readonly_sqlite" in cmdline and state == "R":
            busy += 1
    return busy


def _pg_backends(url: str) -> int:
    """afc-mcp sessions connected to this test's own database (never server-wide)."""
    import psycopg

    from tests.conftest import PG_ADMIN, pg_scalar

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        return pg_scalar(conn, "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                         "AND application_name = 'afc-mcp'", (url.rsplit("/", 1)[1],))


# --- arguments ------------------------------------------------------------------------------

OUT_OF_RANGE = [
    ("run_template", {"name": "recent_failures", "params": {"hours": 10**12}}, "'hours' must be between 1 and"),
    ("run_template", {"name": "recent_failures", "params": {"hours": -5}}, "'hours' must be between 1 and"),
    ("run_template", {"name": "live_fixtures_status", "params": {"stale_minutes": 10**40}},
     "'stale_minutes' must be between 1 and"),
    ("run_template", {"name": "live_fixtures_status", "params": {"stale_minutes": "9" * 5000}},
     "'stale_minutes' must be an integer"),
    ("run_template", {"name": "todays_fixtures", "params": {"day": "9999-12-31"}}, "'day' must be between"),
    ("run_template", {"name": "todays_fixtures", "params": {"day": "0001-01-01"}}, "'day' must be between"),
    ("run_template", {"name": "team_form", "params": {"team_id": 33, "last": 10**9}}, "'last' must be between"),
    ("run_template", {"name": "team_form", "params": {"team_id": 2**63}}, "'team_id' must be between"),
    ("run_template", {"name": "league_table", "params": {"league_id": 39, "season": 10**20}},
     "'season' must be between"),
    ("run_template", {"name": "head_to_head", "params": {"team_a": 1, "team_b": -(2**70)}},
     "'team_b' must be between"),
    ("run_template", {"name": "raw_vs_core_fixtures", "params": {"league_id": 1e300}}, "'league_id' must be"),
    ("coverage_status", {"league_id": 10**30, "season": 2024}, "argument league_id"),
    ("coverage_status", {"league_id": 39, "season": -1}, "argument season"),
    ("recent_runs", {"limit": 10**20}, "argument limit"),
    ("db_query", {"sql": "SELECT 1", "limit": 0}, "argument limit"),
    ("describe_table", {"table": "x" * 100_000}, "argument table"),
]


@pytest.mark.parametrize(("tool", "args", "message"), OUT_OF_RANGE,
                         ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(OUT_OF_RANGE)])
async def test_arguments_out_of_range_get_one_line(url: str, tool: str, args: dict[str, Any], message: str) -> None:
    async with Client(server_for(url, 5.0)) as client:
        result = await client.call_tool(tool, args)
    text = text_of(result)
    assert result.is_error is True and message in text, text
    assert "\n" not in text and len(text) < 300 and "Traceback" not in text, text


def test_a_relative_sqlite_path_reaches_the_worker(module_sqlite_url: str,  # noqa: F811
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker runs in /, so the server hands it the absolute path of a relative `sqlite:///afc.db`."""
    path = Path(module_sqlite_url.split(":///", 1)[1])
    monkeypatch.chdir(path.parent)
    result = run_query(ReadOnlyDb("sqlite", path.name, None, path.name), "SELECT count(*) FROM ops_schema_migrations")
    assert result.rows[0][0] > 0


def test_dates_python_cannot_hold_come_as_postgresqls_text(module_pg_url: str) -> None:  # noqa: F811
    """`infinity` and years past 9999 are valid PostgreSQL values; one of them failed the whole answer."""
    target = ReadOnlyDb("postgres", module_pg_url, None, "test")
    result = run_query(target, "SELECT 'infinity'::timestamptz AS a, '-infinity'::date AS b, '10000-01-01'::date AS c, "
                               "'infinity'::timestamp AS d, '2026-11-28 12:00+00'::timestamptz AS e, "
                               "'2026-11-28'::date AS f")
    assert result.rows == [["infinity", "-infinity", "10000-01-01", "infinity", "2026-11-28T12:00:00+00:00",
                            "2026-11-28"]]
