"""Comparing items with their endpoint's known shape: added keys, missing keys, changed types.

The comparison of one object depends only on its node, its keys and its values' types, so its
outcome is cached per process: a season of fixtures has a handful of distinct object layouts,
and after the first item each object costs one tuple and a dict look-up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from afc.drift.shapes import Node, child_path, type_name

# (path, kind, expected type, seen type); kind is added, missing or type_changed
Difference = tuple[str, str, str | None, str]
Plan = tuple[tuple[Difference, ...], tuple[tuple[str, Node, bool], ...]]

_NONE = type(None)
_PLANS: dict[tuple[Any, ...], Plan] = {}
MAX_PLANS = 50_000  # odd data (keys that are values) must not grow the cache without bound
SAMPLE = 5  # elements of a nested array always compared in full


def differences(shape: Node, items: Iterable[Any]) -> set[Difference]:
    """The differences from `shape` that `items` show (each item is compared in full)."""
    found: set[Difference] = set()
    for entry in items:
        _value(shape, entry, found)
    return found


def _value(node: Node, value: Any, found: set[Difference]) -> None:
    kind = type(value)
    if kind is _NONE or node.accept is None:
        return  # null fits any type; a node only ever seen as null has no type to compare with
    if kind not in node.accept:
        found.add((node.path, "type_changed", node.expected, type_name(value)))
    elif kind is dict:
        _object(node, value, found, (node, *value, *map(type, value.values())))
    elif kind is list:
        _array(node, value, found)


def _array(node: Node, values: list[Any], found: set[Difference]) -> None:
    """Every element, except that past the first few an object is compared only when its layout is new.

    The arrays inside a detailed fixture (players, lineups, events) repeat one layout dozens of times;
    a change of the API's shows in the first elements, so the rest need not be walked.
    """
    element = node.items
    if element is None:
        return  # never saw an element: nothing to compare with
    layouts: set[tuple[Any, ...]] = set()
    for index, entry in enumerate(values):
        if type(entry) is not dict or element.accept is None or dict not in element.accept:
            _value(element, entry, found)
            continue
        signature = (element, *entry, *map(type, entry.values()))
        if index < SAMPLE or signature not in layouts:
            layouts.add(signature)
            _object(element, entry, found, signature)


def _object(node: Node, value: dict[str, Any], found: set[Difference], signature: tuple[Any, ...]) -> None:
    plan = _PLANS.get(signature)
    if plan is None:
        if len(_PLANS) >= MAX_PLANS:
            _PLANS.clear()
        plan = _PLANS[signature] = _plan(node, value)
    changes, nested = plan
    if changes:
        found.update(changes)
    for key, child, is_object in nested:
        sub = value[key]
        if is_object:
            _object(child, sub, found, (child, *sub, *map(type, sub.values())))
        else:
            _array(child, sub, found)


def _plan(node: Node, value: dict[str, Any]) -> Plan:
    """What an object with these keys and value types differs in, and which values to descend into."""
    changes: list[Difference] = []
    nested: list[tuple[str, Node, bool]] = []
    for key, sub in value.items():
        child = node.fields.get(key)
        kind = type(sub)
        if child is None:
            changes.append((child_path(node.path, key), "added", None, type_name(sub)))
        elif kind is _NONE or child.accept is None:
            continue
        elif kind not in child.accept:
            changes.append((child.path, "type_changed", child.expected, type_name(sub)))
        elif kind is dict or kind is list:
            nested.append((key, child, kind is dict))
    if not node.required <= value.keys():
        for key in sorted(node.required - value.keys()):
            child = node.fields[key]
            changes.append((child.path, "missing", child.expected, "absent"))
    return tuple(changes), tuple(nested)
