"""The sandbox's own count of what it answered, per UTC day: by job group, per minute, refusals, faults.

A call is every request the sandbox answered on an endpoint the quota counts, its injected faults
included (a 500, a 429, a timeout or a dropped connection: the request reached it, and afc counts it as
sent, because the API may count it too). Only a refusal for the daily limit is no call: the ledger
then marks the day spent instead of counting it. So the count must equal what afc's ledger counted.

Only one simulated process runs at a time, so the call the sandbox is answering belongs to the
process that holds the turn: its group is `current()`.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from datetime import date, datetime

from afc.clock import utc_day
from afc.sandbox.endpoints import ROUTES
from afc.sandbox.faults import Faults
from afc.sandbox.server import Sandbox
from afc.sandbox.service import Reply, parse_target
from afc.sandbox.tiers import Quota

DAILY = "requests"  # the quota's reason for a refusal of the daily limit


class DayCount:
    """What the sandbox saw on one UTC day."""

    def __init__(self) -> None:
        self.calls = 0
        self.by_group: Counter = Counter()
        self.minutes: Counter = Counter()
        self.faults: Counter = Counter()
        self.spent_at: datetime | None = None  # when the last call of the daily limit was answered

    def peak_minute(self) -> int:
        """The most calls answered in one calendar minute."""
        return max(self.minutes.values(), default=0)


class Meter:
    """Counts, by the sandbox's clock, every call it answered, every refusal and every injected fault."""

    def __init__(self, sandbox: Sandbox, current: Callable[[], str]):
        self.sandbox, self.current = sandbox, current
        self.days: dict[date, DayCount] = defaultdict(DayCount)
        self._refused = threading.local()  # the quota's refusal of the request this thread answers, if any
        api = sandbox.api
        api.quota = _CountingQuota(self, api.quota)
        api.faults = _CountingFaults(self, api.faults)
        api.handle = self._counting(api.handle)  # type: ignore[method-assign]

    def day(self, when: date) -> DayCount:
        """The counts of `when` (empty when nothing happened)."""
        return self.days[when]

    def close_day(self, when: date) -> DayCount:
        """The counts of `when`, forgotten here: a measured day's minutes are not kept for the whole run."""
        return self.days.pop(when, DayCount())

    def _now(self) -> datetime:
        return self.sandbox.clock.now()

    def _counting(self, handle: Callable[[str, str, Mapping[str, str]], Reply]) -> Callable[..., Reply]:
        def counted(method: str, target: str, headers: Mapping[str, str]) -> Reply:
            self._refused.reason = None
            reply = handle(method, target, headers)
            endpoint = ROUTES.get(parse_target(target)[0])
            if (endpoint is None or endpoint.counted) and self._refused.reason != DAILY:
                self._count(self._now())
            return reply

        return counted

    def _count(self, now: datetime) -> None:
        count = self.day(utc_day(now))
        count.calls += 1
        count.by_group[self.current()] += 1
        count.minutes[now.replace(second=0, microsecond=0)] += 1


class _CountingQuota(Quota):
    def __init__(self, meter: Meter, inner: Quota):
        super().__init__(inner.daily, inner.per_minute, inner.enforce_minute)
        self.meter = meter

    def admit(self, now: datetime) -> str | None:
        refused = super().admit(now)
        self.meter._refused.reason = refused
        count = self.meter.day(utc_day(now))
        if refused:
            count.faults["refused_" + ("daily" if refused == DAILY else "minute")] += 1
        elif self.used_today(now) == self.daily:
            count.spent_at = now
        return refused


class _CountingFaults(Faults):
    def __init__(self, meter: Meter, inner: Faults):
        super().__init__()
        self.meter = meter
        self._rates, self._rng = inner._rates, inner._rng

    def pick(self) -> str | None:
        fault = super().pick()
        if fault and fault != "slow":
            self.meter.day(utc_day(self.meter._now())).faults[fault] += 1
        return fault
