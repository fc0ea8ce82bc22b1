"""Clocks: the real one, and a simulated one that can run fast or stand still.

afc and its sandbox share this module, so a test or the demo can make a whole match day pass in
minutes and both sides agree on what time it is.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from afc.errors import ConfigError

MAX_SPEED = 1_000_000  # what `afc sandbox --clock-speed` allows
# A simulated start afc can run from: later, a day's arithmetic (tomorrow, a season's end) leaves datetime's range.
FIRST_YEAR, LAST_YEAR = 1970, 9000


class Clock(Protocol):
    """What afc needs to know about time."""

    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def spec(self) -> str:
        return "system"


@dataclass
class SimClock:
    """Simulated UTC time: `start` at creation, advancing `speed` times faster than real time.

    `speed=0` stands still (a fixed `--now`). `set` and `advance` move it by hand; `sleep`
    waits the real time that corresponds to the simulated seconds.
    """

    start: datetime
    speed: float = 1.0
    _anchor_real: float = field(default_factory=time.time)
    _anchor_sim: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ConfigError(f"clock start must be timezone-aware, got {self.start.isoformat()}")
        _check_speed(self.speed)
        if not FIRST_YEAR <= self.start.year <= LAST_YEAR:
            raise ConfigError(f"clock start must lie in the years {FIRST_YEAR} to {LAST_YEAR}, got "
                              f"{self.start.isoformat()}")
        self._anchor_sim = self.start.timestamp()

    def timestamp(self) -> float:
        with self._lock:
            return self._anchor_sim + (time.time() - self._anchor_real) * self.speed

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def set(self, when: datetime) -> None:
        """Jump to `when` and keep running at the same speed from there."""
        with self._lock:
            self._anchor_real = time.time()
            self._anchor_sim = when.timestamp()

    def set_speed(self, speed: float) -> None:
        """Run `speed` times faster than real time from now on (0 stands still)."""
        _check_speed(speed)
        with self._lock:
            now = self._anchor_sim + (time.time() - self._anchor_real) * self.speed
            self._anchor_real, self._anchor_sim, self.speed = time.time(), now, speed

    def advance(self, seconds: float) -> None:
        """Move simulated time forward by `seconds`."""
        self.set(datetime.fromtimestamp(self.timestamp() + seconds, UTC))

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.speed == 0:
            self.advance(seconds)  # a frozen clock is moved by whoever waits on it
            return
        time.sleep(seconds / self.speed)

    def spec(self) -> str:
        """A string that `parse_clock` turns back into a clock showing the same time."""
        with self._lock:
            return f"sim:{self._anchor_real:.6f}:{self._anchor_sim:.6f}:{self.speed:g}"


def _check_speed(speed: float) -> None:
    if not 0 <= speed <= MAX_SPEED:  # NaN too
        raise ConfigError(f"clock speed must be between 0 and {MAX_SPEED}, got {speed:g}")


def parse_clock(spec: str | None) -> SystemClock | SimClock:
    """Build a clock from `AFC_CLOCK`: empty/`system`, an ISO time, `ISO@speed`, or a `sim:` spec."""
    if not spec or spec == "system":
        return SystemClock()
    try:
        if spec.startswith("sim:"):
            _, real, sim, speed = spec.split(":")
            clock = SimClock(datetime.fromtimestamp(float(sim), UTC), float(speed))
            clock._anchor_real = float(real)
            if not math.isfinite(clock._anchor_real):
                raise ValueError(f"not a time: {real!r}")
            if not FIRST_YEAR <= clock.now().year <= LAST_YEAR:  # the anchors put now out of range
                raise ValueError(f"now would be {clock.now():%Y-%m-%d}")
            return clock
        when, _, speed = spec.partition("@")
        start = datetime.fromisoformat(when.replace("Z", "+00:00"))
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        return SimClock(start, float(speed) if speed else 1.0)
    except ConfigError as exc:
        raise ConfigError(f"AFC_CLOCK: {exc}") from None
    except (ValueError, OverflowError, OSError) as exc:  # a timestamp past the platform's time_t: OverflowError
        raise ConfigError(
            f"AFC_CLOCK: cannot read {spec!r} ({exc}); use 'system', an ISO time such as "
            "'2026-11-28T12:00:00Z', or '2026-11-28T12:00:00Z@60' for 60x speed"
        ) from None


def utc_day(moment: datetime) -> date:
    """The UTC calendar day of `moment` (the API's quota day)."""
    return moment.astimezone(UTC).date()


def next_utc_midnight(moment: datetime) -> datetime:
    """The next 00:00 UTC after `moment`: when the API resets the daily quota."""
    day = utc_day(moment) + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# The API's day may roll over a little after ours (its clock, or ours running fast): a process parked
# until "midnight" wakes this long after it, plus a random spread so hosts do not all ask at once.
MIDNIGHT_MARGIN = timedelta(seconds=30)
MIDNIGHT_JITTER_SECONDS = 30.0


def day_start(moment: datetime) -> datetime:
    """00:00 UTC of `moment`'s UTC day."""
    day = utc_day(moment)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def resume_after_midnight(moment: datetime) -> datetime:
    """When work parked for the rest of `moment`'s UTC day asks again: just after the next 00:00 UTC."""
    return next_utc_midnight(moment) + MIDNIGHT_MARGIN + timedelta(seconds=random.uniform(0, MIDNIGHT_JITTER_SECONDS))
