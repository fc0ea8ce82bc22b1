"""The sandbox's HTTP/1.1 wire as a bare socket sees it: keep-alive, closing, pipelining, HEAD, bodies, bad input."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import BinaryIO

import pytest

from afc.sandbox import Sandbox, SandboxConfig, start_sandbox
from afc.sandbox.testing import frozen_clock

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
Reply = tuple[int, dict[str, str], bytes]


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with start_sandbox(SandboxConfig(rate_limit=False), clock=frozen_clock(NOW)) as sandbox:
        yield sandbox


@contextmanager
def _connection(sb: Sandbox) -> Iterator[tuple[socket.socket, BinaryIO]]:
    host, port = sb.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock, sock.makefile("rb") as reader:
        yield sock, reader


def _get(sb: Sandbox, path: str, method: str = "GET", version: str = "1.1", extra: str = "") -> bytes:
    return (f"{method} {path} HTTP/{version}\r\nHost: sandbox\r\nx-apisports-key: {sb.key}\r\n{extra}\r\n").encode()


def _read(reader: BinaryIO, head: bool = False) -> Reply:
    """One reply: status, headers (lower-case names), body (none for a HEAD)."""
    status = int(reader.readline().split()[1])
    headers = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = b"" if head else reader.read(int(headers["content-length"]))
    return status, headers, body


def _closed(sock: socket.socket, reader: BinaryIO) -> bool:
    return reader.read(1) == b""


def test_keep_alive_serves_several_requests_on_one_connection(sb):
    with _connection(sb) as (sock, reader):
        for path in ("/timezone", "/countries", "/status"):
            sock.sendall(_get(sb, path))
            status, headers, body = _read(reader)
            assert status == 200 and "connection" not in headers
            assert json.loads(body)["get"] == path[1:]
            assert headers["content-type"] == "application/json" and headers["date"].endswith("GMT")


@pytest.mark.parametrize("version,extra", [("1.1", "Connection: close\r\n"), ("1.0", "")])
def test_close_when_the_client_asks_or_speaks_http_1_0(sb, version, extra):
    with _connection(sb) as (sock, reader):
        sock.sendall(_get(sb, "/timezone", version=version, extra=extra))
        status, headers, body = _read(reader)
        assert status == 200 and headers["connection"] == "close"
        assert json.loads(body)["results"] > 100
        assert _closed(sock, reader)


def test_pipelined_requests_are_answered_in_order(sb):
    with _connection(sb) as (sock, reader):
        sock.sendall(_get(sb, "/timezone") + _get(sb, "/countries") + _get(sb, "/status"))
        assert [json.loads(_read(reader)[2])["get"] for _ in range(3)] == ["timezone", "countries", "status"]


def test_head_announces_the_body_without_sending_it(sb):
    whole = sb.api.handle("HEAD", "/countries", {"x-apisports-key": sb.key}).body  # GET only: an error envelope
    with _connection(sb) as (sock, reader):
        sock.sendall(_get(sb, "/countries", method="HEAD") + _get(sb, "/status"))
        status, headers, body = _read(reader, head=True)
        assert status == 200 and int(headers["content-length"]) == len(whole) > 100 and body == b""
        assert json.loads(_read(reader)[2])["get"] == "status"  # the next reply starts right after the head


@pytest.mark.parametrize("body_headers,body", [("Content-Length: 11\r\n", b"hello world"),
                                               ("Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\n\r\n")])
def test_a_request_body_is_read_and_the_connection_reused(sb, body_headers, body):
    with _connection(sb) as (sock, reader):
        sock.sendall(_get(sb, "/status", method="POST", extra=body_headers) + body + _get(sb, "/timezone"))
        status, _, answer = _read(reader)
        assert status == 200 and "method" in json.loads(answer)["errors"]
        assert json.loads(_read(reader)[2])["get"] == "timezone"


@pytest.mark.parametrize("raw,status", [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /timezone HTTP/1.1\r\n\r\n", 400),  # HTTP/1.1 without Host
    (b"GET /timezone HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n", 400),
    (b"GET /timezone HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n", 400),
    (b"GET /timezone HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000, 431),  # a head past 64 KiB, unfinished
])
def test_bad_requests_get_an_error_status_and_the_connection_closes(sb, raw, status):
    with _connection(sb) as (sock, reader):
        sock.sendall(raw)
        answer, headers, body = _read(reader)
        assert (answer, headers["connection"]) == (status, "close")
        assert body in (b"bad request", b"request header fields too large")
        assert _closed(sock, reader)


def test_a_bad_request_after_good_ones_still_gets_the_good_answers_first(sb):
    with _connection(sb) as (sock, reader):
        sock.sendall(_get(sb, "/timezone") + b"NOT HTTP AT ALL\r\n\r\n")
        assert _read(reader)[0] == 200
        assert _read(reader)[0] == 400
        assert _closed(sock, reader)


def test_status_499_has_its_reason_phrase():
    with start_sandbox(SandboxConfig(), clock=frozen_clock(NOW)) as sandbox, _connection(sandbox) as (sock, reader):
        sandbox.inject("499")
        sock.sendall(_get(sandbox, "/timezone"))
        assert reader.readline() == b"HTTP/1.1 499 Client Closed Request\r\n"


def test_drop_fault_closes_without_a_byte():
    with start_sandbox(SandboxConfig(), clock=frozen_clock(NOW)) as sandbox, _connection(sandbox) as (sock, reader):
        sandbox.inject("drop")
        sock.sendall(_get(sandbox, "/timezone"))
        assert _closed(sock, reader)
