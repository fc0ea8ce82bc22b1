"""afc.api.outbound: each attempt to a user's receiver ends by its deadline, direct or through an environment proxy."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from afc.api import outbound
from tests.conftest import bounded


@pytest.fixture
def trickler() -> Iterator[tuple[str, list[bytes]]]:
    """A server (or proxy) that sends its status line and headers a byte every 0.1 s; yields its URL and the
    requests it got."""
    requests: list[bytes] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = listener.accept()
                threading.Thread(target=answer, args=(conn,), daemon=True).start()

    def answer(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            requests.append(conn.recv(65536))
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n":
                conn.sendall(bytes([byte]))
                time.sleep(0.1)

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", requests
    listener.close()


def timed_post(url: str, timeout: float) -> tuple[BaseException | int | None, float]:
    """`outbound.post` in a thread (so a hang fails the test instead of stalling it): outcome and seconds."""

    def post() -> int:
        with outbound.client() as http:
            return outbound.post(http, url, b"{}", {"Content-Type": "application/json"}, timeout)

    outcome, seconds = bounded(post)
    return (outcome[0] if outcome else None), seconds


def test_a_trickling_receiver_costs_one_timeout(trickler: tuple[str, list[bytes]]) -> None:
    outcome, seconds = timed_post(trickler[0] + "/hook", 0.5)
    assert isinstance(outcome, httpx.ReadTimeout) and seconds < 5  # unbounded, the trickle alone takes 22 s


def test_an_environment_proxy_is_used_and_bounded_too(trickler: tuple[str, list[bytes]],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    url, requests = trickler
    monkeypatch.setenv("HTTP_PROXY", url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    outcome, seconds = timed_post("http://hooks.example/afc", 0.5)
    assert isinstance(outcome, httpx.ReadTimeout) and seconds < 5  # unbounded, the trickle alone takes 22 s
    assert requests and requests[0].startswith(b"POST http://hooks.example/afc HTTP/1.1")


def test_an_api_call_to_a_server_trickling_its_headers_ends_by_its_timeout(trickler: tuple[str, list[bytes]]) -> None:
    """The API client's timeout bounds a call in all (AFC_HTTP_TIMEOUT, 'seconds per HTTP call'), its status line and
    headers too: a byte every 0.1 s, each within httpx's per-read timeout, held a call (and a live tick) for 22 s."""
    from afc.api.client import ApiClient, Request
    from afc.clock import SimClock
    from afc.errors import NetworkError

    client = ApiClient(trickler[0], "k" * 32, SimClock(datetime(2026, 1, 1, tzinfo=UTC)), timeout=0.5)
    started = time.monotonic()
    with pytest.raises(NetworkError, match=r"^/countries: timed out after [0-9]+s$") as caught:
        client.get(Request.of("countries"))
    assert caught.value.sent and time.monotonic() - started < 3
    client.close()
