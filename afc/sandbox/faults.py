"""Injected faults: each request draws one number from a seeded generator and may get a fault.

Kinds: 500/502/503/499 (the API's `{"message": ...}` body), `timeout` (hold the connection),
`slow` (answer after 1-3 s), `malformed` (invalid JSON with 200), `truncated` (the body cut in
half), `bug` (the documented 200 server-bug envelope), `429` (per-minute form with headers) and
`drop` (close the connection without answering); `deep`, `bigint`, `surrogate` and `nan` splice
deep nesting, a 5000-digit integer, a lone surrogate or a NaN literal into a 200 envelope. `inject` queues exact
faults for tests.
"""

from __future__ import annotations

import random
import threading
from collections import deque

from afc.errors import ConfigError

KINDS = ("500", "502", "503", "499", "timeout", "slow", "malformed", "truncated", "bug", "429", "drop",
         "deep", "bigint", "surrogate", "nan")
# Valid-looking JSON that no client can hold: spliced into the envelope ahead of "response".
UNREADABLE = {
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "bigint": b"7" * 5000,
    "surrogate": b'"\\ud800"',
    "nan": b"NaN",
}
BEFORE = frozenset({"500", "502", "503", "499", "timeout", "429", "drop"})  # answered without doing the work


def check_rates(rates: dict[str, float]) -> None:
    """Raise ConfigError unless every kind is known and the rates are shares that sum to at most 1."""
    for kind, rate in rates.items():
        if kind not in KINDS:
            raise ConfigError(f"sandbox: unknown fault {kind!r}; use one of {', '.join(KINDS)}")
        if not 0 <= rate <= 1:
            raise ConfigError(f"sandbox: fault {kind} rate must be between 0 and 1, got {rate}")
    if sum(rates.values()) > 1:
        raise ConfigError(f"sandbox: fault rates add up to {sum(rates.values()):g}, more than 1")


class Faults:
    """Decides, request by request, which fault (if any) to inject."""

    def __init__(self, rates: dict[str, float] | None = None, seed: int = 0):
        self._lock = threading.Lock()
        self._queue: deque[str] = deque()
        self.set(rates or {}, seed)

    def set(self, rates: dict[str, float], seed: int = 0) -> None:
        """Replace the rates and restart the generator from `seed`."""
        check_rates(rates)
        with self._lock:
            self._rates = [(k, rates[k]) for k in KINDS if rates.get(k)]
            self._rng = random.Random(seed)

    def inject(self, kind: str, count: int = 1) -> None:
        """The next `count` requests get exactly this fault."""
        check_rates({kind: 0})
        with self._lock:
            self._queue.extend([kind] * count)

    def pick(self) -> str | None:
        """The fault for the next request, or None."""
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            if not self._rates:
                return None
            draw, edge = self._rng.random(), 0.0
            for kind, rate in self._rates:
                edge += rate
                if draw < edge:
                    return kind
            return None

    def delay(self, low: float, high: float) -> float:
        """The seeded delay of a `slow` fault."""
        with self._lock:
            return self._rng.uniform(low, high)
