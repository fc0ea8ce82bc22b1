"""A scripted stand-in for the API, for exact edge cases: a real HTTP server or an httpx MockTransport.

Routes map an endpoint to recorded bodies (files from shared/api-samples) or to scripted answers;
every request is recorded so tests can assert what afc asked for.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.conftest import SAMPLES

KEY = "0123456789abcdef0123456789abcdef"  # looks like a real key, so leak checks are meaningful


@dataclass
class Answer:
    """One scripted response."""

    status: int = 200
    body: Any = None  # dict (sent as JSON), str (sent verbatim) or None
    headers: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """The body as sent on the wire."""
        if self.body is None or isinstance(self.body, str):
            return self.body or ""
        return json.dumps(self.body)


def envelope(endpoint: str, response: Any, *, errors: Any = None, params: Any = None,
             paging: tuple[int, int] = (1, 1)) -> dict[str, Any]:
    """A body in the API's envelope."""
    items = response if isinstance(response, list) else [response]
    return {"get": endpoint, "parameters": params or [], "errors": errors or [],
            "results": len(items) if response is not None else 0,
            "paging": {"current": paging[0], "total": paging[1]}, "response": response}


def recorded(relative: str) -> str:
    """A recorded body, verbatim."""
    return (SAMPLES / relative).read_text(encoding="utf-8-sig")


def quota_headers(remaining: int, limit: int = 7500, minute_left: int = 299, minute: int = 300) -> dict[str, str]:
    """The four rate-limit headers."""
    return {"x-ratelimit-requests-limit": str(limit), "x-ratelimit-requests-remaining": str(remaining),
            "X-RateLimit-Limit": str(minute), "X-RateLimit-Remaining": str(minute_left)}


class FakeApi:
    """Answers per endpoint: a fixed Answer, a list consumed in order, or a function of the query."""

    def __init__(self, routes: dict[str, Any] | None = None, *, remaining: int = 7000):
        self.routes: dict[str, Any] = dict(routes or {})
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self.remaining = remaining
        self.url = ""  # the base URL while serve() runs
        self._lock = threading.Lock()

    def answer(self, endpoint: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
        with self._lock:
            self.requests.append((endpoint, query, headers))
            route = self.routes.get(endpoint)
            if isinstance(route, list):
                route = route.pop(0) if len(route) > 1 else route[0]
            if callable(route):
                route = route(query)
            if route is None:
                missing = {"endpoint": f"The {endpoint} endpoint does not exist."}
                route = Answer(200, envelope(endpoint, [], errors=missing))
            if isinstance(route, str):
                route = Answer(200, recorded(route))
            self.remaining -= 1
            if not route.headers and route.status == 200:
                route = Answer(route.status, route.body, quota_headers(self.remaining))
            return route

    def transport(self) -> httpx.MockTransport:
        """An httpx transport answering in-process."""

        def handle(request: httpx.Request) -> httpx.Response:
            answer = self.answer(request.url.path.strip("/"), dict(request.url.params), dict(request.headers))
            return httpx.Response(answer.status, text=answer.text(), headers=answer.headers)

        return httpx.MockTransport(handle)

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Serve over real HTTP on a free port; yields the base URL."""
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                url = urlsplit(self.path)
                answer = api.answer(url.path.strip("/"), dict(parse_qsl(url.query)), dict(self.headers))
                data = answer.text().encode()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            yield self.url
        finally:
            server.shutdown()
            server.server_close()


Route = Answer | str | list[Answer] | Callable[[dict[str, str]], Answer]

REFERENCE_ROUTES: dict[str, Any] = {
    "timezone": "timezone/syurchen93__timezones.json",
    "countries": "countries/syurchen93__countries-full.json",
    "leagues": "leagues/pilflo__leagues_id_39.json",
    "teams": "teams/footballay__39_teams_by_league.json",
    "venues": "venues/syurchen93__venue-camp-nou.json",
}
