"""Comparing items with their endpoint's known shape: added keys, missing keys, changed types.

The comparison of one object depends only on its node, its keys and its values' types, so its
outcome is cached per process: a season of fixtures has a handful of distinct object layouts,
and after the first item each object costs one tuple and a dict look-up. Long arrays (a response's
items, a team's players) are walked in full for a sample of their elements (`_elements`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from afc.collect.drift.shapes import Node, child_path, type_name

# (path, kind, expected type, seen type); kind is added, missing or type_changed
Difference = tuple[str, str, str | None, str]
Plan = tuple[tuple[Difference, ...], tuple[tuple[str, Node, bool], ...]]

_NONE = type(None)
_PLANS: dict[tuple[Any, ...], Plan] = {}
MAX_PLANS = 50_000  # odd data (keys that are values) must not grow the cache without bound
SAMPLE = 5  # the first elements of an array (and the first items of a response), compared in full
STRIDE = 5  # past those, every STRIDE-th element too


def differences(shape: Node, items: Iterable[Any]) -> set[Difference]:
    """The differences from `shape` that a response's `items` show (see `_elements` for which are walked)."""
    found: set[Difference] = set()
    _elements(shape, items, found)
    return found


def _value(node: Node, value: Any, found: set[Difference]) -> None:
    kind = type(value)
    if kind is _NONE or node.accept is None:
        return  # null fits any type; a node only ever seen as null has no type to compare with
    if kind not in node.accept:
        found.add((node.path, "type_changed", node.expected, type_name(value)))
    elif kind is dict:
        _object(node, value, found, (node, *value, *map(type, value.values())))
    elif kind is list and node.items is not None:  # no element ever seen: nothing to compare with
        _elements(node.items, value, found)


def _elements(element: Node, values: Iterable[Any], found: set[Difference]) -> None:
    """Every element's own keys and types; its contents in full for the first few, every STRIDE-th,
    and any element whose layout (keys and value types) is new in this array.

    A season of fixtures or a team's players repeat one layout hundreds of times, and a change of
    the API's shows in many of them, so walking a sample of them finds it at a fraction of the cost.
    """
    if element.accept is None or dict not in element.accept:
        for entry in values:
            _value(element, entry, found)
        return
    layouts: set[tuple[Any, ...]] = set()
    for index, entry in enumerate(values):
        if type(entry) is not dict:
            _value(element, entry, found)
            continue
        signature = (element, *entry, *map(type, entry.values()))
        if index < SAMPLE or index % STRIDE == 0 or signature not in layouts:
            layouts.add(signature)
            _object(element, entry, found, signature)


def _object(node: Node, value: dict[str, Any], found: set[Difference], signature: tuple[Any, ...]) -> None:
    changes, nested = _PLANS.get(signature) or _learn(signature, node, value)
    if changes:
        found.update(changes)
    if nested:
        _nested(nested, value, found)


def _nested(nested: tuple[tuple[str, Node, bool], ...], value: dict[str, Any], found: set[Difference]) -> None:
    """The objects and arrays inside one object. Most objects inside are leaves (a team, a player's goals):
    their plan is looked up here, and only an object with something inside costs another call."""
    plans = _PLANS
    for key, child, is_object in nested:
        sub = value[key]
        if not is_object:
            if child.items is not None:
                _elements(child.items, sub, found)
            continue
        signature = (child, *sub, *map(type, sub.values()))
        changes, inner = plans.get(signature) or _learn(signature, child, sub)
        if changes:
            found.update(changes)
        if inner:
            _nested(inner, sub, found)


def _learn(signature: tuple[Any, ...], node: Node, value: dict[str, Any]) -> Plan:
    if len(_PLANS) >= MAX_PLANS:
        _PLANS.clear()
    plan = _PLANS[signature] = _plan(node, value)
    return plan


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
