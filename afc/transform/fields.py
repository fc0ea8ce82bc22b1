"""Reading API values: required ids, the API's string-typed numbers, timestamps, dates."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Any

from afc.errors import ItemInvalid

_NUMBER = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*%?\s*$")
INT_MAX = 2**31 - 1  # core's integer columns: anything wider is not a real id or count


def path(item: Any, *keys: str) -> Any:
    """`item[k1][k2]...`, or None when any level is missing or null."""
    value = item
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def req_int(item: Any, *keys: str) -> int:
    """A required integer (an id): missing, null or not a number quarantines the item."""
    if len(keys) == 1:  # an id next to its object, as most are: no walk, and an int is the common case
        value = item.get(keys[0]) if isinstance(item, dict) else None
        if type(value) is int and -INT_MAX <= value <= INT_MAX:
            return value
    else:
        value = path(item, *keys)
    if isinstance(value, bool) or value is None:
        raise ItemInvalid(f"{'.'.join(keys)}: required integer, got {value!r}")
    number = opt_int(value)
    if number is None:
        raise ItemInvalid(f"{'.'.join(keys)}: required integer, got {value!r}")
    return number


def req_text(item: Any, *keys: str) -> str:
    """A required non-empty string."""
    value = path(item, *keys)
    if not isinstance(value, str) or not value.strip():
        raise ItemInvalid(f"{'.'.join(keys)}: required text, got {value!r}")
    return value


def req_list(item: Any, *keys: str) -> list[Any]:
    """A list whose emptiness empties a stored scope: only a JSON list (possibly []) says "none"; null or another
    kind is an item afc cannot read (quarantined), never an empty squad or feed."""
    value = path(item, *keys)
    if not isinstance(value, list):
        shown = "null" if value is None else type(value).__name__
        raise ItemInvalid(f"{'.'.join(keys)}: required list, got {shown}")
    return value


def opt_int(value: Any) -> int | None:
    """An optional integer; numeric strings ("12") are read, anything else is None."""
    if type(value) is int:  # the common case first: this runs a dozen times per item
        return value if -INT_MAX <= value <= INT_MAX else None
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -INT_MAX <= value <= INT_MAX else None
    number = opt_num(value)
    if number is None or number != int(number) or abs(number) > INT_MAX:
        return None
    return int(number)


def opt_num(value: Any) -> float | None:
    """An optional number from 57, 6.3, "6.3", "57%" or "1.87"; anything else is None."""
    kind = type(value)
    if kind is int or kind is float:  # the common case first: statistics are mostly plain numbers
        number = float(value)
    elif value is None or kind is bool:
        return None
    elif isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and (match := _NUMBER.match(value)):
        number = float(match[1])
    else:
        return None
    return number if math.isfinite(number) and abs(number) < 1e15 else None


def opt_text(value: Any) -> str | None:
    """An optional string: numbers are rendered, empty strings become None."""
    if type(value) is str:
        text = value.strip()
    elif value is None or isinstance(value, (dict, list)):
        return None
    else:
        text = str(value).strip()
    if "\x00" in text:  # PostgreSQL text cannot hold NUL
        text = text.replace("\x00", "").strip()
    return text or None


def opt_bool(value: Any) -> bool | None:
    """An optional boolean (also "true"/"false")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def opt_date(value: Any) -> date | None:
    """An optional YYYY-MM-DD date."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def from_timestamp(value: Any) -> datetime | None:
    """Unix seconds as an aware UTC datetime."""
    seconds = opt_int(value)
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def from_iso(value: Any) -> datetime | None:
    """An ISO-8601 time with offset as UTC."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def season_of(params: dict[str, str]) -> int | None:
    """The `season` request parameter as an int."""
    return opt_int(params.get("season"))
