"""Bounded memory for what the sandbox computes: a small thread-safe LRU per kind of result.

A long-running sandbox with a fast clock would otherwise keep every table and every serialised
match it ever produced; the bounds keep it under 200 MB, most of it season statistics.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

# The per-fixture kinds hold about a match day: what is in play and what just finished is asked for
# again and again (each live poll, the details fetches after full time, the re-check of a correction);
# older matches are asked once, by a backfill. Sized for the whole world (1,024 fixtures, some 300 MB)
# they grew by every finished match of a long rehearsal, about 4 MB a match day, and never let go.
# Kinds keyed by a fixture or by the results so far must stay bounded by a day's work, not by the world:
# a rehearsal's RSS rose by each match weekend while the fixture items (a dict per fixture ever asked for),
# the season sums and the standings after each result filled caches sized for a whole season.
SIZES = {  # kind -> entries kept (about the size of one entry)
    "items": 1024,  # a fixture's /fixtures item and its JSON, with when it changes (~4 kB; re-rendered in 30 us)
    "timelines": 1024,  # a fixture's outcome and period boundaries (~1.2 kB; simulated again in 0.2 ms)
    "finishes": 64,  # per league-season, when each fixture finishes and its score (~7 kB; ~70 ms for 380 fixtures)
    "details": 64,  # match sheets of one fixture (~55 kB)
    "sections": 32,  # detail arrays of a finished fixture (~130 kB)
    "lines": 64,  # the players' numbers of a match in play at one minute (~20 kB)
    "state-json": 32,  # a finished fixture with details, as JSON text (~130 kB)
    "contrib": 16,  # one finished fixture's numbers, added once to its season's sums (~12 kB); asked again only
    # when sums are redone from the first result (an earlier moment): no hit in 30 rehearsed days at 64, which
    # filled over the first week (0.8 MB)
    "standings": 16,  # a league-season table after n results (~30 kB)
    "season-numbers": 16,  # a league-season's player totals after n results (~0.3 MB)
    "season-latest": 32,  # per league-season, the newest of those totals: the next is summed from it
    "players": 4,  # a /players answer before paging (~1 MB): kept while its pages are walked
}
# /players answers are keyed by the results so far, so each weekly refresh of a league season makes a new one,
# and the pages of one are walked in a row. At 32 entries a 30-day rehearsal grew by about 15 MB a refresh.


class Lru:
    """Least-recently-used cache of `size` entries."""

    def __init__(self, size: int):
        self.size = size
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        """The value, or None; a hit makes the entry the most recent."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return None

    def put(self, key: Hashable, value: Any) -> Any:
        """Store `value` (evicting the oldest entry when full) and return it."""
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._data)


class Memo:
    """One `Lru` per kind; `remember` computes outside the lock (results are deterministic)."""

    def __init__(self, sizes: dict[str, int] | None = None):
        self._caches = {kind: Lru(size) for kind, size in (sizes or SIZES).items()}

    def remember(self, kind: str, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The cached value of `key`, computing and storing it on a miss."""
        cache = self._caches[kind]
        value = cache.get(key)
        return value if value is not None else cache.put(key, compute())

    def __getitem__(self, kind: str) -> Lru:
        return self._caches[kind]
