"""Range checks shared by every command-line and config number: durations, ids, counts.

An out-of-range value is refused where it is parsed, in one line naming the option, so nothing
downstream meets an OverflowError (timedelta, datetime, sleep) or a PostgreSQL integer overflow.
"""

from __future__ import annotations

import math
import re

from afc.errors import ConfigError

MAX_ID = 2**31 - 1  # ids live in PostgreSQL integer columns
FIRST_SEASON, LAST_SEASON = 1900, 2199  # a season's start year (the MCP tools' and `afc history`'s range too)
MAX_DAYS = 36500  # a century: more is a typo, and datetime arithmetic overflows not far beyond
MAX_SECONDS = MAX_DAYS * 86400
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"\s*([0-9]{1,12})\s*([smhd]?)\s*")


def duration_seconds(value: object, *, default_unit: str = "s", units: str = "smhd", minimum: int = 0,
                     maximum: int = MAX_SECONDS) -> int:
    """Seconds from an int or a string such as `90s`, `15m`, `6h`, `90d`; ValueError outside [minimum, maximum]."""
    shown = [f"{n}{u}" for n, u in (("90", "s"), ("15", "m"), ("6", "h"), ("90", "d")) if u in units]
    examples = " or ".join(filter(None, [", ".join(shown[:-1]), shown[-1]]))
    match = None if isinstance(value, bool) else _DURATION.fullmatch(str(value))
    unit = (match[2] or default_unit) if match else ""
    if match is None or not unit or unit not in units:
        raise ValueError(f"must be a duration such as {examples}, got {value!r}")
    seconds = int(match[1]) * UNIT_SECONDS[unit]
    if not minimum <= seconds <= maximum:
        raise ValueError(f"must be between {_spoken(minimum, units)} and {_spoken(maximum, units)}, got {value!r}")
    return seconds


def _spoken(seconds: int, units: str) -> str:
    for unit in "dhms":
        if unit in units and seconds % UNIT_SECONDS[unit] == 0:
            return f"{seconds // UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


def option_duration(option: str, text: str, **limits: int | str) -> int:
    """`duration_seconds` for a command-line option: a ConfigError (exit 2) naming the option."""
    try:
        return duration_seconds(text, **limits)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}") from None


def check_number(option: str, value: float, low: float, high: float) -> float:
    """`value` when it lies in [low, high] (NaN and infinity never do); a ConfigError naming the option otherwise."""
    if isinstance(value, float) and not math.isfinite(value) or not low <= value <= high:
        raise ConfigError(f"{option}: must be between {low} and {high}, got {value}")
    return value


def league_id(option: str, word: str) -> int:
    """A league (or team, fixture) id typed by a person: ASCII digits, 1 to MAX_ID."""
    if not re.fullmatch(r"[0-9]{1,10}", word) or not 1 <= int(word) <= MAX_ID:
        raise ConfigError(f"{option}: must be a league id such as 39 (1 to {MAX_ID}), got {word!r}")
    return int(word)


def known_names(values: list[str], known: tuple[str, ...], noun: str) -> list[str]:
    """`values` when every one is in `known`; else a ValueError naming the first stranger and the known ones."""
    for value in values:
        if value not in known:
            raise ValueError(f"unknown {noun} {value!r}; known: {', '.join(known)}")
    return values
