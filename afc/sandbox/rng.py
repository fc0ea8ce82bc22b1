"""Seeded randomness: every random choice in the world is a pure function of the seed and a key.

Nothing draws from a shared generator, so the order in which requests arrive never changes the
world: fixture 1_100_123's goals are the same whether it is the first thing asked for or the last.
"""

from __future__ import annotations

import hashlib
import math
import random


def _digest(parts: tuple[object, ...]) -> int:
    return int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=8).digest(), "big")


def seeded(*parts: object) -> random.Random:
    """A generator determined by `parts` (the world seed first, then what it is for)."""
    return random.Random(_digest(parts))


def unit(*parts: object) -> float:
    """One uniform number in [0, 1) determined by `parts`; cheaper than building a generator."""
    return _digest(parts) / 2.0**64


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth); `lam` is small here (goals, cards), so this is quick."""
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k
