"""Schema drift: fields the API added, dropped or retyped, noticed while afc stores its answers.

Every stored response's items are compared with their endpoint's known shape (`afc/collect/drift/known/`);
each difference is recorded once per endpoint, path, kind and seen type in `ops.drift`, with the
first and last time it was seen, an example raw response and how many responses showed it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from afc.collect.drift.observer import Difference, differences
from afc.collect.drift.records import Drift, acknowledge, listing, record, unacknowledged, unknown_ids
from afc.collect.drift.shapes import shape_of
from afc.db import Database

__all__ = ["Difference", "Drift", "acknowledge", "differences", "found_in", "listing", "observe", "unacknowledged",
           "unknown_ids"]


def observe(db: Database, endpoint: str, items: Iterable[Any], raw_id: int | None, now: datetime) -> int:
    """Compare a response's items with the known shape and record what differs; returns how many differ."""
    found = found_in(endpoint, items)
    return record(db, endpoint, found, raw_id, now) if found else 0


def found_in(endpoint: str, items: Iterable[Any]) -> set[Difference]:
    """How a response's items differ from the known shape, without a statement (the step computes it while
    PostgreSQL archives the response, and records it after)."""
    shape = shape_of(endpoint)
    if shape is None:
        return set()  # afc knows no shape for this endpoint: nothing to compare with
    return differences(shape, items)
