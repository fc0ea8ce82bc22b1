"""The world tests and the service hold: the ground truth (`truth`) and its API items at a moment (`views`).

Data flows one way: `truth` generates, `views` renders what the truth looks like at a moment, and
`World` joins them, so a caller asks one object for a club, a fixture or the fixture's item now.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from afc.sandbox import views
from afc.sandbox.truth import Truth

FAR_FUTURE = datetime(2999, 1, 1, tzinfo=UTC)


class World(Truth):
    """Countries, leagues, clubs, players and fixtures of one seed, and each fixture's /fixtures item at a moment."""

    @staticmethod
    def shared(seed: int, year: int, extra_leagues: int = 0) -> World:
        """One world per (seed, year, extra leagues) for the whole process: sandboxes started by tests share
        what was generated (the world is a pure function of the three, so sharing changes no answer)."""
        return _shared(seed, year, extra_leagues)

    def state(self, fixture_id: int, at: datetime, details: bool = False, timezone: str = "UTC") -> dict:
        """The /fixtures item at `at`; with `details`, events/lineups/statistics/players as `ids=` embeds them."""
        sections = views.ALL_SECTIONS if details else ()
        return views.fixture_state(self, fixture_id, at, timezone, sections)

    def final(self, fixture_id: int) -> dict:
        """The fixture's final item with details, after any correction."""
        return self.state(fixture_id, FAR_FUTURE, details=True)


@functools.lru_cache(maxsize=4)
def _shared(seed: int, year: int, extra_leagues: int) -> World:
    return World(seed, year, extra_leagues)
