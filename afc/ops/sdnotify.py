"""systemd's notify protocol without a dependency: READY, WATCHDOG, STATUS, STOPPING, EXTEND_TIMEOUT.

Outside systemd (no $NOTIFY_SOCKET) every call is a no-op that returns False, so the live loop
runs the same in a terminal, in tests and under `Type=notify`.
"""

from __future__ import annotations

import os
import socket
from collections import deque
from collections.abc import Mapping


def _address(value: str) -> str:
    return "\0" + value[1:] if value.startswith("@") else value  # '@' is the abstract namespace


class Notifier:
    """Messages to the service manager named by $NOTIFY_SOCKET; the watchdog period from $WATCHDOG_USEC."""

    def __init__(self, env: Mapping[str, str] | None = None):
        env = os.environ if env is None else env
        self.address = env.get("NOTIFY_SOCKET") or None
        self.watchdog_seconds = _watchdog(env)
        self.sent: deque[str] = deque(maxlen=50)  # the latest messages, for tests and diagnostics

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *fields: str) -> bool:
        """Send `KEY=value` fields as one datagram; False when not under systemd or the socket is gone."""
        message = "\n".join(fields)
        self.sent.append(message)
        if self.address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.connect(_address(self.address))
                sock.sendall(message.encode())
        except OSError:
            return False  # the manager went away: nothing useful to do about it here
        return True

    def ready(self, status: str) -> bool:
        """The service finished starting (config and database checked)."""
        return self.send("READY=1", f"STATUS={_line(status)}")

    def watchdog(self, status: str) -> bool:
        """The loop is healthy: reset the watchdog timer."""
        return self.send("WATCHDOG=1", f"STATUS={_line(status)}")

    def status(self, status: str) -> bool:
        """Update the status line `systemctl status` shows, without pinging the watchdog."""
        return self.send(f"STATUS={_line(status)}")

    def extend_timeout(self, seconds: float, status: str) -> bool:
        """Ask for more time to start or stop (waiting for the database before READY=1)."""
        return self.send(f"EXTEND_TIMEOUT_USEC={int(seconds * 1_000_000)}", f"STATUS={_line(status)}")

    def stopping(self, status: str = "stopping") -> bool:
        """The service is shutting down."""
        return self.send("STOPPING=1", f"STATUS={_line(status)}")


def _line(text: str) -> str:
    return " ".join(text.split())


def _watchdog(env: Mapping[str, str]) -> float | None:
    """The watchdog period in seconds, when systemd set one for this process."""
    usec, pid = env.get("WATCHDOG_USEC"), env.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return int(usec) / 1_000_000 or None
    except ValueError:
        return None
