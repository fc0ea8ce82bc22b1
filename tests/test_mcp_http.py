"""`afc mcp http`: a real server subprocess reached with the SDK's streamable HTTP client. Tools are
listed and answered, requests without the right bearer token are refused, the hostile SQL battery
changes nothing over HTTP either, and bad tokens, binds and ports are one line each."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from typer.testing import CliRunner

from afc.cli import app
from afc.config.settings import load_settings
from afc.mcp.http import MAX_SESSIONS, BearerGuard, Listen, app_for, is_loopback
from afc.mcp.server import build_server
from tests.mcp_support import restricted_target, seeded, snapshot
from tests.test_mcp_hostile import CASES, TIMEOUT, Case, Env, assert_nothing_changed, assert_refused_or_harmless

pytestmark = pytest.mark.anyio
TOKEN = "t0ken-for-the-http-tests-0123456789"
READY = re.compile(r"MCP over HTTP on (http://\S+/mcp)")


@contextmanager
def http_server(url: str, tmp: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`afc mcp http --port 0` in a subprocess; yields its endpoint once it listens."""
    log = tmp / f"mcp-http-{time.monotonic_ns()}.log"
    child_env = {"PATH": os.environ["PATH"], "AFC_MCP_TOKEN": TOKEN, **(env or {})}
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "afc", "mcp", "http", "--db", url, "--port", "0", *args],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=child_env)
    try:
        deadline = time.monotonic() + 30
        while not (found := READY.search(log.read_text())):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield found.group(1)
    finally:
        proc.terminate()
        # uvicorn shuts down cleanly, then re-raises SIGTERM so a supervisor sees it (systemd: a clean stop)
        assert proc.wait(10) in (0, -signal.SIGTERM), log.read_text()
    assert TOKEN not in log.read_text()


@asynccontextmanager
async def connected(endpoint: str, token: str | None = TOKEN) -> AsyncIterator[Client]:
    """The SDK's client over streamable HTTP, sending `token` as the bearer token."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with create_mcp_http_client(headers=headers) as http, \
            Client(streamable_http_client(endpoint, http_client=http), raise_exceptions=True) as client:
        yield client


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(request: pytest.FixtureRequest, ai_role: str, tmp_path_factory: pytest.TempPathFactory,
           ) -> Iterator[tuple[str, str, str | None]]:
    """(database URL, endpoint, role) of one seeded database served over HTTP for the module."""
    sqlite = request.param == "sqlite"
    url = request.getfixturevalue("module_sqlite_url" if sqlite else "module_pg_url")
    seeded(url)
    if not sqlite:
        restricted_target(url, ai_role)
    with http_server(url, tmp_path_factory.mktemp("http"), "--role", ai_role, "--timeout", str(TIMEOUT)) as endpoint:
        yield url, endpoint, None if sqlite else ai_role


async def test_tools_are_listed_and_answered(served: tuple[str, str, str | None]) -> None:
    url, endpoint, _ = served
    async with connected(endpoint) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        assert {"db_query", "run_template", "rate_limit_status", "list_tables"} <= tools
        table = "core_teams" if url.startswith("sqlite:") else "core.teams"
        result = await client.call_tool("db_query", {"sql": f"SELECT id, name FROM {table} ORDER BY id"})
        assert result.is_error is False
        assert result.structured_content["rows"] == [[33, "Manchester United"], [34, "Newcastle"], [40, "Liverpool"]]
        standings = await client.call_tool("run_template", {"name": "league_table",
                                                            "params": {"league_id": 39, "season": 2024}})
        assert [row[standings.structured_content["columns"].index("team")]
                for row in standings.structured_content["rows"]] == ["Manchester United", "Liverpool", "Newcastle"]


@pytest.mark.parametrize("token", [None, "wrong-token-of-the-right-length-0123"], ids=["no_token", "wrong_token"])
async def test_a_request_without_the_token_is_refused(served: tuple[str, str, str | None], token: str | None) -> None:
    _, endpoint, _ = served
    with pytest.raises(ExceptionGroup) as refused:  # the SDK's task group carries the transport's error
        async with connected(endpoint, token) as client:
            await client.list_tools()
    assert refused.group_contains(MCPError, match="Server returned an error response")
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
               **({"Authorization": f"Bearer {token}"} if token else {})}
    answer = httpx.post(endpoint, headers=headers, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == 'Bearer realm="afc"'
    assert answer.json()["error"] == "invalid_token"


@pytest.fixture(scope="module")
def hostile_env(served: tuple[str, str, str | None], tmp_path_factory: pytest.TempPathFactory) -> Env:
    url, endpoint, role = served
    sqlite = url.startswith("sqlite:")
    directory = Path(url.split(":///", 1)[1]).parent if sqlite else tmp_path_factory.mktemp("pg_files")
    names = {"t": "core_countries" if sqlite else "core.countries", "evil": "core_evil" if sqlite else "core.evil",
             "dir": str(directory)}
    return Env("sqlite" if sqlite else "postgres", url, role, endpoint, names, directory, snapshot(url, role))


# The SDK's client cannot encode a lone surrogate (it writes UTF-8); it is sent as a JSON escape below.
ENCODABLE = [c for c in CASES if c.id != "not_utf8"]


@pytest.mark.parametrize("case", ENCODABLE, ids=[c.id for c in ENCODABLE])
async def test_hostile_sql_over_http_changes_nothing(hostile_env: Env, case: Case) -> None:
    started = time.monotonic()
    async with connected(hostile_env.server) as client:
        await assert_refused_or_harmless(client, hostile_env, case)
    assert_nothing_changed(hostile_env, started)


def test_sql_that_is_not_unicode_is_refused_over_the_wire(hostile_env: Env) -> None:
    """A lone surrogate as a JSON escape (valid JSON, not valid Unicode): the SDK's transport refuses the
    request as a parse error before any tool sees it."""
    accept = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {TOKEN}"}
    hello = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}
    with httpx.Client(headers=accept, timeout=10) as http:
        opened = http.post(hostile_env.server,
                           json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": hello})
        session = {"mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": "2025-06-18"}
        http.post(hostile_env.server, headers=session, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
        body = '{"jsonrpc": "2.0", "id": 2, "method": "tools/call", ' \
               '"params": {"name": "db_query", "arguments": {"sql": "SELECT \'\\udcff\'"}}}'
        answer = http.post(hostile_env.server, headers={**session, "Content-Type": "application/json"}, content=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == -32700 and "lone leading surrogate" in answer.json()["error"]["message"]
    assert_nothing_changed(hostile_env, time.monotonic())


async def test_no_auth_serves_loopback_without_a_token(module_sqlite_url: str, tmp_path: Path) -> None:
    with http_server(module_sqlite_url, tmp_path, "--no-auth", env={"AFC_MCP_TOKEN": ""}) as endpoint:
        async with connected(endpoint, token=None) as client:
            answer = await client.call_tool("db_query", {"sql": "SELECT 41 + 1 AS n"})
    assert answer.structured_content["rows"] == [[42]]


INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "probe", "version": "1"}}}


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "0:0:0:0:0:0:0:1"])
def test_every_loopback_bind_refuses_a_rebound_host_or_origin(module_sqlite_url: str, tmp_path: Path,
                                                               host: str) -> None:
    """A web page whose name was rebound to the loopback address must not reach a --no-auth server."""
    with http_server(module_sqlite_url, tmp_path, "--no-auth", "--host", host, env={"AFC_MCP_TOKEN": ""}) as endpoint:
        base = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        own_host = httpx.URL(endpoint).netloc.decode()
        answers = [httpx.post(endpoint, json=INITIALIZE, headers={**base, **extra}).status_code for extra in (
            {}, {"Host": "evil.example"}, {"Host": "evil.example:80", "Origin": "http://evil.example"},
            {"Host": own_host, "Origin": "http://evil.example"})]
    assert answers == [200, 421, 421, 403]


def run_cli(*args: str, env: dict[str, str] | None = None) -> Any:
    base = {"AFC_MCP_TOKEN": "", "CREDENTIALS_DIRECTORY": ""}
    return CliRunner().invoke(app, ["mcp", "http", *args], env={**base, **(env or {})})


def test_bad_tokens_and_binds_are_one_line(module_sqlite_url: str, tmp_path: Path) -> None:
    db = ["--db", module_sqlite_url]
    missing, empty, short = tmp_path / "absent", tmp_path / "empty", tmp_path / "short"
    empty.write_text("\n")
    short.write_text("abc\n")
    cases = [
        (["--no-auth", "--host", "0.0.0.0"], {}, "afc: --no-auth with --host 0.0.0.0: anyone who reaches "
         "0.0.0.0:8765 could query the database; bind 127.0.0.1 or use a token (AFC_MCP_TOKEN or --token-file)\n"),
        (["--token-file", str(missing)], {}, f"afc: {missing}: token file not found; create it readable by its "
         f"owner only with `openssl rand -hex 32 | install -m 0600 /dev/stdin {missing}`\n"),
        (["--token-file", str(empty)], {}, f"afc: {empty}: the token is empty; put a secret of at least 16 "
         "characters there (`openssl rand -hex 32`)\n"),
        (["--token-file", str(short)], {}, f"afc: {short}: the token is too short (3 characters); use at least 16\n"),
        ([], {"CREDENTIALS_DIRECTORY": str(tmp_path)}, f"afc: {tmp_path}/mcp_token: token file not found; create "
         "it readable by its owner only with `openssl rand -hex 32 | install -m 0600 /dev/stdin "
         f"{tmp_path}/mcp_token`\n"),
        (["--token-file", "/dev/zero"], {}, "afc: /dev/zero: the token file is larger than 4096 bytes; put only the "
         "token there\n"),
        ([], {"AFC_MCP_TOKEN": "two words here, long enough"}, "afc: AFC_MCP_TOKEN: the token must be one line of "
         "printable ASCII without spaces (27 characters, not shown)\n"),
        ([], {}, "afc: mcp http: no token: set AFC_MCP_TOKEN, pass --token-file, or put it in "
         "$CREDENTIALS_DIRECTORY/mcp_token (systemd LoadCredential=); --no-auth only on 127.0.0.1\n"),
    ]
    for args, env, message in cases:
        result = run_cli(*db, *args, env=env)
        assert (result.exit_code, result.stderr) == (2, message), args


def test_a_port_in_use_is_one_line(module_sqlite_url: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run_cli("--db", module_sqlite_url, "--port", str(port), env={"AFC_MCP_TOKEN": TOKEN})
    assert (result.exit_code, result.stderr) == (
        1, f"afc: 127.0.0.1:{port}: the port is in use; stop what listens there or pick --port\n")


def test_loopback_addresses() -> None:
    assert [is_loopback(h) for h in ("127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost")] == [True] * 5
    assert [is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.5", "example.com")] == [False] * 4


@pytest.mark.parametrize(("scope_type", "header", "reaches_app", "sent"), [
    ("http", b"Bearer " + TOKEN.encode(), True, None),
    ("http", b"bearer " + TOKEN.encode(), True, None),  # the scheme is case-insensitive
    ("http", b"Bearer " + TOKEN.upper().encode(), False, "http.response.start"),
    ("http", TOKEN.encode(), False, "http.response.start"),
    ("websocket", b"", False, "websocket.close"),  # only lifespan passes without the token
    ("websocket", b"Bearer " + TOKEN.encode(), True, None),
    ("lifespan", b"", True, None),
])
async def test_the_guard_lets_nothing_but_lifespan_through_without_the_token(
        scope_type: str, header: bytes, reaches_app: bool, sent: str | None) -> None:
    reached: list[str] = []
    answers: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["type"])

    async def send(message: dict[str, Any]) -> None:
        answers.append(message)

    scope = {"type": scope_type, "headers": [(b"authorization", header)] if header else []}
    await BearerGuard(app, TOKEN)(scope, None, send)  # type: ignore[arg-type]
    assert (bool(reached), answers[0]["type"] if answers else None) == (reaches_app, sent)


def test_open_sessions_are_capped_per_process(module_sqlite_url: str) -> None:
    """Each session holds memory until it is closed or idles out; the SDK alone would keep 10,000."""
    server = build_server(load_settings({}, database_url=module_sqlite_url))
    app_for(server, Listen("127.0.0.1", 0, TOKEN))
    assert server.session_manager.max_sessions == MAX_SESSIONS == 256


def test_the_http_service_waits_for_a_database_that_is_not_up_yet(monkeypatch):
    """afc-mcp-http started before its PostgreSQL exited 1 at once; systemd's start limit then gave up on it."""
    import afc.cli.mcp as cli
    from afc.errors import DatabaseUnavailable
    from afc.ops import lock

    tries, sleeps = list[int](), list[float]()

    def not_up_yet() -> str:
        tries.append(1)
        if len(tries) < 4:
            raise DatabaseUnavailable("postgresql: cannot connect to postgresql://afc@db/afc")
        return "server"

    monkeypatch.setattr(lock.time, "sleep", sleeps.append)  # the wait is afc.ops.lock.when_reachable's
    assert cli.built_when_reachable(not_up_yet) == "server"
    assert sleeps == [1.0, 2.0, 4.0]
