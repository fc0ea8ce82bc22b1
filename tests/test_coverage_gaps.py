"""Gaps: the cheapest calls that fill what is missing, nothing for what is held or not applicable."""

from __future__ import annotations

from datetime import timedelta

import pytest

from afc.api import Request
from afc.coverage import Gap, gaps
from afc.errors import ConfigError
from afc.jobs import load
from tests import coverage_data as data
from tests.coverage_data import LEAGUE, NOW, SEASON


@pytest.fixture
def config(tmp_path):
    return load(data.jobs_dir(tmp_path / "jobs"))


def season(endpoint: str) -> Request:
    return Request.of(endpoint, {"league": LEAGUE, "season": SEASON})


def test_the_hand_built_season_needs_these_calls(db, config):
    data.build(db)
    found = gaps(db, config, NOW)
    assert found == [
        Gap(LEAGUE, SEASON, "fixtures", [season("fixtures")], 1, "6 of 8 held"),
        Gap(LEAGUE, SEASON, "details", [Request.of("fixtures", {"ids": "2-3-4"})], 1,
            "3 finished fixtures lack events, lineups, statistics"),
        Gap(LEAGUE, SEASON, "standings", [season("standings")], 1, "stale: last fetched 3d ago (allowed 1d)"),
        Gap(LEAGUE, SEASON, "teams", [season("teams")], 1, "3 of 4 held"),
        Gap(LEAGUE, SEASON, "players", [season("players")], 6, "2 of 4 held"),
        Gap(LEAGUE, SEASON, "injuries", [season("injuries")], 1, "0 of 1 held"),
    ]
    # odds and the players' match statistics are not covered by the API; top scorers are held and fresh
    assert not {"odds", "fixture_players", "top_scorers"} & {g.endpoint for g in found}
    assert str(found[1].requests[0]) == "/fixtures?ids=2-3-4"


def test_details_come_in_ids_batches_of_at_most_20(db, config):
    data.league(db, cov_lineups=False, cov_statistics_fixtures=False)
    data.add(db, "core.teams", id=1)
    data.add(db, "core.teams", id=2)
    for fid in range(100, 145):
        data.fixture(db, fid, NOW - timedelta(days=1, minutes=fid), True, 1, 2)
    data.details(db, 100, "lineups")  # events missing: still wanted
    data.details(db, 101, "events")  # events held; lineups and statistics not covered: nothing to fetch
    found = {g.endpoint: g for g in gaps(db, config, NOW)}
    details = found["details"]
    ids = [r.query["ids"].split("-") for r in details.requests]
    assert [len(batch) for batch in ids] == [20, 20, 4] and details.calls == 3
    assert "101" not in sum(ids, []) and ids[0][:2] == ["100", "102"]
    assert details.reason == "44 finished fixtures lack events"


def test_paged_players_estimate_pages_from_the_last_run(db, config):
    data.build(db)
    params = {"league": LEAGUE, "season": SEASON}
    for page in (1, 2, 3):
        data.add_raw(db, "players", params | ({"page": page} if page > 1 else {}), NOW - timedelta(hours=1), 20,
                     page=page, pages=35)
    for team, player in ((3, 30), (4, 40)):
        data.add(db, "core.players", id=player)
        data.add(db, "core.player_season_stats", player_id=player, team_id=team, league_id=LEAGUE, season=SEASON)
    players = next(g for g in gaps(db, config, NOW) if g.endpoint == "players")
    assert (players.requests, players.calls) == ([season("players")], 35)
    assert players.reason == "the last run stopped at page 3 of 35"


def test_filters_narrow_gaps_to_one_league_season(db, config, tmp_path):
    data.build(db)
    untracked = gaps(db, config, NOW, league=LEAGUE, season=2025)  # measured because it was asked for
    assert {g.season for g in untracked} == {2025}
    assert (untracked[0].endpoint, untracked[0].reason) == (
        "fixtures", "never fetched: the API has not said how many to expect")
    with pytest.raises(ConfigError, match="league 140 is not tracked"):
        gaps(db, config, NOW, league=140)
    two = load(data.jobs_dir(tmp_path / "two", seasons="[2025, 2026]"))
    assert {g.season for g in gaps(db, two, NOW)} == {2025, 2026}
    assert {g.season for g in gaps(db, two, NOW, season=2026)} == {2026}


def test_nothing_is_missing_when_everything_is_held_and_fresh(db, config):
    data.league(db, **dict.fromkeys(data.FLAGS, False))
    data.add(db, "core.teams", id=1)
    data.add(db, "core.teams", id=2)
    data.fixture(db, 1, NOW - timedelta(days=3), True, 1, 2)
    data.add(db, "core.team_seasons", league_id=LEAGUE, season=SEASON, team_id=1)
    data.add(db, "core.team_seasons", league_id=LEAGUE, season=SEASON, team_id=2)
    data.add_raw(db, "fixtures", {"league": LEAGUE, "season": SEASON}, NOW - timedelta(hours=2), 1)
    assert gaps(db, config, NOW) == []


def test_before_the_fixture_list_details_wait_for_it(db, config):
    data.league(db, cov_odds=False, cov_top_scorers=False)  # flags known, nothing else
    found = gaps(db, config, NOW)
    assert [(g.endpoint, g.calls) for g in found] == [
        ("fixtures", 1), ("details", 0), ("standings", 1), ("teams", 1), ("players", 30), ("injuries", 1)]
    details = found[1]
    assert details.requests == [] and details.reason == (
        "events, lineups, statistics of the finished fixtures the fixture list names (20 per call)")
    assert found[0].reason == "never fetched: the API has not said how many to expect"
