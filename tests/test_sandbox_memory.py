"""The sandbox's memory follows a day's work, not its world: weeks of a rehearsal's calls leave it flat.

A rehearsal's RSS rose by each weekend of matches while the sandbox kept every fixture item it had rendered,
every finished fixture's numbers and the season sums and tables after each result. This drives the calls a
rehearsal's hosts make (the all-league date lists four times a day, live polls every 15 minutes of the afternoon,
the finished fixtures' details, tables and top scorers of the tracked leagues) through three weeks of August
and compares what the sandbox holds after the second week with what it holds after the third.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

import pytest

from afc.sandbox import truth
from afc.sandbox.config import SandboxConfig
from afc.sandbox.memo import SIZES
from afc.sandbox.seasonstats import season_numbers
from afc.sandbox.service import Api
from afc.sandbox.tables import finished, standings
from afc.sandbox.testing import frozen_clock
from afc.sandbox.world import World

LEAGUES = (39, 140, 135, 78, 61, 2)
START = datetime(2026, 8, 15, tzinfo=UTC)
# The third week grew what the sandbox holds by 3.6 MB before (the second by 3.0: items, season sums and
# tables after each result, every finished fixture's numbers); since, by 0.8 MB (the second by 1.0, while
# the day-sized caches fill): mostly the season sums of players who play for the first time (0.4 MB), bounded
# by the squads. The world's result and timeline of each fixture asked for are a day-sized LRU now (held
# after weeks 1, 2, 3: 18.9, 20.3, 21.2 MB before, 17.7, 18.7, 19.5 now), which
# `test_the_worlds_results_per_fixture_stay_bounded_by_a_days_work` guards.
GROWTH_MB = 2.0


def _get(api: Api, endpoint: str, **params: object) -> bytes:
    reply = api.handle("GET", f"/{endpoint}?{urlencode(params)}", {"x-apisports-key": api.cfg.key})
    assert reply.status == 200, reply.body[:200]
    return reply.body


def _day(api: Api, world: World, day: date) -> None:
    """What a rehearsal's hosts ask of the sandbox in one UTC day."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    for hour in range(0, 24, 6):
        api.clock.set(midnight + timedelta(hours=hour))  # type: ignore[union-attr]
        for offset in (-1, 0, 1):
            _get(api, "fixtures", date=(day + timedelta(days=offset)).isoformat())
    for minutes in range(11 * 60, 23 * 60, 15):
        api.clock.set(midnight + timedelta(minutes=minutes))  # type: ignore[union-attr]
        _get(api, "fixtures", live="all")
    api.clock.set(midnight + timedelta(hours=23, minutes=59))  # type: ignore[union-attr]
    played = [fx.id for fx in world.fixtures_between(midnight - timedelta(days=1), midnight, list(LEAGUES))]
    for first in range(0, len(played), 20):
        _get(api, "fixtures", ids="-".join(map(str, played[first:first + 20])))
    for league in LEAGUES:
        _get(api, "standings", league=league, season=2026)
        _get(api, "players/topscorers", league=league, season=2026)


@pytest.mark.slow
def test_three_weeks_of_calls_leave_the_sandbox_flat() -> None:
    world = World(42, 2026)  # its own world: the process's shared one may hold other tests' answers
    api = Api(SandboxConfig(plan="mega", rate_limit=False), frozen_clock(START), world)
    tracemalloc.start()
    try:
        held = []
        for week in range(3):
            for offset in range(7):
                _day(api, world, (START + timedelta(days=7 * week + offset)).date())
            gc.collect()
            held.append(tracemalloc.get_traced_memory()[0] / 2**20)
    finally:
        tracemalloc.stop()
    assert held[0] > 5  # the measure sees the sandbox's caches at all (a first week fills them)
    assert held[2] - held[1] < GROWTH_MB, f"MB held after weeks 1, 2, 3: {held}"


def test_season_sums_added_result_by_result_equal_sums_from_scratch() -> None:
    world = World(42, 2026)
    for moment in (datetime(2026, 9, 21, tzinfo=UTC), datetime(2026, 10, 27, tzinfo=UTC),
                   datetime(2026, 9, 1, tzinfo=UTC)):  # the last is earlier than the newest sums: from scratch
        for league in (39, 2):
            stepped = season_numbers(world, league, 2026, moment)
            assert stepped == season_numbers(World(42, 2026), league, 2026, moment)
    assert len(season_numbers(world, 2, 2026, datetime(2026, 10, 27, tzinfo=UTC))) > 600


def _held(world: World) -> int:
    """Entries in the containers the world holds itself, its memo's caches included."""
    held = sum(len(value) for value in vars(world).values() if isinstance(value, dict | list | set))
    return held + sum(len(world.memo[kind]) for kind in SIZES)


def test_the_worlds_results_per_fixture_stay_bounded_by_a_days_work() -> None:
    """A long-running sandbox is asked for the result of fixture after fixture (a date list here, a season list
    there, a backfill of older seasons): the world keeps about a match day's of them, not every one it was asked."""
    world = World(42, 2026)
    seasons = [(league, season) for league in (39, 140, 135, 78, 61) for season in (2023, 2024, 2025)]
    fixtures = [fx for league, season in seasons for fx in world.fixtures(league, season)]  # the world's schedule
    half = len(fixtures) // 2
    assert half > 2 * SIZES["timelines"]
    for fx in fixtures[:half]:
        world.over_by(fx.id)
        world.outcome(fx.id)
    before = _held(world)
    for fx in fixtures[half:]:
        world.over_by(fx.id)
        world.outcome(fx.id)
    assert _held(world) == before  # was one more Outcome, Timeline and over-by moment per fixture asked
    assert len(world.memo["timelines"]) == SIZES["timelines"]


def _counting_simulate(monkeypatch: pytest.MonkeyPatch) -> Counter:
    simulated: Counter = Counter()
    real = truth.simulate

    def simulate(seed: int, fx: truth.Fixture, *args: object) -> truth.Outcome:
        simulated[fx.id] += 1
        return real(seed, fx, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(truth, "simulate", simulate)
    return simulated


def test_tables_and_season_sums_do_not_simulate_the_season_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Which fixtures had finished is asked on each standings, season sums or /players call: once the league
    season is summed up, that costs no outcome, even when the day's other fixtures pushed them out of memory."""
    world = World(42, 2026)
    moments = [START + timedelta(hours=6 * k) for k in range(40)]  # ten days of August, four times a day
    standings(world, 39, 2026, moments[0])
    simulated = _counting_simulate(monkeypatch)
    for league, season in ((140, 2024), (135, 2024), (78, 2024), (61, 2024)):  # other fixtures fill the memory
        for fx in world.fixtures(league, season):
            world.outcome(fx.id)
    simulated.clear()
    for at in moments:
        standings(world, 39, 2026, at)
        finished(world, 39, 2026, at)
    assert not simulated
    for at in moments:
        season_numbers(world, 39, 2026, at)
    newly = {fx.id for fx in finished(world, 39, 2026, moments[-1])}
    assert set(simulated) == newly and max(simulated.values()) == 1  # each result's numbers once, when it comes


def test_the_fixtures_finished_by_a_moment_are_those_whose_end_has_come() -> None:
    world = World(42, 2026)
    never = 0
    for league in (39, 2, 144):  # UCL: knockout ties, extra time, a final; 144: no livescore
        fixtures = world.fixtures(league, 2026)
        ends = {fx.id: world.finished_at(fx.id) for fx in fixtures}
        never += sum(end is None for end in ends.values())
        for fx in fixtures[::7]:
            end = ends[fx.id]
            for at in ([end - timedelta(microseconds=1), end] if end else [fx.kickoff + timedelta(days=1)]):
                expected = sorted((e, i) for i, e in ends.items() if e is not None and e <= at)
                assert [f.id for f in finished(world, league, 2026, at)] == [i for _, i in expected]
    assert never  # cancelled and abandoned fixtures never finish
