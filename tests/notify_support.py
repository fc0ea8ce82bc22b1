"""A real HTTP receiver for the notify tests: verifies each webhook's signature and counts deliveries by key."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from afc.db import Database, dump_json

SECRET = b"s3cret-webhook-value"


class Receiver:
    """Answers `status` (after `delay` seconds); keeps every body whose signature checks out."""

    def __init__(self, secret: bytes = SECRET, status: int = 200, delay: float = 0.0):
        self.secret, self.status, self.delay = secret, status, delay
        self.bodies: list[dict[str, Any]] = []
        self.arrived: list[float] = []  # time.time() of each good delivery
        self.bad_signatures = 0
        self.started = threading.Event()  # set when a request has begun (the drill kills mid-delivery)
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    @property
    def keys(self) -> Counter[str]:
        with self.lock:
            return Counter(b["key"] for b in self.bodies)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                receiver.started.set()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay:
                    time.sleep(receiver.delay)
                expected = "sha256=" + hmac.new(receiver.secret, body, hashlib.sha256).hexdigest()
                good = hmac.compare_digest(expected, self.headers.get("X-Afc-Signature", ""))
                with receiver.lock:
                    if not good:
                        receiver.bad_signatures += 1
                    elif receiver.status == 200:
                        payload = json.loads(body)
                        assert payload["key"] == self.headers["X-Afc-Idempotency-Key"]
                        receiver.bodies.append(payload)
                        receiver.arrived.append(time.time())
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


def jobs_dir(tmp_path: Path, url: str, **policy: Any) -> Path:
    """A jobs directory holding only notify.yaml with one webhook target `hook` (plus `policy` keys)."""
    directory = tmp_path / "jobs"
    directory.mkdir(exist_ok=True)
    lines = ["notify:", "  targets:", "    - name: hook", "      type: webhook", f"      url: {url}",
             "      secret: hook_secret"] + [f"  {k}: {v}" for k, v in policy.items()]
    (directory / "notify.yaml").write_text("\n".join(lines) + "\n")
    return directory


def credentials(tmp_path: Path) -> Path:
    """A credentials directory with the webhook secret."""
    directory = tmp_path / "creds"
    directory.mkdir(exist_ok=True)
    (directory / "hook_secret").write_text(SECRET.decode() + "\n")
    return directory


def add_events(db: Database, count: int, at: datetime, fixtures: int = 3) -> list[str]:
    """`count` outbox events spread over `fixtures` fixtures (as a live day would leave them); their keys."""
    keys = []
    with db.transaction():
        for i in range(count):
            key = f"{900 + i % fixtures}:goal:1:{i}:{i}:1"
            body = {"schema": 1, "key": key, "kind": "goal", "fixture": {"id": 900 + i % fixtures}, "minute": i}
            db.execute("INSERT INTO ops.events_outbox (event_key, kind, fixture_id, league_id, home_team_id, "
                       "away_team_id, payload, created_at) VALUES (%s, 'goal', %s, 39, 1, 2, %s, %s)",
                       (key, 900 + i % fixtures, dump_json(body), at))
            keys.append(key)
    return keys
