"""Keep the rehearsal's memory flat: few malloc arenas for its many short-lived threads, and large blocks
mapped on their own."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameters (malloc.h)
M_ARENA_MAX = -8
ARENAS = 2
# Blocks of this size and more get a mapping of their own, returned to the system when freed.
MMAP_THRESHOLD = 256 * 1024


def _mallopt() -> Callable[[int, int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        return libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return None


def cap_arenas(count: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas at `count` for threads started from now on; False where there is no glibc.

    glibc gives each new thread an arena of its own, up to eight per core, and keeps what they freed. A
    rehearsal starts a thread per simulated run and per sandbox connection, thousands a match day, so its
    RSS rose 1–7 MB per match day without any Python object growing (MALLOC_ARENA_MAX=2: flat)."""
    mallopt = _mallopt()
    return mallopt is not None and bool(mallopt(M_ARENA_MAX, count))


def map_large_blocks(threshold: int = MMAP_THRESHOLD) -> bool:
    """Serve blocks of `threshold` bytes and more from mappings of their own, whatever was freed before;
    False where there is no glibc.

    glibc raises its threshold (128 kB at first, up to 32 MB) to the size of each mapped block freed, so
    after the first large answer, every later one (a body, its text, its parsed lists) comes from the heap,
    and the heap keeps the pages of the largest moment it ever had: the RSS rose with the busiest live
    tick so far (09-02: 35 fixtures in play at once, three times a weekend's; +4.3 MB that day with
    3,600 more Python blocks). A fixed threshold also stops the adjusting."""
    mallopt = _mallopt()
    return mallopt is not None and bool(mallopt(M_MMAP_THRESHOLD, threshold))
