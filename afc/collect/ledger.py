"""The quota ledger: reserve before a call, settle from the API's headers after it.

Counts per account and UTC day (the API resets at 00:00 UTC) and per minute. `reserve` is one
conditional UPDATE inside a writer transaction, committed before the HTTP call, so any number of
processes on any number of hosts never grant more calls than the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast

from afc.clock import Clock, next_utc_midnight, utc_day
from afc.config.settings import PRIORITIES, Floors, Priority
from afc.db import Database, as_datetime
from afc.errors import QuotaExhausted

ENSURE_DAY = """
INSERT INTO ops.quota_days (account, day, daily_limit, used, updated_at)
VALUES (%(account)s, %(day)s, %(limit)s, 0, %(now)s)
ON CONFLICT (account, day) DO NOTHING"""
TAKE_DAY = """
UPDATE ops.quota_days SET used = used + 1, updated_at = %(now)s
WHERE account = %(account)s AND day = %(day)s AND exhausted_at IS NULL
  AND used + 1 <= daily_limit - (daily_limit * %(floor)s) / %(configured)s"""
ENSURE_MINUTE = """
INSERT INTO ops.quota_minutes (account, minute, minute_limit, used)
VALUES (%(account)s, %(minute)s, %(limit)s, 0)
ON CONFLICT (account, minute) DO NOTHING"""
TAKE_MINUTE = """
UPDATE ops.quota_minutes SET used = used + 1
WHERE account = %(account)s AND minute = %(minute)s AND used + 1 <= minute_limit"""
SETTLE_DAY = """
UPDATE ops.quota_days
SET daily_limit = CASE WHEN %(limit)s < daily_limit THEN %(limit)s ELSE daily_limit END,
    api_remaining = %(remaining)s,
    used = CASE WHEN used < %(floor_used)s THEN %(floor_used)s ELSE used END,
    updated_at = %(now)s
WHERE account = %(account)s AND day = %(day)s"""
SETTLE_MINUTE = """
UPDATE ops.quota_minutes SET used = CASE WHEN used < %(floor_used)s THEN %(floor_used)s ELSE used END
WHERE account = %(account)s AND minute = %(minute)s"""
EXHAUST = """
UPDATE ops.quota_days SET used = daily_limit, api_remaining = 0, exhausted_at = %(now)s, updated_at = %(now)s
WHERE account = %(account)s AND day = %(day)s"""
SHOW_DAY = """
SELECT daily_limit, used, api_remaining, exhausted_at FROM ops.quota_days
WHERE account = %(account)s AND day = %(day)s"""
SHOW_MINUTE = """
SELECT minute_limit, used FROM ops.quota_minutes WHERE account = %(account)s AND minute = %(minute)s"""


@dataclass(frozen=True)
class Reservation:
    """One call granted: for which day and minute, at what priority."""

    day: date
    minute: datetime
    priority: Priority


@dataclass(frozen=True)
class MinuteFull:
    """The per-minute budget is spent: try again at `retry_at`."""

    retry_at: datetime


@dataclass(frozen=True)
class QuotaStatus:
    """The ledger as `afc quota` shows it."""

    account: str
    day: date
    daily_limit: int
    used_today: int
    remaining_today: int
    api_remaining: int | None
    exhausted: bool
    minute_limit: int
    used_this_minute: int
    floors: dict[str, int]
    resets_at: datetime


class Ledger:
    """The shared quota ledger of one API account."""

    def __init__(self, db: Database, clock: Clock, *, account: str, daily_limit: int,
                 minute_limit: int, floors: Floors):
        self.db, self.clock, self.account = db, clock, account
        self.daily_limit, self.minute_limit, self.floors = daily_limit, minute_limit, floors

    def _keys(self, now: datetime) -> dict[str, object]:
        minute = now.replace(second=0, microsecond=0)
        return {"account": self.account, "day": utc_day(now), "minute": minute, "now": now}

    def reserve(self, priority: Priority) -> Reservation | MinuteFull:
        """Take one call for `priority`, or say to wait for the minute; raise when the day is spent."""
        now = self.clock.now()
        keys = self._keys(now)
        floor = getattr(self.floors, priority)
        with self.db.transaction():
            self.db.execute(ENSURE_DAY, keys | {"limit": self.daily_limit})
            self.db.execute(ENSURE_MINUTE, keys | {"limit": self.minute_limit})
            if not self.db.execute(TAKE_DAY, keys | {"floor": floor, "configured": max(1, self.daily_limit)}):
                raise self._denied(keys, priority, self.floor(priority, self._limit_today(keys)))
            if not self.db.execute(TAKE_MINUTE, keys):
                # Give the day's call back: this attempt waits for the next minute instead.
                self.db.execute("UPDATE ops.quota_days SET used = used - 1 WHERE account = %(account)s "
                                "AND day = %(day)s AND used > 0", keys)
                return MinuteFull(cast(datetime, keys["minute"]) + timedelta(minutes=1))
        return Reservation(keys["day"], keys["minute"], priority)  # type: ignore[arg-type]

    def floor(self, priority: Priority, limit_today: int) -> int:
        """The calls `priority` must leave today: the configured floor, scaled down when the API's
        limit (learned from its headers) is lower than the configured one."""
        return getattr(self.floors, priority) * limit_today // max(1, self.daily_limit)

    def _limit_today(self, keys: dict[str, object]) -> int:
        row = self.db.fetchone(SHOW_DAY, keys)
        return int(row[0]) if row else self.daily_limit

    def _denied(self, keys: dict[str, object], priority: Priority, floor: int) -> QuotaExhausted:
        resume = next_utc_midnight(keys["now"])  # type: ignore[arg-type]
        row = self.db.fetchone(SHOW_DAY, keys)
        if row is not None and row[3] is not None:
            why = "the API says the daily quota is spent"
        elif floor == 0:
            why = f"all {row[0] if row else self.daily_limit} calls of today are spent"
        else:
            why = f"{priority} work stops with {floor} calls left for higher priorities"
        return QuotaExhausted(f"quota: {why}; resumes at {resume:%Y-%m-%d %H:%M} UTC", resume_at=resume)

    def settle(self, reservation: Reservation, headers: dict[str, str]) -> None:
        """Lower the ledger to what the API's headers say (never raise remaining above them)."""
        keys = self._keys(self.clock.now()) | {"day": reservation.day, "minute": reservation.minute}
        day_limit = _int(headers.get("x-ratelimit-requests-limit"))
        remaining = _int(headers.get("x-ratelimit-requests-remaining"))
        if remaining is not None:
            limit = min(x for x in (day_limit, self.daily_limit) if x is not None)
            self.db.execute(SETTLE_DAY, keys | {"limit": limit, "remaining": remaining,
                                                "floor_used": max(0, limit - remaining)})
        minute_limit = _int(headers.get("x-ratelimit-limit"))
        minute_left = _int(headers.get("x-ratelimit-remaining"))
        if minute_left is not None:
            limit = min(x for x in (minute_limit, self.minute_limit) if x is not None)
            self.db.execute(SETTLE_MINUTE, keys | {"floor_used": max(0, limit - minute_left)})

    def exhaust(self, day: date) -> None:
        """The API said the day is spent: park every process until 00:00 UTC."""
        keys = self._keys(self.clock.now()) | {"day": day}
        with self.db.transaction():
            self.db.execute(ENSURE_DAY, keys | {"limit": self.daily_limit})
            self.db.execute(EXHAUST, keys)

    def status(self) -> QuotaStatus:
        """Used and left today and this minute, the floors, and when the day resets."""
        now = self.clock.now()
        keys = self._keys(now)
        day = self.db.fetchone(SHOW_DAY, keys) or (self.daily_limit, 0, None, None)
        minute = self.db.fetchone(SHOW_MINUTE, keys) or (self.minute_limit, 0)
        return QuotaStatus(
            self.account, keys["day"], day[0], day[1], max(0, day[0] - day[1]), day[2],  # type: ignore[arg-type]
            as_datetime(day[3]) is not None, minute[0], minute[1],
            {p: self.floor(p, day[0]) for p in PRIORITIES}, next_utc_midnight(now),
        )

    def available(self, priority: Priority) -> int:
        """Calls `priority` may still make today."""
        status = self.status()
        return max(0, status.daily_limit - status.used_today - status.floors[priority])


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
