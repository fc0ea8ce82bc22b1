"""Stopping the live loop: SIGTERM/SIGINT set an event; every sleep of the loop wakes up on it.

The loop's clock is wrapped so that sleeps inside the pipeline (retry back-off, a full minute) are
interrupted too: a stop abandons the current tick's retries instead of waiting them out.
"""

from __future__ import annotations

import signal
import threading
from datetime import datetime
from types import FrameType

from afc.clock import Clock


class Stopped(Exception):
    """The loop was asked to stop; raised out of a sleep, caught by the loop (control flow, not an error)."""


class StopClock:
    """`inner`'s time, with sleeps that end early (raising Stopped) once `stop` is set."""

    def __init__(self, inner: Clock, stop: threading.Event):
        self.inner, self.stop = inner, stop

    def now(self) -> datetime:
        return self.inner.now()

    def sleep(self, seconds: float) -> None:
        """Sleep `seconds` of clock time; raise Stopped as soon as a stop is requested."""
        if self.stop.is_set():
            raise Stopped()
        if seconds <= 0:
            return
        speed = getattr(self.inner, "speed", 1.0)  # a SimClock runs `speed` times faster than real time
        if speed == 0:
            self.inner.sleep(seconds)  # a frozen clock is advanced by whoever waits on it
        elif self.stop.wait(seconds / speed):
            raise Stopped()


def on_signals(stop: threading.Event) -> None:
    """Set `stop` on SIGTERM and SIGINT (call from the main thread)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
