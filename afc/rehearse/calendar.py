"""The event calendar: when each unit of the rendered schedule fires over the rehearsal's days.

The units are the ones `afc systemd render` writes (`afc.ops.groups.timers`): each timer's
`OnCalendar` elapses in UTC, plus `RandomizedDelaySec` drawn from a seeded generator, as systemd does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from afc.config.jobs import JobConfig
from afc.config.ops import ops_config
from afc.config.schedule import expand_field
from afc.errors import ConfigError
from afc.ops.groups import Timer, timers


@dataclass(frozen=True)
class Firing:
    """One start of a unit: when (delay included), which timer, and the delay drawn."""

    at: datetime
    name: str
    delay: float
    timer: Timer


def elapses(timer: Timer, start: datetime, end: datetime) -> list[datetime]:
    """The times `timer`'s calendar elapses in [start, end), in UTC."""
    if timer.schedule.cron is None:
        raise ConfigError(f"afc-{timer.name}.timer: {timer.schedule.text!r} is a calendar: schedule; "
                          "rehearse replays cron-form schedules (keywords or 5 fields) only")
    minute, hour, dom, month, dow = (expand_field(f, i) for i, f in enumerate(timer.schedule.cron.split()))
    found = []
    day = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        if day.day in dom and day.month in month and (day.weekday() + 1) % 7 in dow:
            found += [day.replace(hour=h, minute=m) for h in sorted(hour) for m in sorted(minute)]
        day += timedelta(days=1)
    return [t for t in found if start <= t < end]


def firings(config: JobConfig, start: datetime, end: datetime, seed: int) -> list[Firing]:
    """Every unit start in [start, end) in time order, each delayed as RandomizedDelaySec would.

    Each delay is drawn for its own unit and time, so the first days of a longer run fire exactly as a
    shorter run from the same start does (one generator for the whole range shifted every later draw).
    """
    delay = ops_config(config).random_delay_seconds
    found = []
    for timer in timers(config):
        for at in elapses(timer, start, end):
            drawn = random.Random(f"{seed}:{timer.name}:{at.isoformat()}").uniform(0, delay) if delay else 0.0
            found.append(Firing(at + timedelta(seconds=drawn), timer.name, drawn, timer))
    return sorted(found, key=lambda f: (f.at, f.name))
