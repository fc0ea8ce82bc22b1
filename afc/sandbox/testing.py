"""Helpers for tests that run against the sandbox: a client, a frozen clock, fixtures by predicate."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from afc.clock import SimClock
from afc.sandbox.schedule import Fixture
from afc.sandbox.server import Sandbox
from afc.sandbox.world import World

if TYPE_CHECKING:
    import httpx


def frozen_clock(at: datetime) -> SimClock:
    """A SimClock standing still at `at`; move it with `.set()` or `.advance()`."""
    return SimClock(at, speed=0)


def api_client(sb: Sandbox, **kwargs: Any) -> httpx.Client:
    """An httpx.Client aimed at the sandbox with its key (keep-alive; close it or use `with`)."""
    import httpx

    headers = {"x-apisports-key": sb.key, **kwargs.pop("headers", {})}
    return httpx.Client(base_url=sb.url, headers=headers, timeout=kwargs.pop("timeout", 10), **kwargs)


def fixtures_of(world: World, leagues: list[int] | None = None, seasons: list[int] | None = None) -> Iterator[Fixture]:
    """Every fixture of the given leagues and seasons (default: all), season by season."""
    for league in leagues or world.leagues:
        for season in seasons or world.seasons(league):
            yield from world.fixtures(league, season)


def find_fixture(world: World, predicate: Callable[[Fixture], bool], leagues: list[int] | None = None,
                 seasons: list[int] | None = None) -> Fixture:
    """The first fixture matching `predicate` (LookupError if none does)."""
    for fx in fixtures_of(world, leagues, seasons):
        if predicate(fx):
            return fx
    raise LookupError("no fixture of the sandbox world matches")
