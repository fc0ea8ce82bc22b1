"""Result rows as JSON for assistants: capped in rows, bytes and time, values made JSON-safe."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any

DEFAULT_ROWS = 200
MAX_ROWS = 5000
DEFAULT_BYTES = 256 * 1024
DEFAULT_SECONDS = 5.0
MAX_VALUE_CHARS = 16_384
FETCH_BATCH = 200
FIRST_BATCH = 10


@dataclass(frozen=True)
class Limits:
    """How much one query may return and how long it may run."""

    rows: int = DEFAULT_ROWS
    bytes: int = DEFAULT_BYTES
    seconds: float = DEFAULT_SECONDS
    value_chars: int = MAX_VALUE_CHARS


@dataclass
class Collected:
    """The rows fetched so far, and why fetching stopped (None: the result ended)."""

    rows: list[list[Any]] = field(default_factory=list)
    stopped: str | None = None
    clipped: int = 0


def collect(fetch: Callable[[int], list[Any]], limits: Limits, deadline: float,
            before_fetch: Callable[[float], None] | None = None, batch: int = FETCH_BATCH) -> Collected:
    """Fetch rows in batches until the result ends or a row, byte or time limit is reached."""
    out, size = Collected(), 2
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            out.stopped = f"time limit {limits.seconds:g} s reached after {len(out.rows)} rows"
            return out
        if before_fetch is not None:
            before_fetch(left)  # each fetch may only use the time left, the first one too
        rows = fetch(_next_batch(out, size, limits, batch))
        if not rows:
            return out
        for raw in rows:
            if len(out.rows) == limits.rows:
                out.stopped = f"row limit {limits.rows} reached; more rows exist"
                return out
            row = [json_value(v, limits.value_chars, out) for v in raw]
            size += len(json.dumps(row, ensure_ascii=False, default=str)) + 1
            if size > limits.bytes:
                out.stopped = f"byte limit {limits.bytes} reached after {len(out.rows)} rows"
                return out
            out.rows.append(row)


def _next_batch(out: Collected, size: int, limits: Limits, batch: int) -> int:
    """Rows to ask for next: no more than the byte cap can still hold at the size seen so far,
    so the database does not build rows that would be thrown away (a small first batch)."""
    wanted = min(batch, limits.rows + 1 - len(out.rows))
    if not out.rows:
        return max(1, min(wanted, FIRST_BATCH))
    per_row = max(1, (size - 2) // len(out.rows))
    return max(1, min(wanted, (limits.bytes - size) // per_row + 1))


def json_value(value: Any, max_chars: int, out: Collected) -> Any:
    """A database value as JSON: ISO dates, numbers for decimals, hex for bytes, clipped text."""
    kind = type(value)
    if kind is str:
        return value if len(value) <= max_chars else _clip(value, len(value), max_chars, out)
    if value is None or kind is int or kind is bool:
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, Decimal):
        if value.is_finite() and value == value.to_integral_value() and abs(value) < 2**53:
            return int(value)
        number = float(value) if value.is_finite() else None
        # past a float's range (numeric goes to 1e131071) a number would be JSON's invalid `Infinity`
        return number if number is not None and math.isfinite(number) else str(value)
    if isinstance(value, (datetime, date, dtime)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _clip("\\x" + bytes(value[: max_chars]).hex(), len(value) * 2 + 2, max_chars, out)
    if isinstance(value, (dict, list, tuple)):
        converted = _json_container(value, max_chars, out)
        text = json.dumps(converted, ensure_ascii=False)
        return converted if len(text) <= max_chars else _clip(text, len(text), max_chars, out)
    text = value if isinstance(value, str) else str(value)
    return _clip(text, len(text), max_chars, out)


def _json_container(value: Any, max_chars: int, out: Collected) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_container(v, max_chars, out) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_container(v, max_chars, out) for v in value]
    return json_value(value, max_chars, out)


def _clip(text: str, full_length: int, max_chars: int, out: Collected) -> str:
    if full_length <= max_chars and len(text) <= max_chars:
        return text
    if _clipped_by_the_database(text, max_chars):
        out.clipped += 1
        return text
    out.clipped += 1
    return text[:max_chars] + clip_marker(full_length)


def clip_marker(full_length: int) -> str:
    """What follows a clipped value: how long it really was."""
    return f"…[clipped: {full_length} characters]"


def _clipped_by_the_database(text: str, max_chars: int) -> bool:
    """PostgreSQL clips long values server-side (afc.mcp.readonly) with the same marker as `_clip`."""
    at = text.rfind("…[clipped: ")
    return 0 <= at <= max_chars and len(text) - at <= 40 and text.endswith(" characters]")
