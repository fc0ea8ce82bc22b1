"""Subscription tiers and the quota: the daily counter (reset at 00:00 UTC of the sandbox clock), a
sliding 60-second window for the per-minute limit, and the four rate-limit headers.

The API calls a tier a "plan" (`/status` shows `subscription.plan`, `SandboxConfig.plan` picks one);
in code it is a `Tier`, because a plan elsewhere in afc is a job's dry run or a backfill plan."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime

from afc.clock import utc_day


@dataclass(frozen=True)
class Tier:
    """An API-Football subscription: its name as /status shows it and its limits."""

    name: str
    daily: int
    per_minute: int


TIERS = {
    "free": Tier("Free", 100, 10),
    "pro": Tier("Pro", 7_500, 300),
    "ultra": Tier("Ultra", 75_000, 450),
    "mega": Tier("Mega", 150_000, 900),
}
DAILY_MESSAGE = ("You have reached the request limit for the day, Go to https://dashboard.api-football.com "
                 "to upgrade your plan.")
DAILY_429_MESSAGE = ("Too many requests. You have reached your daily request limit. Please try again later or "
                     "upgrade your plan.")
MINUTE_429_MESSAGE = ("Too many requests. You have reached your per-minute request limit. Please try again later "
                      "or upgrade your plan.")


def minute_message(limit: int) -> str:
    """The `errors.rateLimit` text of the 200 per-minute rejection."""
    return f"Too many requests. Your rate limit is {limit} requests per minute."


class Quota:
    """One account's usage; every method takes the sandbox clock's now."""

    def __init__(self, daily: int, per_minute: int, enforce_minute: bool = True):
        self.daily = daily
        self.per_minute = per_minute
        self.enforce_minute = enforce_minute
        self._lock = threading.Lock()
        self._day: date | None = None
        self._used = 0
        self._window: deque[float] = deque()

    def _roll(self, now: datetime) -> None:
        day, stamp = utc_day(now), now.timestamp()
        if day != self._day:
            self._day, self._used = day, 0
        while self._window and self._window[-1] > stamp:  # the clock was moved back
            self._window.pop()
        while self._window and self._window[0] <= stamp - 60:
            self._window.popleft()

    def admit(self, now: datetime) -> str | None:
        """Count one call, or say why not: "requests" (daily) or "rateLimit" (per minute)."""
        with self._lock:
            self._roll(now)
            if self._used >= self.daily:
                return "requests"
            if self.enforce_minute and len(self._window) >= self.per_minute:
                return "rateLimit"
            self._used += 1
            self._window.append(now.timestamp())
            return None

    def headers(self, now: datetime) -> list[tuple[str, str]]:
        """The four rate-limit headers as of `now` (the minute window is not enforced: it stays full)."""
        with self._lock:
            self._roll(now)
            minute_left = self.per_minute - len(self._window) if self.enforce_minute else self.per_minute
            return [("x-ratelimit-requests-limit", str(self.daily)),
                    ("x-ratelimit-requests-remaining", str(max(0, self.daily - self._used))),
                    ("X-RateLimit-Limit", str(self.per_minute)),
                    ("X-RateLimit-Remaining", str(max(0, minute_left)))]

    def used_today(self, now: datetime) -> int:
        """Calls counted on the sandbox clock's current UTC day."""
        with self._lock:
            self._roll(now)
            return self._used

    def set_used(self, now: datetime, used: int) -> None:
        """Pretend `used` calls were already made today (to test a nearly spent quota)."""
        with self._lock:
            self._roll(now)
            self._used = used
