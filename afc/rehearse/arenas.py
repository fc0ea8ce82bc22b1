"""Keep the rehearsal's memory flat: few malloc arenas for its many short-lived threads."""

from __future__ import annotations

import ctypes
import ctypes.util

M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)
ARENAS = 2


def cap_arenas(count: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas at `count` for threads started from now on; False where there is no glibc.

    glibc gives each new thread an arena of its own, up to eight per core, and keeps what they freed. A
    rehearsal starts a thread per simulated run and per sandbox connection, thousands a match day, so its
    RSS rose 1–7 MB per match day without any Python object growing (MALLOC_ARENA_MAX=2: flat)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to cap
        return False
    return bool(mallopt(M_ARENA_MAX, count))
