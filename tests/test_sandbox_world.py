"""The sandbox world: deterministic per seed, cheap to build, shaped like real football."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from afc.sandbox import SandboxConfig, World, season_year, start_sandbox
from afc.sandbox.catalog import UCL
from afc.sandbox.seasonstats import registered
from afc.sandbox.testing import api_client, fixtures_of, frozen_clock

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
YEAR = 2026


@pytest.fixture(scope="module")
def world() -> World:
    return World(42, YEAR)


def _fingerprint(w: World) -> list:
    teams = [(t["team"]["id"], t["team"]["name"], t["venue"]["id"]) for t in w.teams(39, YEAR)]
    fixtures = [(f.id, f.kickoff, f.home_id, f.away_id, f.round) for f in w.fixtures(140, YEAR - 1)]
    results = [w.final(f.id)["goals"] for f in w.fixtures(140, YEAR - 1)[:30]]
    return [teams, fixtures, results, [p.name for p in w.squad(33)]]


def test_same_seed_same_world_other_seed_other_world():
    assert _fingerprint(World(42, YEAR)) == _fingerprint(World(42, YEAR))
    assert _fingerprint(World(43, YEAR)) != _fingerprint(World(42, YEAR))


def test_building_a_world_and_a_first_answer_is_cheap():
    started = time.perf_counter()
    w = World(7, YEAR)
    w.state(w.fixtures(39, YEAR)[0].id, NOW)
    assert time.perf_counter() - started < 0.5


def test_season_year_follows_the_european_calendar():
    assert season_year(datetime(2026, 11, 28, tzinfo=UTC)) == 2026
    assert season_year(datetime(2027, 3, 1, tzinfo=UTC)) == 2026
    assert World.at(42, NOW).year == 2026


def test_leagues_seasons_and_coverage(world):
    assert {39, 140, 135, 78, 61, 2, 88, 144} <= set(world.leagues)
    assert world.seasons(39) == [YEAR - 4, YEAR - 3, YEAR - 2, YEAR - 1, YEAR]
    assert world.current_season(39, NOW) == YEAR
    assert world.coverage(88, YEAR)["fixtures"]["lineups"] is False
    assert world.coverage(88, YEAR)["odds"] is False
    assert world.coverage(144, YEAR)["players"] is False and world.coverage(144, YEAR)["fixtures"]["events"] is False
    assert world.coverage(39, YEAR)["fixtures"]["statistics_players"] is True


def test_famous_clubs_have_their_real_ids(world):
    names = {t["team"]["id"]: t["team"]["name"] for lg in (39, 140, 135, 78, 61, 88) for t in world.teams(lg, YEAR)}
    for team_id, name in ((33, "Manchester United"), (40, "Liverpool"), (50, "Manchester City"), (529, "Barcelona"),
                          (541, "Real Madrid"), (157, "Bayern München"), (85, "Paris Saint Germain"), (505, "Inter"),
                          (194, "Ajax")):
        assert names[team_id] == name
    assert world.team(33).venue.id == 556 and world.team(33).venue.name == "Old Trafford"


def test_league_sizes_and_ucl_draws_from_the_leagues(world):
    sizes = {lg: len(world.teams(lg, YEAR)) for lg in (39, 140, 135, 78, 61, 88, 144, UCL)}
    assert sizes == {39: 20, 140: 20, 135: 20, 78: 18, 61: 18, 88: 18, 144: 16, UCL: 32}
    domestic = {t["team"]["id"] for lg in (39, 140, 135, 78, 61, 88, 144) for t in world.teams(lg, YEAR)}
    assert {t["team"]["id"] for t in world.teams(UCL, YEAR)} <= domestic
    assert [t["team"]["id"] for t in world.teams(39, YEAR - 2)] == [t["team"]["id"] for t in world.teams(39, YEAR)]


def test_squads_have_25_or_more_players(world):
    for team in world.league_teams(39, YEAR):
        squad = world.squad(team.id)
        assert 25 <= len(squad) <= 28
        assert Counter(p.position for p in squad)["Goalkeeper"] == 3
        assert len({p.number for p in squad}) == len(squad)


def test_double_round_robin_with_rounds(world):
    fixtures = world.fixtures(39, YEAR - 1)
    assert len(fixtures) == 380
    pairs = Counter((f.home_id, f.away_id) for f in fixtures)
    assert set(pairs.values()) == {1} and len(pairs) == 20 * 19
    assert {f.round for f in fixtures} == {f"Regular Season - {n}" for n in range(1, 39)}
    per_round = Counter(f.round for f in fixtures)
    assert set(per_round.values()) == {10}
    assert len({f.kickoff.strftime("%H:%M") for f in fixtures}) >= 4


def test_fixture_ids_are_unique_and_decodable(world):
    ids = [f.id for f in fixtures_of(world)]
    assert len(ids) == len(set(ids))
    sample = world.fixtures(61, YEAR - 3)[17]
    assert World(42, YEAR).fixture(sample.id) == sample


def test_most_days_of_a_season_have_matches(world):
    start, end = datetime(YEAR, 8, 15, tzinfo=UTC), datetime(YEAR + 1, 5, 15, tzinfo=UTC)
    days = {f.kickoff.date() for f in world.fixtures_between(start, end)}
    assert len(days) > 0.5 * (end - start).days


def test_fates_happen(world):
    fates = Counter(f.fate for f in fixtures_of(world, seasons=[YEAR - 1]))
    assert fates["PST"] >= 3 and fates["CANC"] >= 1 and fates["ABD"] >= 1 and fates["TBD"] >= 10


def test_ucl_has_groups_and_two_legged_knockouts(world):
    fixtures = world.fixtures(UCL, YEAR - 1)
    rounds = Counter(f.round for f in fixtures)
    assert rounds["Group Stage - 1"] == 16 and rounds["Round of 16"] == 16 and rounds["Final"] == 1
    assert {f.group for f in fixtures if f.group} == {f"Group {g}" for g in "ABCDEFGH"}
    second_legs = [f for f in fixtures if f.first_leg]
    assert len(second_legs) == 14 and all(f.decisive for f in second_legs)


def test_a_player_loaned_in_january_has_two_statistics_entries():
    with start_sandbox(SandboxConfig(rate_limit=False), clock=frozen_clock(NOW)) as sb, api_client(sb) as client:
        loan = sb.world.loans(39, YEAR - 1)[0]
        assert (loan.player_id, loan.to_team) in registered(sb.world, 39, YEAR - 1)
        body = client.get("/players", params={"id": loan.player_id, "season": YEAR - 1}).json()
        teams = [s["team"]["id"] for s in body["response"][0]["statistics"] if s["league"]["id"] == 39]
        assert sorted(teams) == sorted([loan.from_team, loan.to_team])
        transfers = client.get("/transfers", params={"player": loan.player_id}).json()["response"][0]["transfers"]
        assert {"Loan", "Back from Loan"} <= {t["type"] for t in transfers}


def _every_fixture(world: World) -> list:
    return [fx for lg in world.leagues for season in world.seasons(lg) for fx in world.fixtures(lg, season)]


def test_fixtures_found_by_bisecting_are_those_a_scan_finds(world):
    """The live, odds and match-day answers find fixtures by kickoff, the `date=`/`from=` lists by the day a
    fixture is played or shows (a postponed one its old date): through sorted positions, not a scan of the
    world's ~9,000 fixtures per call. Every window (edges included) finds exactly what a scan finds."""
    everything = _every_fixture(world)
    moments = sorted({fx.kickoff for fx in everything})[::97] + [fx.kickoff for fx in everything if fx.planned][:20]
    for start in moments:
        for length in (timedelta(0), timedelta(minutes=1), timedelta(hours=4), timedelta(days=15)):
            expected = sorted((fx for fx in everything if start <= fx.kickoff < start + length),
                              key=lambda f: (f.kickoff, f.id))
            assert world.fixtures_between(start, start + length) == expected
    postponed = [fx for fx in everything if fx.planned and fx.planned.date() != fx.kickoff.date()]
    assert postponed  # the world postpones some: their old date must still find them
    for fx in postponed[:10] + everything[::211]:
        first = (fx.planned or fx.kickoff).date()
        for last in (first, first + timedelta(days=2)):
            scan = [f for f in world.fixtures(fx.league_id, fx.season)
                    if first <= (f.planned or f.kickoff).date() <= last or first <= f.kickoff.date() <= last]
            assert world.fixtures_dated(fx.league_id, fx.season, first, last) == scan
            assert fx in world.fixtures_dated(fx.league_id, fx.season, first, last)
