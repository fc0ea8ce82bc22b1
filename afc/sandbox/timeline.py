"""The clock of one match: which status, elapsed minute and added minute it shows at time t.

A match runs 1H (45 + added) → HT (15 min) → 2H (45 + added) → FT; a decisive match level after
90 minutes adds BT (5 min) → ET (15 + added, 2 min break, 15 + added) → BT (3 min) → P (12 min)
→ AET or PEN. Everything is in seconds from kickoff, so a fast clock plays a match in minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from afc.sandbox.outcome import Outcome
from afc.sandbox.schedule import Fixture

NO_LIVESCORE_DELAY = 3 * 3600  # leagues without livescore stay NS, then jump to the result


@dataclass(frozen=True)
class Phase:
    """The status line of a fixture at one moment, and until when it holds."""

    short: str
    elapsed: int | None
    extra: int | None
    clock: float | None  # seconds of match played (for events); None before kickoff
    date: datetime  # the kickoff the API shows now (the old one while postponed)
    first: int | None  # periods.first
    second: int | None  # periods.second
    until: datetime | None  # when this answer can next change; None: never


class Timeline:
    """Period boundaries of one match, in seconds from kickoff."""

    def __init__(self, outcome: Outcome):
        a1, a2 = outcome.added
        self.outcome = outcome
        self.h1_end = (45 + a1) * 60
        self.h2_start = self.h1_end + 15 * 60
        self.h2_end = self.h2_start + (45 + a2) * 60
        self.et1_start = self.h2_end + 5 * 60
        self.et1_end = self.et1_start + (15 + outcome.et_added[0]) * 60
        self.et2_start = self.et1_end + 2 * 60
        self.et2_end = self.et2_start + (15 + outcome.et_added[1]) * 60
        self.p_start = self.et2_end + 3 * 60
        self.end = self.h2_end
        if outcome.extra_time:
            self.end = self.p_start + 12 * 60 if outcome.shootout else self.et2_end
        self.stop = self.offset(outcome.abandoned_at, None) - 30 if outcome.abandoned_at else None

    def offset(self, minute: int, extra: int | None) -> float:
        """Seconds after kickoff at which something that happened at `minute`+`extra` is seen."""
        starts = ((45, 1, 0), (90, 46, self.h2_start), (105, 91, self.et1_start), (120, 106, self.et2_start))
        for last, first, start in starts:
            if minute <= last:
                return start + (minute - first + (extra or 0)) * 60 + 30
        return self.end

    def final_status(self) -> tuple[str, int, int | None]:
        """FT / AET / PEN with the elapsed and added minute the API shows for it."""
        if not self.outcome.extra_time:
            return "FT", 90, self.outcome.added[1]
        return ("PEN" if self.outcome.shootout else "AET"), 120, None

    def status(self, clock: float) -> tuple[str, int | None, int | None, float]:
        """(short, elapsed, extra, next boundary) at `clock` seconds after kickoff, before the end."""
        playing = ((self.h1_end, 0, "1H", 1, 45), (self.h2_start, None, "HT", 45, 0),
                   (self.h2_end, self.h2_start, "2H", 46, 90), (self.et1_start, None, "BT", 90, 0),
                   (self.et1_end, self.et1_start, "ET", 91, 105), (self.et2_start, None, "BT", 105, 0),
                   (self.et2_end, self.et2_start, "ET", 106, 120), (self.p_start, None, "BT", 120, 0))
        for end, start, short, first, last in playing:
            if clock < end:
                if start is None:
                    return short, first, None, end
                minute = first + int((clock - start) // 60)
                boundary = min(end, start + (minute - first + 1) * 60)
                return (short, minute, None, boundary) if minute <= last else (short, last, minute - last, boundary)
        return "P", 120, None, self.end


def _stamp(moment: datetime) -> int:
    return int(moment.timestamp())


def _before_kickoff(fx: Fixture, t: datetime) -> Phase | None:
    if fx.fate == "CANC" and fx.announced and t >= fx.announced:
        return Phase("CANC", None, None, None, fx.kickoff, None, None, None)
    if fx.fate == "PST" and fx.planned and fx.announced and fx.resolved and t < fx.resolved:
        if t < fx.announced:
            return Phase("NS", None, None, None, fx.planned, None, None, fx.announced)
        return Phase("PST", None, None, None, fx.planned, None, None, fx.resolved)
    if fx.fate == "TBD" and fx.announced and t < fx.announced:
        midnight = fx.kickoff.replace(hour=0, minute=0)
        return Phase("TBD", None, None, None, midnight, None, None, fx.announced)
    if t < fx.kickoff:
        return Phase("NS", None, None, None, fx.kickoff, None, None, fx.kickoff)
    return None


def phase(fx: Fixture, tl: Timeline, t: datetime, livescore: bool = True) -> Phase:
    """The fixture's status at `t` (see the module docstring for the timeline)."""
    waiting = _before_kickoff(fx, t)
    if waiting:
        return waiting
    kickoff, clock = fx.kickoff, (t - fx.kickoff).total_seconds()
    second = _stamp(kickoff) + tl.h2_start
    if not livescore and clock < NO_LIVESCORE_DELAY:
        return Phase("NS", None, None, None, kickoff, None, None, kickoff + timedelta(seconds=NO_LIVESCORE_DELAY))
    minute = tl.outcome.abandoned_at
    if tl.stop is not None and minute is not None and clock >= tl.stop:
        return Phase("ABD", minute, None, tl.stop, kickoff, _stamp(kickoff), second if minute > 45 else None, None)
    if clock >= tl.end or not livescore:
        return Phase(*tl.final_status(), math.inf, kickoff, _stamp(kickoff), second, None)
    short, elapsed, extra, boundary = tl.status(clock)
    until = kickoff + timedelta(seconds=min(boundary, tl.stop or boundary))
    return Phase(short, elapsed, extra, clock, kickoff, _stamp(kickoff), second if clock >= tl.h2_start else None,
                 until)


def finished_at(fx: Fixture, tl: Timeline, livescore: bool = True) -> datetime | None:
    """When the fixture reaches FT/AET/PEN, or None if it never does (cancelled, abandoned)."""
    if fx.fate in ("CANC", "ABD"):
        return None
    return fx.kickoff + timedelta(seconds=tl.end if livescore else NO_LIVESCORE_DELAY)
