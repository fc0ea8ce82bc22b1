"""Pure transforms: an API response's items in, core rows out (see `afc.transform.model.Batch`).

Each endpoint with a transform registers one function. An item function is called per item and
a failing item is quarantined; a response function sees every item at once (for sets that must be
replaced as a whole). Endpoints without a transform are kept in raw only.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from afc.errors import ItemInvalid
from afc.transform.model import Batch
from afc.words import kind

ItemFn = Callable[[Any, Mapping[str, str], Batch], None]


@dataclass(frozen=True)
class Transform:
    """How one endpoint's answer becomes rows."""

    fn: ItemFn
    whole: bool  # True: fn gets the whole `response` list as one item
    objects: bool = True  # each item is a JSON object (all but /timezone's names)
    # run once after the items, when none was quarantined: what the request names but the answer left out
    after: Callable[[Mapping[str, str], Batch], None] | None = None


REGISTRY: dict[str, Transform] = {}
# What a malformed item can raise inside a transform; anything else is a bug and propagates.
ITEM_ERRORS = (ItemInvalid, KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError)


def item(*endpoints: str, objects: bool = True) -> Callable[[ItemFn], ItemFn]:
    """Register `fn(item, params, batch)` for each item of these endpoints (JSON objects, unless `objects` is False)."""

    def register(fn: ItemFn) -> ItemFn:
        for endpoint in endpoints:
            REGISTRY[endpoint] = Transform(fn, whole=False, objects=objects)
        return fn

    return register


def response(*endpoints: str) -> Callable[[ItemFn], ItemFn]:
    """Register `fn(items, params, batch)` for the whole response of these endpoints."""

    def register(fn: ItemFn) -> ItemFn:
        for endpoint in endpoints:
            REGISTRY[endpoint] = Transform(fn, whole=True)
        return fn

    return register


def after(endpoint: str) -> Callable[[Callable[[Mapping[str, str], Batch], None]],
                                      Callable[[Mapping[str, str], Batch], None]]:
    """Register `fn(params, batch)` to run after `endpoint`'s items (registered before it) were transformed."""

    def register(fn: Callable[[Mapping[str, str], Batch], None]) -> Callable[[Mapping[str, str], Batch], None]:
        REGISTRY[endpoint] = replace(REGISTRY[endpoint], after=fn)
        return fn

    return register


# Importing these modules registers their transforms.
MODULES = ("reference", "fixtures", "standings", "players", "matchday", "odds_live")


def _load() -> None:
    if not _loaded:
        for name in MODULES:
            importlib.import_module(f"afc.transform.{name}")
        _loaded.append(True)


_loaded: list[bool] = []


def has_transform(endpoint: str) -> bool:
    """Whether `endpoint` lands in core (otherwise it is kept in raw only)."""
    _load()
    return endpoint in REGISTRY


def run(endpoint: str, params: Mapping[str, str], items: list[Any]) -> Batch:
    """Transform one response's items; bad items are quarantined, the rest kept."""
    _load()
    batch = Batch()
    transform = REGISTRY.get(endpoint)
    if transform is None:
        return batch
    units = [items] if transform.whole else items
    objects = transform.objects and not transform.whole
    for index, unit in enumerate(units):
        if objects and type(unit) is not dict:  # else its reason would be Python's ("'str' object has no attribute")
            batch.quarantine(index, unit, f"an item must be a JSON object, got {kind(unit)}")
            continue
        try:
            transform.fn(unit, params, batch)
            batch.commit_item()
        except ITEM_ERRORS as exc:
            reason = str(exc) if isinstance(exc, ItemInvalid) else f"{type(exc).__name__}: {exc}"
            batch.quarantine(index, unit, reason[:500])
    if transform.after is not None and not batch.quarantined:  # a bad item may be what it would call missing
        transform.after(params, batch)
        batch.commit_item(counted=False)
    return batch
