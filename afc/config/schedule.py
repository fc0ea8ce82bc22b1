"""Job schedules (keywords, 5-field cron, `calendar:` specs) as systemd OnCalendar and cron lines.

Every schedule runs in UTC, because the API's day is UTC, and none may fire at (or, with the
timer's random delay, run into) 00:00 UTC: the quota resets then and everyone's cron fires.
Keywords therefore map to fixed times just after the reset, never on it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime

from afc.errors import ConfigError

KEYWORDS = {
    "minutely": "* * * * *",
    "hourly": "5 * * * *",
    "daily": "20 0 * * *",
    "weekly": "40 0 * * 1",
    "monthly": "0 1 1 * *",
    "quarterly": "20 1 1 1,4,7,10 *",
    "yearly": "40 1 1 1 *",
}
# (low, high) per cron field: minute, hour, day of month, month, day of week (0 and 7 are Sunday)
BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
WEEK = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # systemd's order for `a..b`
_ELAPSE = re.compile(r"(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC")


@dataclass(frozen=True)
class Schedule:
    """One schedule in every form afc renders it."""

    text: str  # as written in the job file
    cron: str | None  # 5-field cron (keywords mapped); None for `calendar:` specs
    calendar: str  # systemd OnCalendar value, in UTC
    period: int  # seconds between two runs, at most (health's staleness uses it)


def expand_field(text: str, index: int) -> set[int]:
    """The values a cron field matches (`*/15`, `1-5`, `0,30`, `10-50/20`)."""
    low, high = BOUNDS[index]
    values: set[int] = set()
    for part in text.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            start, stop = low, high
        elif "-" in base:
            start, stop = (int(x) for x in base.split("-"))
        else:
            start = int(base)
            stop = high if step else start
        if not (low <= start <= stop <= high):
            raise ValueError(f"field {index + 1} ({text!r}) is outside {low}-{high}")
        values.update(range(start, stop + 1, int(step) if step else 1))
    if index == 4 and 7 in values:
        values = (values - {7}) | {0}
    return values


def _compact(values: set[int], names: tuple[str, ...] | None = None) -> str:
    """Values as systemd writes them: runs of three or more as `a..b`, the rest by comma."""
    ordered, parts, i = sorted(values), [], 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        show = (lambda v: names[v]) if names else (lambda v: f"{v:02d}")
        if j - i >= 2:
            parts.append(f"{show(ordered[i])}..{show(ordered[j])}")
            i = j + 1
        else:
            parts.append(show(ordered[i]))
            i += 1
    return ",".join(parts)


def _gap(values: set[int], cycle: int) -> int:
    """The longest wait between two matching values in a cycle of `cycle` units."""
    ordered = sorted(values)
    gaps = [b - a for a, b in zip(ordered, ordered[1:], strict=False)] + [ordered[0] + cycle - ordered[-1]]
    return max(gaps)


def from_cron(text: str, cron: str) -> Schedule:
    """A 5-field cron expression as a Schedule."""
    fields = cron.split()
    try:
        minute, hour, dom, month, dow = (expand_field(f, i) for i, f in enumerate(fields))
    except ValueError as exc:
        raise ConfigError(f"schedule {text!r}: {exc}") from None
    if fields[2] != "*" and fields[4] != "*":
        raise ConfigError(f"schedule {text!r}: cron runs when day of month OR day of week match, "
                          "systemd when both do; restrict only one, or use 'calendar:<OnCalendar spec>'")
    full = [values == set(range(lo, hi + 1)) for values, (lo, hi) in
            zip((minute, hour, dom, month, dow), (*BOUNDS[:4], (0, 6)), strict=True)]
    days = "" if full[4] else _compact(dow, DAYS) + " "
    date = f"*-{'*' if full[3] else _compact(month)}-{'*' if full[2] else _compact(dom)}"
    clock = f"{'*' if full[1] else _compact(hour)}:{'*' if full[0] else _compact(minute)}:00"
    return Schedule(text, cron, f"{days}{date} {clock} UTC", _period(minute, hour, dom, month, dow, full))


def _period(minute: set[int], hour: set[int], dom: set[int], month: set[int], dow: set[int],
            full: list[bool]) -> int:
    if not full[3]:
        return _gap(month, 12) * 31 * 86400
    if not full[2]:
        return _gap(dom, 31) * 86400 if len(dom) > 1 else 31 * 86400
    if not full[4]:
        return _gap(dow, 7) * 86400
    if not full[1]:
        return _gap(hour, 24) * 3600
    return _gap(minute, 60) * 60


def parse(text: str) -> Schedule:
    """Any schedule a job or the `ops:` section may carry."""
    text = text.strip()
    if not re.fullmatch(r"[ -~]+", text):  # rendered into unit files and the crontab: one printable line
        raise ConfigError(f"schedule {text!r}: must be printable ASCII on one line")
    if text.startswith("calendar:"):
        return from_calendar(text)
    return from_cron(text, KEYWORDS.get(text, text))


def from_calendar(text: str) -> Schedule:
    """A `calendar:<OnCalendar spec>` schedule in afc's subset of the grammar, pinned to UTC; no external tool."""
    spec = text.removeprefix("calendar:").strip()
    fields = calendar_fields(spec, text)
    spec = spec if spec.endswith(" UTC") else spec + " UTC"
    minute, hour, dom, month, dow = fields.minute, fields.hour, fields.dom, fields.month, fields.dow
    full = [values == set(range(lo, hi + 1)) for values, (lo, hi) in
            zip((minute, hour, dom, month, dow), (*BOUNDS[:4], (0, 6)), strict=True)]
    return Schedule(text, None, spec, _period(minute, hour, dom, month, dow, full))


@dataclass(frozen=True)
class CalendarFields:
    """The values each field of an OnCalendar spec matches (day of week 0 = Sunday, as in cron)."""

    dow: set[int]
    month: set[int]
    dom: set[int]
    hour: set[int]
    minute: set[int]
    second: set[int]


# `[weekdays ]*-MM-DD |YYYY-MM-DD ]HH:MM[:SS][ UTC]`, each number field `*`, `n`, `a..b`, `n/step` or a
# comma list of them: a strict subset of systemd.time(7), so nothing else can reach a unit file.
_NUMBERS = r"(?:\*|\d{1,4}(?:\.\.\d{1,4}|/\d{1,3})?(?:,\d{1,4}(?:\.\.\d{1,4}|/\d{1,3})?)*)"
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_CALENDAR = re.compile(
    rf"(?:(?P<dow>{_DAY}(?:\.\.{_DAY})?(?:,{_DAY}(?:\.\.{_DAY})?)*) )?"
    rf"(?:(?P<year>{_NUMBERS})-(?P<month>{_NUMBERS})-(?P<dom>{_NUMBERS}) )?"
    rf"(?P<hour>{_NUMBERS}):(?P<minute>{_NUMBERS})(?::(?P<second>{_NUMBERS}))?(?: UTC)?")
CALENDAR_BOUNDS = {"month": (1, 12), "dom": (1, 31), "hour": (0, 23), "minute": (0, 59), "second": (0, 59)}


def calendar_fields(spec: str, text: str | None = None) -> CalendarFields:
    """Parse afc's OnCalendar subset; a one-line ConfigError for anything else (newlines, `;`, time zones...)."""
    match = _CALENDAR.fullmatch(spec)
    if match is None:
        raise ConfigError(f"schedule {text or spec!r}: not an OnCalendar spec afc accepts; use "
                          "'[Mon..Fri ][*-MM-DD ]HH:MM[:SS][ UTC]' with numbers, '*', 'a..b', 'n/step' or lists")
    try:
        if (match["year"] or "*") != "*":
            _calendar_values(match["year"], 1970, 9999)
        values = {name: _calendar_values(match[name] or ("0" if name == "second" else "*"), *bounds)
                  for name, bounds in CALENDAR_BOUNDS.items()}
        return CalendarFields(_weekdays(match["dow"]), **values)
    except ValueError as exc:
        raise ConfigError(f"schedule {text or spec!r}: {exc}") from None


def _calendar_values(text: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        base, _, step = part.partition("/")
        start, _, stop = base.partition("..")
        first = low if start == "*" else int(start)
        last = int(stop) if stop else high if step or start == "*" else first
        if not low <= first <= last <= high or (step and int(step) == 0):
            raise ValueError(f"{part!r} is outside {low}..{high}")
        values.update(range(first, last + 1, int(step) if step else 1))
    return values


def _weekdays(text: str | None) -> set[int]:
    if not text:
        return set(range(7))
    days: set[int] = set()
    for part in text.split(","):
        start, _, stop = part.partition("..")
        first, last = WEEK.index(start), WEEK.index(stop or start)
        if first > last:
            raise ValueError(f"{part!r} runs backwards; weeks start on Monday")
        days.update((day + 1) % 7 for day in range(first, last + 1))
    return days


def elapses(spec: str, count: int = 60) -> list[datetime]:
    """The next `count` times an OnCalendar spec fires (UTC), from systemd-analyze; [] without it."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        return []
    out = subprocess.run([tool, "calendar", f"--iterations={count}", spec], capture_output=True, text=True,
                         env={"TZ": "UTC", "PATH": "/usr/bin:/bin"}, check=False)
    if out.returncode != 0:
        reason = (out.stderr.strip().splitlines() or ["invalid"])[-1]
        raise ConfigError(f"schedule 'calendar:{spec}': systemd cannot read it ({reason})")
    return [datetime.fromisoformat(m + "+00:00") for m in _ELAPSE.findall(out.stdout)]


def midnight_clash(schedule: Schedule, delay_seconds: int) -> str | None:
    """Why `schedule` (plus up to `delay_seconds` of random delay) would run into 00:00 UTC, or None."""
    if schedule.cron is not None:
        fields = schedule.cron.split()
        moments = [(h, m) for h in expand_field(fields[1], 1) for m in expand_field(fields[0], 0)]
    else:
        spec = calendar_fields(schedule.calendar)
        moments = [(h, m) for h in spec.hour for m in spec.minute]
    for hour, minute in moments:
        start = hour * 3600 + minute * 60
        if start == 0 or start + delay_seconds >= 86400:
            return (f"fires at {hour:02d}:{minute:02d} UTC" + (f" (+ up to {delay_seconds}s random delay)"
                    if start else "") + ", when the API's daily quota resets; move it off midnight")
    return None


def checked(text: str, delay_seconds: int, where: str) -> Schedule:
    """Parse `text` and refuse it when it runs into 00:00 UTC; `where` names the file and job."""
    try:
        schedule = parse(text)
        clash = midnight_clash(schedule, delay_seconds)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if clash:
        raise ConfigError(f"{where}: {text!r} {clash}")
    return schedule
