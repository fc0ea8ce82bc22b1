"""Fault profiles: the sandbox's fault rates, and for `harsh` one database outage and one kill -9 a day.

Times are drawn from a seeded generator inside the day's match hours, when they hurt most.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from afc.errors import ConfigError

TYPICAL = {"500": 0.002, "502": 0.001, "503": 0.002, "499": 0.0005, "timeout": 0.0005, "slow": 0.005,
           "malformed": 0.0005, "truncated": 0.0005, "bug": 0.0005, "429": 0.001}
HARSH = {"500": 0.02, "502": 0.01, "503": 0.02, "499": 0.005, "timeout": 0.005, "slow": 0.02,
         "malformed": 0.005, "truncated": 0.005, "bug": 0.005, "429": 0.01, "drop": 0.005}
PROFILES = {"none": {}, "typical": TYPICAL, "harsh": HARSH}
OUTAGE_MINUTES = 5
WINDOW = (12 * 3600, 21 * 3600)  # seconds after 00:00 UTC: the afternoon and evening matches


@dataclass(frozen=True)
class Disruption:
    """Something that happens to the hosts at a time: `kill` (the live loop, kill -9) or `outage`."""

    at: datetime
    kind: str
    minutes: int = 0


@dataclass(frozen=True)
class Profile:
    """A fault profile: the sandbox's rates and the day's disruptions."""

    name: str
    rates: dict[str, float] = field(default_factory=dict)

    def disruptions(self, day: datetime, seed: int) -> list[Disruption]:
        """The kill -9 and the database outage of `day` (harsh only)."""
        if self.name != "harsh":
            return []
        rng = random.Random(f"{seed}:{day.date().isoformat()}")
        kill = day + timedelta(seconds=rng.uniform(*WINDOW))
        outage = day + timedelta(seconds=rng.uniform(*WINDOW))
        return [Disruption(kill, "kill"), Disruption(outage, "outage", OUTAGE_MINUTES)]


def profile(name: str) -> Profile:
    """The profile called `name`, or a one-line error listing them."""
    if name not in PROFILES:
        raise ConfigError(f"--faults: must be one of {', '.join(PROFILES)}, got {name!r}")
    return Profile(name, dict(PROFILES[name]))
