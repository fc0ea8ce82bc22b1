"""The names /timezone returns: the IANA zones of the usual areas, as the real API lists them."""

from __future__ import annotations

import zoneinfo

AREAS = ("Africa/", "America/", "Antarctica/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Indian/", "Pacific/")
FALLBACK = ("Africa/Abidjan", "America/New_York", "Asia/Tokyo", "Asia/Seoul", "Australia/Sydney", "Europe/Amsterdam",
            "Europe/London", "Europe/Madrid", "Europe/Paris", "Pacific/Auckland")


def _zones() -> tuple[str, ...]:
    names = sorted(n for n in zoneinfo.available_timezones() if n.startswith(AREAS))
    return (*(names or FALLBACK), "UTC")


TIMEZONES: tuple[str, ...] = _zones()
TIMEZONE_SET = frozenset(TIMEZONES)
