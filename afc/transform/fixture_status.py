"""Fixture status codes: normalised (`Canc` → `CANC`) and grouped as the API reference groups them."""

from __future__ import annotations

from typing import Any

UPCOMING = frozenset({"TBD", "NS"})
LIVE = frozenset({"1H", "HT", "2H", "ET", "BT", "P", "SUSP", "INT", "LIVE"})
FINISHED = frozenset({"FT", "AET", "PEN"})
VOID = frozenset({"PST", "CANC", "ABD", "AWD", "WO"})

GROUPS: dict[str, str] = {
    **dict.fromkeys(UPCOMING, "scheduled"),
    **dict.fromkeys(LIVE, "live"),
    **dict.fromkeys(FINISHED, "finished"),
    "PST": "postponed",
    "CANC": "cancelled",
    "ABD": "abandoned",
    "AWD": "not_played",
    "WO": "not_played",
}
GROUP_NAMES = ("scheduled", "live", "finished", "postponed", "cancelled", "abandoned", "not_played")


def normalise(short: Any) -> str | None:
    """The short code in upper case without spaces (`Canc` → `CANC`); None when absent."""
    if not isinstance(short, str) or not short.strip():
        return None
    return short.strip().upper()


def group(short: Any) -> str | None:
    """The group of a short code (`scheduled`, `live`, `finished`, ...); None for an unknown code."""
    code = normalise(short)
    return GROUPS.get(code) if code else None


def is_live(short: Any) -> bool:
    """Whether the code means the match is in play."""
    return normalise(short) in LIVE


def is_finished(short: Any) -> bool:
    """Whether the code means the match is over with a result (FT, AET, PEN)."""
    return normalise(short) in FINISHED
