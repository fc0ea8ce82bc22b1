"""Reading an answer's body: the one JSON parser every stage trusts (client, archive, rebuild).

A body that parses but that a later stage cannot hold is refused here, once, with a reason: nesting
deeper than any API answer (the drift observer and transforms walk it recursively), integers
beyond 64 bits (neither backend stores them), NaN/Infinity (not JSON; PostgreSQL's jsonb refuses
them) and lone UTF-16 surrogates (not encodable as UTF-8; SQLite and jsonb refuse them).
"""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson

MAX_DEPTH = 64  # real API answers nest under 10 levels
_INT_RANGE = range(-(2**63), 2**63)
# Integers of 19 digits and more may be past 64 bits, where orjson reads floats (json keeps ints): such a
# text takes the standard parser. Digits become "0" so one substring search finds any such run.
_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19


class Unparsable(ValueError):
    """The body is not JSON afc can store and transform; the message is the one-line reason."""


class NotJson(Unparsable):
    """Not JSON at all (garbled, cut short): a transient failure worth asking again."""


class TooLarge(Unparsable):
    """Over the size cap: not read past it, so there is nothing to keep."""


def _constant(name: str) -> Any:
    raise Unparsable(f"a {name} literal, which JSON does not allow")


def has_nul(text: str | bytes) -> bool:
    """Whether `text` holds a \\u0000 escape. API answers rarely hold a backslash at all, and a one-byte search
    (memchr) runs several times faster than the six-byte one, which runs only when there is one."""
    if isinstance(text, bytes):
        return b"\\" in text and b"\\u0000" in text
    return "\\" in text and "\\u0000" in text


def parse(text: str | bytes, nul: bool | None = None) -> Any:
    """The JSON value of `text` (or of UTF-8 bytes, as a database can return them without decoding: bytes that
    are not UTF-8 are read as decoded with replacement characters), or Unparsable naming why not (never
    RecursionError or ValueError); `nul`: `has_nul(text)`, when the caller knows it."""
    value = _fast(text)
    if value is _STANDARD:
        value = _standard(text if isinstance(text, str) else text.decode("utf-8", errors="replace"))
    # PostgreSQL text cannot hold NUL: drop it from the parsed strings on both backends alike (the
    # archive keeps the verbatim text), so the response's core rows do not roll back its raw row.
    return without_nul(value) if (has_nul(text) if nul is None else nul) else value


_STANDARD = object()  # `_fast` declined: the standard parser decides (and names what is wrong)


def _fast(text: str | bytes) -> Any:
    """orjson's reading of `text` where it is the standard parser's (several times faster on large answers).

    orjson refuses NaN/Infinity, lone surrogates and numbers past a 64-bit float, so what it reads needs
    only the depth check; what it refuses, the standard parser reads again to say why."""
    try:
        data = text if isinstance(text, bytes) else text.encode()
    except UnicodeEncodeError:  # a lone surrogate in the text itself
        return _STANDARD
    if _LONG_RUN in data.translate(_DIGITS):
        return _STANDARD
    try:
        with collector_paused():
            value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return _STANDARD
    if _nesting_bound(value) > MAX_DEPTH:
        check(value)  # the exact walk: raises, unless the bound was loose
    return value


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic garbage collection inside the block (a body parsed; rebuild: one response parsed, transformed
    and written): that makes no reference cycles, yet the tens of thousands of containers of a large answer would
    set off collections that walk every object in the process again and again (a quarter of a rebuild's CPU,
    measured). A collector the caller paused stays paused."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _nesting_bound(value: Any) -> int:
    """At least the nesting depth of a parsed value, at most one more. It walks only what the garbage collector
    tracks, which includes every container holding a container (lists always, dicts once they hold one; a dict
    of scalars and the scalars are untracked), and gc.get_referents lists children in C, not a Python loop."""
    level, depth = [value], 0
    while level:
        depth += 1
        level = list(filter(gc.is_tracked, gc.get_referents(*level)))
    return depth + 1


def _standard(text: str) -> Any:
    try:
        value = json.loads(text, parse_constant=_constant)
    except Unparsable:
        raise
    except json.JSONDecodeError as exc:
        # json's own wording may end in " at" ("Unterminated string starting at"): not "at at line …"
        raise NotJson(f"not JSON ({exc.msg.removesuffix(' at')} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise Unparsable(f"nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:  # Python's limit on integer digits
        raise Unparsable(f"a number afc cannot read ({str(exc).split(';')[0]})") from None
    check(value)
    return value


def without_nul(value: Any) -> Any:
    """`value` with NUL characters dropped from every string and key (PostgreSQL text cannot hold NUL)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


def check(value: Any) -> None:
    """Raise Unparsable unless every part of `value` can be stored and walked (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            _depth(depth)
            for key, item in node.items():
                _string(key)
                stack.append((item, depth + 1))
        elif isinstance(node, list):
            _depth(depth)
            stack.extend((item, depth + 1) for item in node)
        elif isinstance(node, str):
            _string(node)
        elif isinstance(node, int) and not isinstance(node, bool) and node not in _INT_RANGE:
            raise Unparsable(f"an integer of {len(str(abs(node)))} digits, beyond 64 bits")
        elif isinstance(node, float) and not math.isfinite(node):
            raise Unparsable("a number too large for a 64-bit float")


def _depth(depth: int) -> None:
    if depth > MAX_DEPTH:
        raise Unparsable(f"nested more than {MAX_DEPTH} levels deep")


def _string(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Unparsable(f"a lone UTF-16 surrogate (\\u{ord(text[exc.start]):04x}) in a string") from None
