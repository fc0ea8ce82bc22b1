"""Words for one-line messages: counted nouns ("1 call", "0 calls") and text made one line, shared by the library
and the CLI."""

from __future__ import annotations

import re

# Control and layout characters: newlines, ANSI escapes (ESC), BEL, bidi overrides, zero-width marks.
_UNSHOWN = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def count_calls(n: int) -> str:
    """`n` calls, with the noun agreeing: "1 call", "0 calls"."""
    return plural(n, "call")


def plural(n: int, noun: str) -> str:
    """`n` and `noun`, with an "s" unless `n` is exactly one."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def one_line(text: str) -> str:
    """`text` with control and layout characters written as escapes (`\\n`, `\\x1b`, `\\u202e`): text from the API
    or a file reaches a terminal as one readable line, never as a terminal command."""
    return _UNSHOWN.sub(_escape, text) if _UNSHOWN.search(text) else text


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return {10: "\\n", 13: "\\r", 9: "\\t"}.get(code) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
