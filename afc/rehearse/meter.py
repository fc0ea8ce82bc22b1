"""The sandbox's own count of what it answered, per UTC day: by job group, per minute, refusals, faults.

Only one simulated process runs at a time, so the call the sandbox is answering belongs to the
process that holds the turn: its group is `current()`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, datetime

from afc.clock import utc_day
from afc.sandbox.faults import Faults
from afc.sandbox.server import Sandbox
from afc.sandbox.tiers import Quota


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
    """Counts, by the sandbox's clock, every call it counted against the quota and every refusal."""

    def __init__(self, sandbox: Sandbox, current: Callable[[], str]):
        self.sandbox, self.current = sandbox, current
        self.days: dict[date, DayCount] = defaultdict(DayCount)
        api = sandbox.api
        api.quota = _CountingQuota(self, api.quota)
        api.faults = _CountingFaults(self, api.faults)

    def day(self, when: date) -> DayCount:
        """The counts of `when` (empty when nothing happened)."""
        return self.days[when]

    def close_day(self, when: date) -> DayCount:
        """The counts of `when`, forgotten here: a measured day's minutes are not kept for the whole run."""
        return self.days.pop(when, DayCount())

    def _now(self) -> datetime:
        return self.sandbox.clock.now()


class _CountingQuota(Quota):
    def __init__(self, meter: Meter, inner: Quota):
        super().__init__(inner.daily, inner.per_minute, inner.enforce_minute)
        self.meter = meter

    def admit(self, now: datetime) -> str | None:
        refused = super().admit(now)
        count = self.meter.day(utc_day(now))
        if refused:
            count.faults["refused_" + ("daily" if refused == "requests" else "minute")] += 1
            return refused
        count.calls += 1
        count.by_group[self.meter.current()] += 1
        count.minutes[now.replace(second=0, microsecond=0)] += 1
        if count.calls == self.daily:
            count.spent_at = now
        return None


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
