"""The quota ledger: reserve before a call, settle from the API's headers after it.

Counts per account and UTC day (the API resets at 00:00 UTC) and per minute. `reserve` is one
conditional UPDATE inside a writer transaction, committed before the HTTP call, so any number of
processes on any number of hosts never grant more calls than the limit.

The midnight rule: the API's day may roll over a little after this host's 00:00 UTC (its clock, or
ours running fast; hosts sharing one ledger disagree by seconds). So in the first `grace` of a UTC
day an exhaustion answer parks the day row for a few minutes (`parked_until`) instead of marking the
whole day spent, and the headers of a call reserved then do not raise the new day's count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast

from afc.api.client import count
from afc.clock import Clock, day_start, next_utc_midnight, resume_after_midnight, utc_day
from afc.config.settings import PRIORITIES, Floors, Priority
from afc.db import Database, as_datetime
from afc.errors import QuotaExhausted
from afc.words import count_calls

ENSURE_DAY = """
INSERT INTO ops.quota_days (account, day, daily_limit, used, updated_at)
VALUES (%(account)s, %(day)s, %(limit)s, 0, %(now)s)
ON CONFLICT (account, day) DO NOTHING"""
TAKE_DAY = """
UPDATE ops.quota_days SET used = used + 1, updated_at = %(now)s
WHERE account = %(account)s AND day = %(day)s AND exhausted_at IS NULL
  AND (parked_until IS NULL OR parked_until <= %(now)s)
  AND used + 1 <= daily_limit - (daily_limit * %(floor)s) / %(configured)s"""
ENSURE_MINUTE = """
INSERT INTO ops.quota_minutes (account, minute, minute_limit, used)
VALUES (%(account)s, %(minute)s, %(limit)s, 0)
ON CONFLICT (account, minute) DO NOTHING"""
TAKE_MINUTE = """
UPDATE ops.quota_minutes SET used = used + 1
WHERE account = %(account)s AND minute = %(minute)s AND used + 1 <= minute_limit"""
SETTLE_LIMIT = """
UPDATE ops.quota_days SET daily_limit = %(limit)s, updated_at = %(now)s
WHERE account = %(account)s AND day = %(day)s"""
SETTLE_USED = """
UPDATE ops.quota_days
SET api_remaining = %(remaining)s,
    used = CASE WHEN used < daily_limit - %(remaining)s THEN daily_limit - %(remaining)s ELSE used END,
    updated_at = %(now)s
WHERE account = %(account)s AND day = %(day)s"""
# The API's per-minute limit bounds the rest of the minute, as its count does (it only lowers a minute's limit).
SETTLE_MINUTE = """
UPDATE ops.quota_minutes SET used = CASE WHEN used < %(floor_used)s THEN %(floor_used)s ELSE used END,
    minute_limit = CASE WHEN minute_limit > %(limit)s THEN %(limit)s ELSE minute_limit END
WHERE account = %(account)s AND minute = %(minute)s"""
EXHAUST = """
UPDATE ops.quota_days SET used = daily_limit, api_remaining = 0, exhausted_at = %(now)s, updated_at = %(now)s
WHERE account = %(account)s AND day = %(day)s"""
# The refused call was not billed (and may be the old day's answer): it is given back, not counted.
PARK = """
UPDATE ops.quota_days SET parked_until = %(until)s, used = CASE WHEN used > 0 THEN used - 1 ELSE 0 END,
    updated_at = %(now)s
WHERE account = %(account)s AND day = %(day)s"""
RELEASE_DAY = """
UPDATE ops.quota_days SET used = used - 1, updated_at = %(now)s
WHERE account = %(account)s AND day = %(day)s AND used > 0"""
RELEASE_MINUTE = """
UPDATE ops.quota_minutes SET used = used - 1 WHERE account = %(account)s AND minute = %(minute)s AND used > 0"""
SHOW_DAY = """
SELECT daily_limit, used, api_remaining, exhausted_at, parked_until FROM ops.quota_days
WHERE account = %(account)s AND day = %(day)s"""
SHOW_MINUTE = """
SELECT minute_limit, used FROM ops.quota_minutes WHERE account = %(account)s AND minute = %(minute)s"""


# The first minutes of a UTC day in which an exhaustion answer is taken for the API's old day.
MIDNIGHT_GRACE = timedelta(minutes=15)
# How long such an answer parks the day row before afc asks the API again.
MIDNIGHT_PARK = timedelta(minutes=2)


@dataclass(frozen=True)
class Reservation:
    """One call granted: for which day and minute, at what priority (`at`: when it was granted)."""

    day: date
    minute: datetime
    priority: Priority
    at: datetime | None = None

    @property
    def granted_at(self) -> datetime:
        """When the call was granted (its minute for reservations made without the exact time)."""
        return self.at or self.minute


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
    parked_until: datetime | None = None  # an exhaustion answer just after 00:00 UTC: asking again then


class Ledger:
    """The shared quota ledger of one API account.

    `daily_limit` is the configured limit (the plan's); the API's headers replace it on the day's row,
    up or down, unless `daily_cap` (an explicit AFC_DAILY_LIMIT) keeps afc below them.
    """

    def __init__(self, db: Database, clock: Clock, *, account: str, daily_limit: int,
                 minute_limit: int, floors: Floors, daily_cap: int | None = None,
                 grace: timedelta = MIDNIGHT_GRACE, park: timedelta = MIDNIGHT_PARK):
        self.db, self.clock, self.account = db, clock, account
        self.daily_limit, self.minute_limit, self.floors = daily_limit, minute_limit, floors
        self.daily_cap, self.grace, self.park = daily_cap, grace, park

    def _keys(self, now: datetime) -> dict[str, object]:
        minute = now.replace(second=0, microsecond=0)
        return {"account": self.account, "day": utc_day(now), "minute": minute, "now": now}

    def near_midnight(self, moment: datetime) -> bool:
        """Whether `moment` is in the first minutes of its UTC day, where the API may still count the old day."""
        return moment - day_start(moment) < self.grace

    def reserve(self, priority: Priority) -> Reservation | MinuteFull:
        """Take one call for `priority`, or say to wait for the minute; raise when the day is spent."""
        now = self.clock.now()
        keys = self._keys(now)
        floor = getattr(self.floors, priority)
        with self.db.transaction():
            self.db.execute(ENSURE_DAY, keys | {"limit": self.daily_limit})
            self.db.execute(ENSURE_MINUTE, keys | {"limit": self.minute_limit})
            if not self.db.execute(TAKE_DAY, keys | {"floor": floor, "configured": max(1, self.daily_limit)}):
                raise self._denied(keys, priority)
            if not self.db.execute(TAKE_MINUTE, keys):
                # Give the day's call back: this attempt waits for the next minute instead.
                self.db.execute(RELEASE_DAY, keys)
                return MinuteFull(cast(datetime, keys["minute"]) + timedelta(minutes=1))
        return Reservation(keys["day"], keys["minute"], priority, now)  # type: ignore[arg-type]

    def release(self, reservation: Reservation) -> None:
        """Give a granted call back: it never reached the API (e.g. the connection was refused)."""
        keys = self._keys(self.clock.now()) | {"day": reservation.day, "minute": reservation.minute}
        with self.db.transaction():
            self.db.execute(RELEASE_DAY, keys)
            self.db.execute(RELEASE_MINUTE, keys)

    def floor(self, priority: Priority, limit_today: int) -> int:
        """The calls `priority` must leave today: the configured floor, scaled to the API's limit
        (learned from its headers) when it differs from the configured one."""
        return getattr(self.floors, priority) * limit_today // max(1, self.daily_limit)

    def _denied(self, keys: dict[str, object], priority: Priority) -> QuotaExhausted:
        now: datetime = keys["now"]  # type: ignore[assignment]
        row = self.db.fetchone(SHOW_DAY, keys)
        parked = as_datetime(row[4]) if row else None
        if parked is not None and parked > now:
            return QuotaExhausted(f"quota: the API said the daily quota is spent just after 00:00 UTC (its old day, "
                                  f"likely); asking again at {parked:%H:%M:%S} UTC", resume_at=parked)
        resume = resume_after_midnight(now)
        limit, used = (int(row[0]), int(row[1])) if row else (self.daily_limit, 0)
        left = max(0, limit - used)  # what is really left, not the floor (they differ when headers lowered it)
        if row is not None and row[3] is not None:
            why = "the API says the daily quota is spent"
        elif left == 0:
            why = "the 1 call of today is spent" if limit == 1 else f"all {count_calls(limit)} of today are spent"
        else:
            why = f"{priority} work stops with {count_calls(left)} left for higher priorities"
        return QuotaExhausted(f"quota: {why}; resumes at {resume:%Y-%m-%d %H:%M} UTC", resume_at=resume)

    def settle(self, reservation: Reservation, headers: dict[str, str]) -> None:
        """Bring the ledger to the API's headers: its limit up or down, and its count where it is higher (on
        PostgreSQL, held for the transaction's next statement or its commit: one round trip with it).

        The count is not taken from a call granted in the first minutes of a UTC day: the API may
        still have been answering for the old day, whose usage must not land in the new day's row.
        """
        keys = self._keys(self.clock.now()) | {"day": reservation.day, "minute": reservation.minute}
        day_limit = count(headers.get("x-ratelimit-requests-limit"))
        remaining = count(headers.get("x-ratelimit-requests-remaining"))
        if day_limit is not None and day_limit >= 0:
            capped = min(day_limit, self.daily_cap) if self.daily_cap is not None else day_limit
            self.db.send(SETTLE_LIMIT, keys | {"limit": capped})
        if remaining is not None and not self.near_midnight(reservation.granted_at):
            self.db.send(SETTLE_USED, keys | {"remaining": max(0, remaining)})
        minute_limit = count(headers.get("x-ratelimit-limit"))
        minute_left = count(headers.get("x-ratelimit-remaining"))
        if minute_left is not None:
            limit = min(x for x in (minute_limit, self.minute_limit) if x is not None)
            self.db.send(SETTLE_MINUTE, keys | {"floor_used": max(0, limit - minute_left), "limit": max(0, limit)})

    def exhaust(self, reservation: Reservation | date, where: str = "quota", *,
                status: int | None = None) -> QuotaExhausted:
        """The API said the day is spent: park every process until just after 00:00 UTC — or, when the
        call was granted in the first minutes of a UTC day (the API's old day, likely), for a few minutes.
        Returns the error to raise, with when to ask again (a bare day counts as granted now)."""
        now = self.clock.now()
        if not isinstance(reservation, Reservation):
            reservation = Reservation(reservation, now.replace(second=0, microsecond=0), "CRITICAL", now)
        granted = reservation.granted_at
        keys = self._keys(now) | {"day": reservation.day}
        with self.db.transaction():
            self.db.execute(ENSURE_DAY, keys | {"limit": self.daily_limit})
            if self.near_midnight(granted) and utc_day(granted) == reservation.day:
                until = now + self.park
                self.db.execute(PARK, keys | {"until": until})
                after = int((granted - day_start(granted)).total_seconds())
                return QuotaExhausted(f"{where}: the API says the daily quota is spent, {after} s after 00:00 UTC "
                                      f"(its old day, likely); asking again at {until:%H:%M:%S} UTC",
                                      resume_at=until, status=status)
            self.db.execute(EXHAUST, keys)
        resume = resume_after_midnight(granted)
        return QuotaExhausted(f"{where}: the daily request limit is reached; resumes at {resume:%Y-%m-%d %H:%M} UTC",
                              resume_at=resume, status=status)

    def status(self) -> QuotaStatus:
        """Used and left today and this minute, the floors, when the day resets, and any short park."""
        now = self.clock.now()
        keys = self._keys(now)
        day = self.db.fetchone(SHOW_DAY, keys) or (self.daily_limit, 0, None, None, None)
        minute = self.db.fetchone(SHOW_MINUTE, keys) or (self.minute_limit, 0)
        parked = as_datetime(day[4])
        return QuotaStatus(
            self.account, keys["day"], day[0], day[1], max(0, day[0] - day[1]), day[2],  # type: ignore[arg-type]
            as_datetime(day[3]) is not None, minute[0], minute[1],
            {p: self.floor(p, day[0]) for p in PRIORITIES}, next_utc_midnight(now),
            parked if parked is not None and parked > now else None,
        )

    def available(self, priority: Priority) -> int:
        """Calls `priority` may still make today."""
        status = self.status()
        return max(0, status.daily_limit - status.used_today - status.floors[priority])

