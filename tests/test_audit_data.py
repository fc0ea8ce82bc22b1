"""Core and marts against what the API said, for answers that change between calls (the data audit)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from afc.api.client import ApiClient, Request
from afc.clock import SimClock
from afc.collect import rebuild
from afc.collect import step as pipeline
from afc.collect.collector import Collector
from afc.config.settings import load_settings
from afc.db import Database, load_json
from afc.marts.coverage import compute, saved_settings, write
from afc.marts.daily import refresh_daily_fixtures
from afc.marts.summary import refresh_league_summary
from tests.conftest import SAMPLES, sample
from tests.fakeapi import KEY, Answer, FakeApi, envelope
from tests.loading import AT, load
from tests.test_rebuild import snapshot, wipe


def _stats(team_id: int, shots: int) -> dict[str, Any]:
    return {"team": {"id": team_id, "name": f"Team {team_id}", "logo": None},
            "statistics": [{"type": "Total Shots", "value": shots}, {"type": "Ball Possession", "value": "55%"}]}


def test_an_emptied_statistics_answer_takes_the_team_rows_with_it(db: Database) -> None:
    answer = sample("fixtures_statistics/tkilper__fixture_stats_2023_09_06_17_59_17.json")
    params = {k: str(v) for k, v in answer["parameters"].items()}
    fixture_id = int(params["fixture"])
    load(db, "fixtures/statistics", params, answer["response"], raw_id=1)
    assert db.fetchone("SELECT count(*) FROM core.fixture_team_stats WHERE fixture_id = %s", (fixture_id,)) == (2,)
    counts = load(db, "fixtures/statistics", params, [], raw_id=2)  # the API now has none for it
    details = db.fetchone("SELECT statistics FROM core.fixture_details WHERE fixture_id = %s", (fixture_id,))
    assert details is not None and load_json(details[0]) == []
    assert db.fetchone("SELECT count(*) FROM core.fixture_team_stats WHERE fixture_id = %s", (fixture_id,)) == (0,)
    assert counts.deleted == 2
    load(db, "fixtures/statistics", params, answer["response"][:1], raw_id=3)  # back, one team only
    assert db.fetchone("SELECT count(*) FROM core.fixture_team_stats WHERE fixture_id = %s", (fixture_id,)) == (1,)
    assert load(db, "fixtures/statistics", params, answer["response"][:1], raw_id=4).written == 0


def test_an_ids_item_with_empty_statistics_clears_only_its_own_fixture(db: Database) -> None:
    one = sample("fixtures_id/footballay__fixtureByFixtureid.json")["response"][0]
    other = copy.deepcopy(one)
    other["fixture"]["id"] = one["fixture"]["id"] + 1
    load(db, "fixtures", {"ids": "1-2"}, [one, other], raw_id=1)
    ids = (one["fixture"]["id"], other["fixture"]["id"])
    before = db.fetchall("SELECT fixture_id, count(*) FROM core.fixture_team_stats GROUP BY fixture_id "
                         "ORDER BY fixture_id")
    assert before == [(ids[0], 2), (ids[1], 2)]
    emptied = copy.deepcopy(one)
    emptied["statistics"] = []
    load(db, "fixtures", {"ids": "1-2"}, [emptied, other], raw_id=2)
    after = db.fetchall("SELECT fixture_id, count(*) FROM core.fixture_team_stats GROUP BY fixture_id")
    assert after == [(ids[1], 2)]


def test_the_live_panel_follows_a_standalone_statistics_answer(db: Database) -> None:
    item = sample("fixtures_live/livefut__dataTest.js")["response"][0]
    fixture_id = item["fixture"]["id"]
    home, away = item["teams"]["home"]["id"], item["teams"]["away"]["id"]
    at = datetime.fromtimestamp(item["fixture"]["timestamp"], UTC)
    load(db, "fixtures", {"live": "all"}, [item], at=at, raw_id=1)
    panel = "SELECT home_shots, away_shots FROM mart.live_scores WHERE fixture_id = %s"
    assert db.fetchone(panel, (fixture_id,)) == (None, None)
    load(db, "fixtures/statistics", {"fixture": str(fixture_id)}, [_stats(home, 7), _stats(away, 3)], at=at,
         raw_id=2)
    assert db.fetchone(panel, (fixture_id,)) == (7, 3)
    load(db, "fixtures/statistics", {"fixture": str(fixture_id)}, [], at=at, raw_id=3)
    assert db.fetchone(panel, (fixture_id,)) == (None, None)


def test_a_top_list_keeps_each_team_of_a_player_who_moved_within_the_league(db: Database) -> None:
    answer = sample("players_topassists/syurchen93__player-top-assists-bundes-2023.json")
    params = {k: str(v) for k, v in answer["parameters"].items()}
    load(db, "players/topassists", params, answer["response"])
    moved = next(item for item in answer["response"] if len(item["statistics"]) > 1)
    said = sorted((s["team"]["id"], s["league"]["id"], s["league"]["season"], s["goals"]["assists"],
                   s["games"]["appearences"]) for s in moved["statistics"])
    held = db.fetchall("SELECT team_id, league_id, season, assists, appearances FROM core.player_season_stats "
                       "WHERE player_id = %s ORDER BY team_id", (moved["player"]["id"],))
    assert [tuple(row) for row in held] == said
    first = moved["statistics"][0]
    assert db.fetchone("SELECT team_id, value FROM core.top_players WHERE player_id = %s AND kind = 'assists'",
                       (moved["player"]["id"],)) == (first["team"]["id"], first["goals"]["assists"])


def _injuries_held(db: Database, league: int, season: int) -> tuple[Any, Any]:
    """The coverage mart's injuries count for a season, and what a recompute from core gives."""
    stored = db.fetchone("SELECT held FROM mart.coverage_status WHERE league_id = %s AND season = %s "
                         "AND endpoint = 'injuries'", (league, season))
    fresh = [row.held for row in compute(db, saved_settings(db), [(league, season)], AT)
             if row.endpoint == "injuries"]
    return (int(stored[0]) if stored else None), (fresh[0] if fresh else None)


def test_an_injuries_answer_for_named_fixtures_is_each_ones_whole_list(db: Database) -> None:
    answer = sample("injuries/syurchen93__injuries-date-bundes.json")["response"]
    by_fixture: dict[int, list[Any]] = {}
    for entry in answer:
        by_fixture.setdefault(entry["fixture"]["id"], []).append(entry)
    (first, first_items), (second, second_items) = list(by_fixture.items())[:2]
    league, season = answer[0]["league"]["id"], answer[0]["league"]["season"]
    load(db, "injuries", {"ids": f"{first}-{second}"}, first_items + second_items, raw_id=1)
    write(db, compute(db, saved_settings(db), [(league, season)], AT), AT)  # the season is measured
    held = "SELECT fixture_id, count(*) FROM core.injuries GROUP BY fixture_id ORDER BY fixture_id"
    assert db.fetchall(held) == sorted([(first, len(first_items)), (second, len(second_items))])
    load(db, "injuries", {"fixture": str(first)}, [], raw_id=2)  # none left for the first
    assert db.fetchall(held) == [(second, len(second_items))]
    stored, fresh = _injuries_held(db, league, season)
    assert stored == fresh == 1
    load(db, "injuries", {"ids": f"{first}-{second}"}, first_items, raw_id=3)  # the second's list now empty
    assert db.fetchall(held) == [(first, len(first_items))]
    stored, fresh = _injuries_held(db, league, season)
    assert stored == fresh == 1
    # a filtered answer (one team's, one player's) or a date's says nothing of the fixtures it leaves out
    load(db, "injuries", {"fixture": str(first), "team": "1"}, [], raw_id=4)
    load(db, "injuries", {"date": "2023-10-01"}, [], raw_id=5)
    assert db.fetchall(held) == [(first, len(first_items))]
    load(db, "injuries", {"ids": f"{first}-{second}"}, [], raw_id=6)  # none for either: the season holds none
    assert db.fetchall(held) == []
    stored, fresh = _injuries_held(db, league, season)
    assert stored == fresh == 0


def test_rebuild_and_collection_agree_on_emptied_scopes_moves_and_renames(db_url: str, clock: SimClock) -> None:
    stats = sample("fixtures_statistics/tkilper__fixture_stats_2023_09_06_17_59_17.json")
    fixture = str(stats["parameters"]["fixture"])
    injuries = sample("injuries/syurchen93__injuries-date-bundes.json")["response"]
    named = injuries[0]["fixture"]["id"]
    mine = [entry for entry in injuries if entry["fixture"]["id"] == named]
    top = sample("players_topassists/syurchen93__player-top-assists-bundes-2023.json")
    season, league = sample("fixtures/obissing__matches2023.json")["response"], {"league": "39", "season": "2023"}
    moved = copy.deepcopy(season[0])
    moved["league"].update(id=40, name="Championship")
    renamed = {"team": {"id": moved["teams"]["home"]["id"], "name": "Renamed FC", "code": None, "country": "England",
                        "founded": None, "national": False, "logo": None}, "venue": {"id": None}}
    api = FakeApi({
        "fixtures/statistics": [Answer(200, envelope("fixtures/statistics", stats["response"],
                                                     params={"fixture": fixture})),
                                Answer(200, envelope("fixtures/statistics", [], params={"fixture": fixture}))],
        "injuries": [Answer(200, envelope("injuries", mine, params={"fixture": str(named)})),
                     Answer(200, envelope("injuries", [], params={"fixture": str(named)}))],
        "players/topassists": [Answer(200, top)],
        "fixtures": [Answer(200, envelope("fixtures", season, params=league)),
                     Answer(200, envelope("fixtures", [moved], params={"id": str(moved["fixture"]["id"])}))],
        "teams": [Answer(200, envelope("teams", [renamed], params={"id": str(renamed["team"]["id"])}))],
    })
    conf = load_settings({}, api_key=KEY, database_url=db_url)
    collector = Collector.open(conf, clock=clock, client=ApiClient("http://api.test", KEY, clock,
                                                                 transport=api.transport()))
    try:
        ctx = collector.context("test", "test", "LOW")
        calls: list[tuple[str, dict[str, Any]]] = [
            ("fixtures/statistics", {"fixture": fixture}), ("injuries", {"fixture": named}),
            ("players/topassists", top["parameters"]), ("fixtures/statistics", {"fixture": fixture}),
            ("injuries", {"fixture": named}), ("fixtures", league), ("fixtures", {"id": moved["fixture"]["id"]}),
            ("teams", {"id": renamed["team"]["id"]})]
        for endpoint, params in calls:
            pipeline.step(ctx, Request.of(endpoint, params))
            clock.advance(60)
        db = collector.db
        assert db.fetchone("SELECT count(*) FROM mart.daily_fixtures WHERE league_id = 40") == (1,)
        assert db.fetchone("SELECT count(*) FROM mart.daily_fixtures WHERE home_team = 'Renamed FC'") == (19,)
        assert db.fetchone("SELECT count(*) FROM core.fixture_team_stats") == (0,)
        assert db.fetchone("SELECT count(*) FROM core.injuries") == (0,)
        collected = snapshot(db)
        wipe(db)
        rebuild.rebuild(db, clock)
        assert snapshot(db) == collected
    finally:
        collector.close()


def _recomputed_writes(db: Database) -> int:
    """Rows a full recompute of the dashboard and the league summary would change (0: the marts are exact)."""
    fixtures = {row[0] for row in db.fetchall("SELECT id FROM core.fixtures")}
    seasons = {(row[0], row[1]) for row in db.fetchall("SELECT league_id, season FROM mart.league_summary")}
    with db.transaction():
        return refresh_daily_fixtures(db, fixtures, AT) + refresh_league_summary(db, seasons, AT)


def test_a_team_or_league_renamed_by_its_own_endpoint_is_renamed_in_the_marts(db: Database) -> None:
    season = sample("fixtures/obissing__matches2023.json")
    load(db, "fixtures", {"league": "39", "season": "2023"}, season["response"], raw_id=1)
    table = sample("standings/obissing__standings2023.json")
    load(db, "standings", {"league": "39", "season": "2023"}, table["response"], raw_id=2)
    leader = table["response"][0]["league"]["standings"][0][0]["team"]["id"]
    assert _recomputed_writes(db) == 0
    team = {"team": {"id": leader, "name": "Renamed FC", "code": "REN", "country": "England", "founded": 1880,
                     "national": False, "logo": None}, "venue": {"id": None}}
    load(db, "teams", {"id": str(leader)}, [team], raw_id=3)
    assert db.fetchone("SELECT leader_name FROM mart.league_summary") == ("Renamed FC",)
    assert db.fetchone("SELECT count(*) FROM mart.daily_fixtures WHERE home_team = 'Renamed FC' "
                       "OR away_team = 'Renamed FC'") == (38,)
    assert db.fetchall("SELECT DISTINCT team_name FROM mart.table_by_round WHERE team_id = %s", (leader,)) == [
        ("Renamed FC",)]
    assert _recomputed_writes(db) == 0
    league = {"league": {"id": 39, "name": "Premier League (renamed)", "type": "League", "logo": None},
              "country": {"name": "England", "code": "GB", "flag": None},
              "seasons": [{"year": 2024, "start": "2024-08-16", "end": "2025-05-25", "current": True}]}
    load(db, "leagues", {"id": "39", "season": "2024"}, [league], raw_id=4)  # names another season
    assert db.fetchone("SELECT league_name FROM mart.league_summary WHERE season = 2023") == (
        "Premier League (renamed)",)
    assert db.fetchone("SELECT count(*) FROM mart.daily_fixtures WHERE league_name = 'Premier League (renamed)'"
                       ) == (380,)
    assert _recomputed_writes(db) == 0
    assert load(db, "teams", {"id": str(leader)}, [team], raw_id=5).written == 0  # again: nothing to write


def test_a_league_seasons_team_list_is_replaced_by_a_later_answer(db: Database) -> None:
    def team(team_id: int) -> dict[str, Any]:
        return {"team": {"id": team_id, "name": f"Team {team_id}", "code": None, "country": "England",
                         "founded": None, "national": False, "logo": None}, "venue": {"id": None}}

    season = {"league": "39", "season": "2024"}
    load(db, "teams", season, [team(1), team(2), team(3)], raw_id=1)
    members = "SELECT team_id FROM core.team_seasons WHERE league_id = 39 AND season = 2024 ORDER BY team_id"
    assert db.fetchall(members) == [(1,), (2,), (3,)]
    load(db, "teams", season, [team(1), team(3), team(4)], raw_id=2)  # 2 listed by mistake, 4 added
    assert db.fetchall(members) == [(1,), (3,), (4,)]
    load(db, "teams", season | {"search": "Team"}, [team(1)], raw_id=3)  # a subset says nothing of the others
    load(db, "teams", season | {"id": "3"}, [team(3)], raw_id=4)
    assert db.fetchall(members) == [(1,), (3,), (4,)]


def test_an_emptied_squad_or_live_odds_feed_takes_the_kept_rows_with_it(db: Database) -> None:
    squad = sample("players_squads/" + sorted(p.name for p in (SAMPLES / "players_squads").iterdir())[0])
    entry = squad["response"][0]
    team = {"team": str(entry["team"]["id"])}
    load(db, "players/squads", team, [entry], raw_id=1)
    members = "SELECT count(*) FROM core.squads WHERE team_id = %s"
    assert db.fetchone(members, (entry["team"]["id"],)) == (len(entry["players"]),)
    load(db, "players/squads", team, [entry | {"players": []}], raw_id=2)
    assert db.fetchone(members, (entry["team"]["id"],)) == (0,)

    feed = sample("docs_examples/Pedrigl__LiveOdds.json")["response"][0]
    fixture = {"fixture": str(feed["fixture"]["id"])}
    load(db, "odds/live", fixture, [feed], raw_id=3)
    lines = "SELECT count(*) FROM core.odds_live WHERE fixture_id = %s"
    assert db.fetchall(lines, (feed["fixture"]["id"],))[0][0] > 0
    load(db, "odds/live", fixture | {"bet": "36"}, [feed | {"odds": []}], raw_id=4)  # one bet's: a subset
    assert db.fetchall(lines, (feed["fixture"]["id"],))[0][0] > 0
    load(db, "odds/live", fixture, [feed | {"odds": []}], raw_id=5)
    assert db.fetchone(lines, (feed["fixture"]["id"],)) == (0,)


def _coverage_stale(db: Database, seasons: list[tuple[int, int]]) -> dict[Any, Any]:
    """Coverage rows whose held/expected differ from a full recompute."""
    def figures(held: Any, expected: Any) -> tuple[Any, ...]:
        return tuple(None if v is None else float(v) for v in (held, expected))

    fresh = {(r.league_id, r.season, r.endpoint): figures(r.held, r.expected)
             for r in compute(db, saved_settings(db), seasons, AT)}
    stored = {(r["league_id"], r["season"], r["endpoint"]): figures(r["held"], r["expected"])
              for r in db.fetch_dicts("SELECT * FROM mart.coverage_status")}
    return {key: (stored.get(key), value) for key, value in fresh.items() if stored.get(key) != value}


def test_coverage_of_the_season_a_fixture_left_is_measured_again(db: Database) -> None:
    season = sample("fixtures/obissing__matches2023.json")["response"]
    load(db, "fixtures", {"league": "39", "season": "2023"}, season, raw_id=1)
    moved = copy.deepcopy(season[0])
    moved["league"].update(id=40, name="Championship")
    load(db, "fixtures", {"id": str(moved["fixture"]["id"])}, [moved], raw_id=2)
    seasons = [(39, 2023), (40, 2023)]
    write(db, compute(db, saved_settings(db), seasons, AT), AT)  # both measured
    assert _coverage_stale(db, seasons) == {}
    load(db, "fixtures", {"id": str(moved["fixture"]["id"])}, [season[0]], raw_id=3)  # back to 39
    assert _coverage_stale(db, seasons) == {}
    other = copy.deepcopy(season[1])
    other["league"]["season"] = 2024  # another leaves 2023 for 2024
    load(db, "fixtures", {"id": str(other["fixture"]["id"])}, [other], raw_id=4)
    assert _coverage_stale(db, seasons) == {}
    assert db.fetchone("SELECT held FROM mart.coverage_status WHERE league_id = 39 AND season = 2023 "
                       "AND endpoint = 'fixtures'") == (379,)
