"""Words for one-line messages (counted nouns: "1 call", "0 calls"; a JSON value's kind), shared by the library and the
CLI."""

from __future__ import annotations

from typing import Any


def count_calls(n: int) -> str:
    """`n` calls, with the noun agreeing: "1 call", "0 calls"."""
    return plural(n, "call")


def plural(n: int, noun: str) -> str:
    """`n` and `noun`, with an "s" unless `n` is exactly one."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def kind(value: Any) -> str:
    """A JSON value's kind, as a person reading the API would name it: "null", "a number", "an object"…"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string" if isinstance(value, str) else "an array" if isinstance(value, list) else (
        "an object" if isinstance(value, dict) else type(value).__name__)
