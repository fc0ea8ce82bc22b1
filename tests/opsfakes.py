"""Local receivers for alert tests: an HTTP webhook endpoint and an SMTP server, both on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Webhook:
    """What the receiver got, and what it answers."""

    url: str = ""
    posts: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200


@contextmanager
def webhook_receiver() -> Iterator[Webhook]:
    """A Slack-like incoming-webhook endpoint that records JSON bodies."""
    hook = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            hook.posts.append({"path": self.path, "content_type": self.headers.get("content-type"),
                               "json": json.loads(body)})
            self.send_response(hook.status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/XXXX"
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mailbox:
    """Messages the SMTP server accepted."""

    port: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def smtp_server(tls_context: Any = None) -> Iterator[Mailbox]:
    """An aiosmtpd server on 127.0.0.1 that keeps every message (offering STARTTLS with `tls_context`)."""
    from aiosmtpd.controller import Controller

    box = Mailbox()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            box.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                 "data": envelope.content.decode()})
            return "250 OK"

    with socket.socket() as probe:  # aiosmtpd cannot start on port 0: pick a free port first
        probe.bind(("127.0.0.1", 0))
        box.port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port, tls_context=tls_context,
                            require_starttls=tls_context is not None)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
