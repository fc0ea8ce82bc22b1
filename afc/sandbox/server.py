"""The HTTP side: a threading HTTP/1.1 server with keep-alive, in the background or the foreground.

Each connection speaks HTTP through `wire.Wire` (h11); replies go out in one write (headers and
body together) with Nagle off, so small requests do not wait on delayed ACKs. Stopping closes idle keep-alive
connections and wakes faults that hold a connection open, so `with start_sandbox(...)` exits at once.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import socketserver
import threading
from collections import Counter
from collections.abc import Callable

from afc.clock import SystemClock
from afc.sandbox.config import SandboxConfig
from afc.sandbox.service import AnyClock, Api
from afc.sandbox.wire import BadRequest, Wire
from afc.sandbox.world import World


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
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
        """Shut every open connection down, so threads waiting on a keep-alive read end."""
        with self.connections_lock:
            for conn in list(self.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server
    request: socket.socket

    def setup(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
        with self.server.connections_lock:
            self.server.connections.add(self.request)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.request)

    def handle(self) -> None:
        """Serve requests on this connection until the client or the server closes it."""
        wire = Wire(self.request)
        try:
            while not self.server.stopping.is_set() and self._one(wire):
                pass
        except BadRequest as exc:
            with contextlib.suppress(OSError):  # the client may not wait for the answer
                wire.refuse(exc.status)
        except OSError:
            pass  # the client went away

    def _one(self, wire: Wire) -> bool:
        request = wire.next_request()
        if request is None:
            return False
        reply = self.server.api.handle(request.method, request.target, request.headers)
        if reply.action == "timeout":
            self.server.stopping.wait(self.server.api.cfg.timeout_seconds)
        if reply.action:
            self.request.shutdown(socket.SHUT_RDWR)
            return False
        if reply.delay:
            self.server.stopping.wait(reply.delay)
        return wire.reply(reply.status, reply.headers, reply.body)


class Sandbox:
    """A running sandbox: its URL and key, the world and clock it serves, and what it was asked."""

    def __init__(self, api: Api, server: _Server, thread: threading.Thread | None):
        self.api = api
        self._server = server
        self._thread = thread
        host, port = server.socket.getsockname()[:2]
        self.url = f"http://{host}:{port}"

    @property
    def key(self) -> str:
        """The accepted API key."""
        return self.api.cfg.key

    @property
    def clock(self) -> AnyClock:
        """The clock the sandbox asks for now."""
        return self.api.clock

    @property
    def world(self) -> World:
        """The ground truth the sandbox serves."""
        return self.api.world

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
        """(endpoint, params) of every request received, counted or not (the last 100,000; a snapshot)."""
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


def start_sandbox(cfg: SandboxConfig | None = None, clock: AnyClock | None = None, port: int = 0,
                  host: str = "127.0.0.1") -> Sandbox:
    """Serve the sandbox from a background thread (port 0: any free port); stop it with `with` or `.stop()`."""
    api = Api(cfg or SandboxConfig(), clock or SystemClock())
    server = _Server((host, port), api)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="afc-sandbox",
                              daemon=True)
    thread.start()
    return Sandbox(api, server, thread)


def serve(cfg: SandboxConfig, clock: AnyClock, host: str = "127.0.0.1", port: int = 8099,
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
