"""Counted nouns for one-line messages ("1 call", "0 calls"), shared by the library and the CLI."""

from __future__ import annotations


def count_calls(n: int) -> str:
    """`n` calls, with the noun agreeing: "1 call", "0 calls"."""
    return plural(n, "call")


def plural(n: int, noun: str) -> str:
    """`n` and `noun`, with an "s" unless `n` is exactly one."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
