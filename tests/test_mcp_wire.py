"""Bytes a client sends the MCP server are bounded: a stdio line or an HTTP body past 4 MiB is refused with one
log line, the server's memory stays put (its peak RSS read from /proc), and the next good message is served."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

import anyio
import httpx
import pytest
from mcp import Client, StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_REQUEST

from afc.mcp.http import MAX_REQUESTS
from afc.mcp.wire import MAX_MESSAGE, request_id
from tests.mcp_support import seeded
from tests.test_mcp_http import TOKEN, connected, http_server

PEAK_MB = 200  # the server idles at ~80 MB; without the cap 64 MiB of input cost several times that
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}


@pytest.fixture(scope="module")
def url(module_sqlite_url: str) -> str:
    seeded(module_sqlite_url)
    return module_sqlite_url


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB."""
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def stdio_server(url: str, stdin: IO[bytes] | int, stderr: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "afc", "mcp", "stdio", "--db", url], stdin=stdin,
                            stdout=subprocess.PIPE, stderr=stderr, env={"PATH": os.environ["PATH"]})


def frame(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode() + b"\n"


def refusals(log: str) -> list[str]:
    return [line for line in log.splitlines() if "refused a message longer than 4194304 bytes" in line]


def test_an_endless_line_from_dev_zero_keeps_memory_flat(url: str, tmp_path: Path) -> None:
    err = tmp_path / "err.log"
    with open("/dev/zero", "rb") as zeros, err.open("wb") as log:
        proc = stdio_server(url, zeros, log)
    try:
        time.sleep(4)  # uncapped, the SDK's readline held over a GB by now
        assert proc.poll() is None, err.read_text()
        assert peak_rss_mb(proc.pid) < PEAK_MB
    finally:
        proc.kill()
        proc.wait()
    assert len(refusals(err.read_text())) == 1


def test_an_oversized_request_gets_an_error_and_the_next_one_an_answer(url: str, tmp_path: Path) -> None:
    err = tmp_path / "err.log"
    with err.open("wb") as log:
        proc = stdio_server(url, subprocess.PIPE, log)
    assert proc.stdin and proc.stdout

    def feed() -> None:
        assert proc.stdin
        proc.stdin.write(frame(INIT) + frame({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        proc.stdin.write(b'{"jsonrpc": "2.0", "id": "big", "method": "tools/call", "params": {"name": "db_query", '
                         b'"arguments": {"sql": "SELECT 1 -- ')
        for _ in range(64):
            proc.stdin.write(b"x" * 1024 * 1024)
        proc.stdin.write(b'"}}}\n' + frame({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}))
        proc.stdin.flush()

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        answers = {answer["id"]: answer for answer in map(json.loads, (proc.stdout.readline() for _ in range(3)))}
        writer.join()
        assert answers["big"]["error"]["code"] == INVALID_REQUEST
        assert "longer than 4194304 bytes" in answers["big"]["error"]["message"]
        assert "db_query" in {tool["name"] for tool in answers[3]["result"]["tools"]}
        assert peak_rss_mb(proc.pid) < PEAK_MB
    finally:
        proc.kill()
        proc.wait()
    assert len(refusals(err.read_text())) == 1


@pytest.mark.anyio
async def test_the_sdk_client_gets_an_error_for_an_oversized_call_then_carries_on(url: str, tmp_path: Path) -> None:
    params = StdioServerParameters(command=sys.executable, args=["-m", "afc", "mcp", "stdio", "--db", url])
    with (tmp_path / "err.log").open("w") as log:
        async with Client(stdio_client(params, errlog=log), raise_exceptions=True) as client:
            with pytest.raises(MCPError, match="longer than 4194304 bytes"):
                await client.call_tool("db_query", {"sql": "SELECT 1 -- " + "x" * MAX_MESSAGE})
            answer = await client.call_tool("db_query", {"sql": "SELECT 41 + 1 AS n"})
    assert answer.structured_content and answer.structured_content["rows"] == [[42]]
    assert len(refusals((tmp_path / "err.log").read_text())) == 1


@pytest.mark.parametrize(("head", "expected"), [
    (b'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"id":1', 7),
    (b' { "jsonrpc" : "2.0" , "id" : "req-1" , "params": {', "req-1"),
    (b'{"jsonrpc":"2.0","method":"tools/call","params":{"id":9,"sql":"', None),  # an id nested in params
    (b'{"params":{"x":1},"id":4,', None),  # after params: cannot be told from a nested one
    (b'{"jsonrpc":"2.0","id":"a\\"b","method":', None),  # escapes are not decoded: no guess
    (b"\0\0\0\0", None),
])
def test_the_request_id_is_read_only_from_the_outer_object(head: bytes, expected: int | str | None) -> None:
    assert request_id(head) == expected


async def megabytes(count: int) -> AsyncIterator[bytes]:
    """A body sent chunked: no length to refuse it by up front."""
    for _ in range(count):
        yield b"y" * 1024 * 1024


@pytest.mark.anyio
async def test_http_bodies_and_headers_past_the_caps_are_refused_and_serving_goes_on(url: str, tmp_path: Path,
                                                                                     ) -> None:
    with http_server(url, tmp_path) as endpoint:
        auth = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json, text/event-stream",
                "Content-Type": "application/json"}
        async with httpx.AsyncClient(timeout=30) as http:
            sized = await http.post(endpoint, headers=auth, content=b"x" * (MAX_MESSAGE + 1))
            streamed = await http.post(endpoint, headers=auth, content=megabytes(64))
            try:  # the 400 races the close of a connection with unread input: either reaches the client
                headers = (await http.post(endpoint, headers={**auth, "X-Padding": "z" * 1024 * 1024})).status_code
            except httpx.ReadError:
                headers = 400
        assert (sized.status_code, streamed.status_code, headers) == (413, 413, 400)
        async with connected(endpoint) as client:
            answer = await client.call_tool("db_query", {"sql": "SELECT 41 + 1 AS n"})
        assert answer.structured_content and answer.structured_content["rows"] == [[42]]
    log = next(tmp_path.glob("mcp-http-*.log")).read_text()
    assert log.count("refused a request body longer than 4194304 bytes from 127.0.0.1:") == 2
    assert log.count("Invalid HTTP request received.") == 1


def test_http_requests_past_the_bound_are_refused_at_once_and_serving_goes_on(url: str, tmp_path: Path) -> None:
    """Each request may hold a body of up to 4 MiB: with no bound, N clients sending slowly held N x 4 MiB. The
    server takes MAX_REQUESTS at once and answers the next 503 unread; a slot freed serves again."""
    with http_server(url, tmp_path) as endpoint:
        target = httpx.URL(endpoint)
        head = (f"POST /mcp HTTP/1.1\r\nHost: {target.host}:{target.port}\r\nAuthorization: Bearer {TOKEN}\r\n"
                "Accept: application/json, text/event-stream\r\nContent-Type: application/json\r\n"
                f"Content-Length: {MAX_MESSAGE}\r\n\r\n").encode()
        held = [socket.create_connection((target.host, target.port)) for _ in range(MAX_REQUESTS)]
        for sock in held:
            sock.sendall(head + b"x" * 65536)  # a body still coming: the request stays in progress
        auth = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json, text/event-stream"}
        deadline, answer = time.monotonic() + 10, None
        while time.monotonic() < deadline and (answer is None or answer.status_code != 503):
            answer = httpx.post(endpoint, headers=auth, json={}, timeout=10)
            time.sleep(0.05)
        assert answer is not None and answer.status_code == 503, answer
        assert answer.headers["retry-after"] == "1"
        assert answer.json() == {"error": "busy", "error_description": f"{MAX_REQUESTS} requests are already in "
                                                                        "progress; try again shortly"}
        for sock in held:
            sock.close()
        time.sleep(0.3)

        async def query() -> Any:
            async with connected(endpoint) as client:
                return await client.call_tool("db_query", {"sql": "SELECT 41 + 1 AS n"})

        result = anyio.run(query)
        assert result.structured_content and result.structured_content["rows"] == [[42]]
    log = next(tmp_path.glob("mcp-http-*.log")).read_text()
    assert f": {MAX_REQUESTS} requests are already in progress" in log  # one line per refusal
    assert log.count("INFO mcp.server.streamable_http: mcp http: a client disconnected before its request was "
                     "complete") == MAX_REQUESTS  # the held ones, closed mid-body: one line each, no traceback
    assert "Traceback" not in log
