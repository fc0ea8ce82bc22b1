"""Reading API values: required ids, the API's string-typed numbers, timestamps, dates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from afc.errors import ItemInvalid

_NUMBER = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*%?\s*$")


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
    value = path(item, *keys)
    if isinstance(value, bool) or value is None:
        raise ItemInvalid(f"{'.'.join(keys)}: required integer, got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ItemInvalid(f"{'.'.join(keys)}: required integer, got {value!r}") from None


def req_text(item: Any, *keys: str) -> str:
    """A required non-empty string."""
    value = path(item, *keys)
    if not isinstance(value, str) or not value.strip():
        raise ItemInvalid(f"{'.'.join(keys)}: required text, got {value!r}")
    return value


def opt_int(value: Any) -> int | None:
    """An optional integer; numeric strings ("12") are read, anything else is None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    number = opt_num(value)
    return int(number) if number is not None and number == int(number) else None


def opt_num(value: Any) -> float | None:
    """An optional number from 57, 6.3, "6.3", "57%" or "1.87"; anything else is None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        match = _NUMBER.match(value)
        return float(match[1]) if match else None
    return None


def opt_text(value: Any) -> str | None:
    """An optional string: numbers are rendered, empty strings become None."""
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
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
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None


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
