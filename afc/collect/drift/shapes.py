"""Known shapes: per endpoint, the keys and JSON types of an item that afc understands.

A shape is a nested JSON document, one node per value: `{"type": "object|null", "optional": true,
"fields": {...}, "items": {...}}`. `type` lists the JSON types seen (`number` covers int and float,
`null` is always accepted), `optional` marks keys an item may leave out, `fields` describes an
object's keys and `items` an array's elements. The files in `afc/collect/drift/known/` were learned from
real recordings (`python -m afc.collect.drift.generate`) and are loaded once per process.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

log = logging.getLogger("afc.drift")
KNOWN_DIR = Path(__file__).with_name("known")
TYPE_NAMES: dict[type, str] = {
    dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean",
    type(None): "null",
}
PY_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "number": (int, float), "boolean": (bool,),
    "null": (type(None),),
}
ORDER = ("object", "array", "string", "number", "boolean", "null")


def type_name(value: Any) -> str:
    """The JSON type of a parsed value: object, array, string, number, boolean or null."""
    return TYPE_NAMES.get(type(value), type(value).__name__)


def child_path(parent: str, key: str) -> str:
    """`fixture` + `status` → `fixture.status`; the item itself is the empty path."""
    return f"{parent}.{key}" if parent else key


class Node:
    """One value of a known shape, compiled for fast checks."""

    __slots__ = ("accept", "expected", "fields", "items", "optional", "path", "required", "types")

    def __init__(self, path: str, spec: dict[str, Any]):
        self.path = path
        self.types = frozenset(spec.get("type", "").split("|")) - {""}
        concrete = self.types - {"null"}
        # Only null ever seen: the type is unknown, so anything is accepted and nothing below is judged.
        self.accept: frozenset[type] | None = (
            frozenset(t for name in concrete | {"null"} for t in PY_TYPES[name]) if concrete else None)
        self.expected = "|".join(name for name in ORDER if name in self.types)
        self.optional = bool(spec.get("optional"))
        self.fields = {key: Node(child_path(path, key), sub) for key, sub in (spec.get("fields") or {}).items()}
        self.required = frozenset(key for key, node in self.fields.items() if not node.optional)
        self.items = Node(f"{path}[]", spec["items"]) if spec.get("items") else None


@cache
def known() -> dict[str, Node]:
    """Every endpoint's compiled shape, keyed by endpoint (`fixtures/headtohead`); loaded once."""
    shapes = {}
    for file in sorted(KNOWN_DIR.glob("*.json")):
        document = json.loads(file.read_text(encoding="utf-8"))
        shapes[document["endpoint"]] = Node("", document["shape"])
    if not shapes:
        log.warning("%s holds no known shapes: schema drift goes unnoticed; reinstall afc", KNOWN_DIR)
    return shapes


def shape_of(endpoint: str) -> Node | None:
    """The known shape of `endpoint`'s items, or None when afc has none for it."""
    return known().get(endpoint)


class Learner:
    """Accumulates the shape of many sample values of one path."""

    def __init__(self) -> None:
        self.types: set[str] = set()
        self.present = 0  # how often the key was there
        self.objects = 0  # how often this value was an object (the parent of `fields`)
        self.fields: dict[str, Learner] = {}
        self.items: Learner | None = None

    def add(self, value: Any) -> None:
        """Learn one value."""
        self.present += 1
        self.types.add(type_name(value))
        if isinstance(value, dict):
            self.objects += 1
            for key, sub in value.items():
                self.fields.setdefault(key, Learner()).add(sub)
        elif isinstance(value, list):
            for entry in value:
                self.items = self.items or Learner()
                self.items.add(entry)

    def spec(self, parent_objects: int | None = None) -> dict[str, Any]:
        """The learned node as a shape document."""
        node: dict[str, Any] = {"type": "|".join(name for name in ORDER if name in self.types)}
        if parent_objects is not None and self.present < parent_objects:
            node["optional"] = True
        if self.fields:
            node["fields"] = {key: sub.spec(self.objects) for key, sub in self.fields.items()}
        if self.items is not None:
            node["items"] = self.items.spec()
        return node


def learn(items: Iterable[Any]) -> dict[str, Any]:
    """The shape document that accepts every one of `items`."""
    learner = Learner()
    for entry in items:
        learner.add(entry)
    return learner.spec()
