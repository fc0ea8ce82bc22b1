"""The HTTP side: a threading HTTP/1.1 server with keep-alive, in the background or the foreground.

Replies go out in one write (headers and body together) with Nagle off, so small requests do not
wait on delayed ACKs. Stopping closes idle keep-alive connections and wakes faults that hold a
connection open, so a test's `with start_sandbox(...)` exits at once.
"""

from __future__ import annotations

import signal
import socket
import threading
from collections import Counter
from collections.abc import Callable
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from afc.clock import SystemClock
from afc.sandbox.config import SandboxConfig
from afc.sandbox.service import Api, Reply
from afc.sandbox.world import World


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], api: Api):
        super().__init__(address, _Handler)
        self.api = api
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def close_connections(self) -> None:
        with self.connections_lock:
            for conn in list(self.connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "afc-sandbox"
    sys_version = ""
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass  # quiet by default; faults are logged at debug by the service

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        reply = self.server.api.handle(self.command, self.path, self.headers)
        if reply.action == "drop":
            self._hang_up()
        elif reply.action == "timeout":
            self.server.stopping.wait(self.server.api.cfg.timeout_seconds)
            self._hang_up()
        else:
            if reply.delay:
                self.server.stopping.wait(reply.delay)
            self._send(reply)

    def _hang_up(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send(self, reply: Reply) -> None:
        lines = [f"HTTP/1.1 {reply.status} {self.responses.get(reply.status, ('',))[0]}",
                 f"Date: {formatdate(usegmt=True)}", f"Content-Length: {len(reply.body)}"]
        lines += [f"{name}: {value}" for name, value in reply.headers]
        if self.close_connection:
            lines.append("Connection: close")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve


class Sandbox:
    """A running sandbox: its URL and key, the world and clock it serves, and what it was asked."""

    def __init__(self, api: Api, server: _Server, thread: threading.Thread | None):
        self.api = api
        self._server = server
        self._thread = thread
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"

    key = property(lambda self: self.api.cfg.key, doc="The accepted API key.")
    clock = property(lambda self: self.api.clock, doc="The clock the sandbox asks for now.")
    world: World = property(lambda self: self.api.world, doc="The ground truth the sandbox serves.")

    @property
    def calls(self) -> Counter:
        """Requests that counted against the quota, per endpoint (a snapshot)."""
        return Counter(self.api.calls)

    @property
    def total_calls(self) -> int:
        """All requests that counted against the quota."""
        return sum(self.api.calls.values())

    @property
    def requests(self) -> list[tuple[str, dict[str, str]]]:
        """(endpoint, params) of every request received, counted or not (a snapshot)."""
        return list(self.api.requests)

    def reset_counters(self) -> None:
        """Forget `calls` and `requests` (the quota itself is untouched: see `set_quota_used`)."""
        self.api.calls.clear()
        self.api.requests.clear()

    def set_faults(self, rates: dict[str, float], seed: int = 0) -> None:
        """Change the fault rates at runtime, restarting the fault generator from `seed`."""
        self.api.faults.set(rates, seed)

    def inject(self, kind: str, count: int = 1) -> None:
        """The next `count` requests get exactly fault `kind`."""
        self.api.faults.inject(kind, count)

    def quota_used_today(self) -> int:
        """Calls counted on the sandbox clock's current UTC day."""
        return self.api.quota.used_today(self.clock.now())

    def set_quota_used(self, used: int) -> None:
        """Pretend `used` calls were already made today."""
        self.api.quota.set_used(self.clock.now(), used)

    def stop(self) -> None:
        """Stop serving and close every connection."""
        self._server.stopping.set()
        if self._thread is not None:
            self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_sandbox(cfg: SandboxConfig | None = None, clock=None, port: int = 0, host: str = "127.0.0.1") -> Sandbox:
    """Serve the sandbox from a background thread (port 0: any free port); stop it with `with` or `.stop()`."""
    api = Api(cfg or SandboxConfig(), clock or SystemClock())
    server = _Server((host, port), api)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="afc-sandbox",
                              daemon=True)
    thread.start()
    return Sandbox(api, server, thread)


def serve(cfg: SandboxConfig, clock, host: str = "127.0.0.1", port: int = 8099,
          on_ready: Callable[[Sandbox], None] | None = None) -> None:
    """Serve in the foreground until Ctrl-C or SIGTERM."""
    server = _Server((host, port), Api(cfg, clock))
    sandbox = Sandbox(server.api, server, None)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    if on_ready:
        on_ready(sandbox)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sandbox.stop()
