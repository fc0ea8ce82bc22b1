"""The quota-adaptive interval: can today's remaining calls sustain polling every `interval`?

The remaining in-play time of today's scheduled tracked fixtures (each from `lead` before kickoff to
`match_length` after it, overlapping matches merged, clipped to now and the next UTC midnight)
divided by the interval is the number of live calls the day still needs. When the quota available
to CRITICAL work cannot cover that plus the details fetches, the interval is lengthened to fit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

DETAILS_PER_CALL = 20  # /fixtures?ids= takes at most 20 fixtures


@dataclass(frozen=True)
class Budget:
    """What the rest of the day needs and what the loop will do about it."""

    seconds: float  # in-play time left today, overlaps merged
    calls: int  # live calls needed at the base interval, plus details fetches
    available: int  # calls CRITICAL work may still make today
    interval: int  # the interval to poll at: the base one, or longer when the quota is short


def merged_seconds(windows: Iterable[tuple[datetime, datetime]], start: datetime, end: datetime) -> float:
    """Total length of the union of `windows`, clipped to [start, end)."""
    total, reach = 0.0, start
    for lo, hi in sorted(windows):
        lo, hi = max(lo, reach), min(hi, end)
        if hi > lo:
            total += (hi - lo).total_seconds()
            reach = hi
    return total


def windows(kickoffs: Iterable[datetime], lead: int, length: int) -> list[tuple[datetime, datetime]]:
    """Each fixture's polling window: `lead` before kickoff to `length` after it."""
    return [(k - timedelta(seconds=lead), k + timedelta(seconds=length)) for k in kickoffs]


def details_calls(fixtures: int) -> int:
    """The ids= calls to fetch `fixtures` finished fixtures' details twice (at full time, and the re-check)."""
    return 2 * math.ceil(fixtures / DETAILS_PER_CALL)


def plan(seconds: float, fixtures: int, available: int, base: int) -> Budget:
    """The interval that lets `available` calls cover `seconds` of play and the details of `fixtures`."""
    live_calls = math.ceil(seconds / base)
    needed = live_calls + details_calls(fixtures)
    spare = available - details_calls(fixtures)
    if needed <= available or seconds <= 0:
        return Budget(seconds, needed, available, base)
    interval = math.ceil(seconds / spare) if spare > 0 else math.ceil(seconds)
    return Budget(seconds, needed, available, max(base, interval))
