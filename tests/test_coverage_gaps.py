"""Gaps: the cheapest calls that fill what is missing, nothing for what is held or not applicable."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import cast

import pytest

from afc.api.client import Request
from afc.collect.collector import Collector
from afc.config.jobs import load
from afc.coverage import Gap, gaps
from afc.errors import ConfigError
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
        Gap(LEAGUE, SEASON, "standings", [season("standings")], 1,
            "stale: a match changed it 2d22h ago, after the last fetch (allowed 1d)"),
        Gap(LEAGUE, SEASON, "teams", [season("teams")], 1, "3 of 4 held"),
        Gap(LEAGUE, SEASON, "players", [season("players")], 6, "2 of 4 held"),
        Gap(LEAGUE, SEASON, "injuries", [season("injuries")], 1, "0 of 1 held"),
        # answered empty an hour ago although cov_top_scorers is true: a gap, asked again in a day
        Gap(LEAGUE, SEASON, "top_scorers", [], 0, "the API answered an empty list 1 time(s), the last on "
            "2026-11-28, although cov_top_scorers is true; re-check due 2026-11-29 11:00 UTC (3 left)"),
    ]
    # odds and the players' match statistics are not covered by the API
    assert not {"odds", "fixture_players"} & {g.endpoint for g in found}
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


def _empty_standings(db, season_year: int, current: bool, answered: list[timedelta]) -> None:
    """A league season whose flags promise standings, every /standings answer empty (ago = NOW - delta)."""
    data.league(db, LEAGUE, season_year, current=current)
    for ago in answered:
        data.add_raw(db, "standings", {"league": LEAGUE, "season": season_year}, NOW - ago, 0)


def _standings(db, config, season_year: int):
    from afc.coverage import compute, coverage_config

    row = next(r for r in compute(db, coverage_config(config), [(LEAGUE, season_year)], NOW)
               if r.endpoint == "standings")
    gap = next((g for g in gaps(db, config, NOW, LEAGUE, season_year) if g.endpoint == "standings"), None)
    return row, gap


@pytest.mark.parametrize("answered, calls, due", [
    ([timedelta(hours=2)], 0, "2026-11-29 10:00"),  # 1st empty answer: re-check a day later
    ([timedelta(days=2)], 1, None),  # that day has passed: ask again now
    ([timedelta(days=3), timedelta(hours=5)], 0, "2026-12-01 07:00"),  # 2nd: three days later
    ([timedelta(days=12), timedelta(days=11), timedelta(days=8)], 1, None),  # 3rd: seven days later, due
])
def test_an_empty_answer_the_flags_contradict_is_a_gap_rechecked_on_a_schedule(db, config, answered, calls, due):
    with db.transaction():
        _empty_standings(db, 2026, True, answered)
    row, gap = _standings(db, config, 2026)
    assert (row.held, row.expected, row.count_pct, row.status) == (0, 1, 0.0, "critical")  # never "100% 1/1 ok"
    assert gap is not None and gap.calls == calls and len(gap.requests) == calls
    assert ("re-check due " + due) in gap.reason if due else "re-check now" in gap.reason
    assert "although cov_standings is true" in gap.reason


def test_after_the_last_recheck_it_is_empty_at_source_and_costs_nothing(db, config):
    with db.transaction():
        _empty_standings(db, 2026, True, [timedelta(days=d) for d in (20, 19, 16, 9)])  # 1 + 3 re-checks
    row, gap = _standings(db, config, 2026)
    assert row.status == "not_applicable" and gap is None
    assert row.detail["reason"] == ("empty at source: 4 empty answers, the last on 2026-11-19, although "
                                    "cov_standings is true; not asked again")


def test_a_finished_season_is_rechecked_once_a_week_later(db, config):
    with db.transaction():
        _empty_standings(db, 2019, False, [timedelta(days=3)])
    row, gap = _standings(db, config, 2019)
    assert row.held == 0 and gap is not None and gap.calls == 0 and "re-check due 2026-12-02 12:00" in gap.reason
    with db.transaction():
        data.add_raw(db, "standings", {"league": LEAGUE, "season": 2019}, NOW - timedelta(hours=1), 0)
    row, gap = _standings(db, config, 2019)
    assert row.status == "not_applicable" and row.detail["reason"].startswith("empty at source: 2 empty answers")
    assert gap is None


def test_an_empty_answer_without_a_promise_is_held(db, config):
    """Flags unknown (no /leagues yet) or rows held: an empty list is the API's answer, as before."""
    with db.transaction():
        data.add(db, "core.leagues", id=LEAGUE, name="Premier League")
        data.add_raw(db, "standings", {"league": LEAGUE, "season": SEASON}, NOW - timedelta(hours=2), 0)
    row, gap = _standings(db, config, SEASON)
    assert (row.held, row.count_pct) == (1, 100.0) and "empty_answers" not in row.detail


def test_backfill_from_gaps_plans_no_call_before_the_recheck_is_due(db, config):

    from afc.backfill.gaps import find

    with db.transaction():
        _empty_standings(db, 2026, True, [timedelta(hours=2)])
    collector = SimpleNamespace(db=db, config=config, now=lambda: NOW)  # the parts of a Collector find() reads
    assert "standings" not in {g.endpoint for g in find(cast(Collector, collector), [LEAGUE], [2026])}
    assert "standings" in {g.endpoint for g in gaps(db, config, NOW, LEAGUE, 2026)}  # still reported


@pytest.mark.parametrize("endpoint, api, flag", [
    ("injuries", "injuries", "cov_injuries"),
    ("top_scorers", "players/topscorers", "cov_top_scorers"),
    ("players", "players", "cov_players"),
])
def test_every_flagged_season_list_answered_empty_is_a_gap(db, config, endpoint, api, flag):
    from afc.coverage import compute, coverage_config

    with db.transaction():
        data.league(db, LEAGUE, SEASON)
        data.add_raw(db, api, {"league": LEAGUE, "season": SEASON}, NOW - timedelta(hours=2), 0)
    row = next(r for r in compute(db, coverage_config(config), [(LEAGUE, SEASON)], NOW) if r.endpoint == endpoint)
    gap = next(g for g in gaps(db, config, NOW, LEAGUE, SEASON) if g.endpoint == endpoint)
    assert row.held == 0 and row.status != "ok" and row.detail["empty_answers"] == 1
    assert (gap.calls, gap.requests) == (0, [])
    assert gap.reason.endswith(f"although {flag} is true; re-check due 2026-11-29 10:00 UTC (3 left)")
