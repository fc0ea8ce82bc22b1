"""Standings, players, squads, top lists, injuries, odds, team statistics and predictions over real recordings."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

import pytest

from afc.db import as_date, as_datetime, load_json
from tests.conftest import sample, timestamp
from tests.loading import load, one

GROUPS = "standings/JuanFPaz__standings-copa-de-la-liga-profesional-2024.json"
EPL_TABLE = "standings/obissing__standings2023.json"


def test_standings_with_two_groups_keep_both_tables(db):
    load(db, "standings", {"league": "1032", "season": "2024"}, sample(GROUPS)["response"])
    groups = db.fetchall("SELECT group_name, count(*) FROM core.standings GROUP BY group_name ORDER BY group_name")
    assert groups == [("Group A", 14), ("Group B", 14)]
    river = one(db, "SELECT * FROM core.standings WHERE team_id = 435")
    assert (river["rank"], river["points"], river["group_name"], river["form"]) == (1, 27, "Group A", "LWWLW")
    assert (river["played"], river["win"], river["goals_for"], river["home_goals_against"]) == (14, 7, 26, 5)
    assert as_datetime(river["standing_updated_at"]) == datetime(2025, 2, 24, tzinfo=UTC)


def test_a_table_is_replaced_as_a_whole(db):
    body = sample(EPL_TABLE)
    load(db, "standings", {"league": "39", "season": "2023"}, body["response"])
    city = one(db, "SELECT rank, points FROM core.standings WHERE team_id = 50")
    assert (city["rank"], city["points"]) == (1, 91)
    assert one(db, "SELECT count(*) AS n FROM core.standings")["n"] == 20
    again = load(db, "standings", {"league": "39", "season": "2023"}, body["response"], raw_id=2)
    assert again.written == 0
    shrunk = copy.deepcopy(body["response"])
    shrunk[0]["league"]["standings"][0] = shrunk[0]["league"]["standings"][0][:19]
    counts = load(db, "standings", {"league": "39", "season": "2023"}, shrunk, raw_id=3)
    assert counts.deleted == 1 and one(db, "SELECT count(*) AS n FROM core.standings")["n"] == 19


def test_paged_players_map_the_api_spellings_and_keep_one_row_per_team(db):
    body = sample("players/tkilper__players_2023_09_03_18_45_41.json")
    load(db, "players", {"league": "39", "season": "2023"}, body["response"])
    costa = one(db, "SELECT * FROM core.players WHERE id = 54")
    assert (costa["height_cm"], costa["weight_kg"], costa["nationality"]) == (188, 83, "Spain")
    assert as_date(costa["birth_date"]) == date(1988, 10, 7)
    traore = db.fetch_dicts("SELECT team_id, appearances FROM core.player_season_stats WHERE player_id = 18753 "
                            "ORDER BY team_id")
    assert [(r["team_id"], r["appearances"]) for r in traore] == [(36, 2), (39, None)]  # Fulham, Wolves
    assert db.fetchone("SELECT count(*) FROM core.player_season_stats")[0] == 22


def test_top_scorers_rank_players_and_parse_ratings(db):
    body = sample("players_topscorers/syurchen93__player-top-scorer-bundes-2023.json")
    load(db, "players/topscorers", {"league": "78", "season": "2023"}, body["response"])
    kane = one(db, "SELECT * FROM core.top_players WHERE rank = 1")
    assert (kane["player_id"], kane["kind"], kane["value"], kane["team_id"]) == (184, "scorers", 32, 157)
    stats = one(db, "SELECT goals, rating FROM core.player_season_stats WHERE player_id = 184")
    assert stats["goals"] == 32 and abs(float(stats["rating"]) - 7.721428) < 1e-9
    assert db.fetchone("SELECT count(*) FROM core.top_players WHERE kind = 'scorers'")[0] == 20


def test_top_assists_and_cards_use_their_own_kind(db):
    assists = sample("players_topassists/syurchen93__player-top-assists-bundes-2023.json")["response"]
    load(db, "players/topassists", {"league": "78", "season": "2023"}, assists)
    yellow = sample("players_topyellowcards/syurchen93__player-top-yellow-epl-2023.json")["response"]
    load(db, "players/topyellowcards", {"league": "39", "season": "2023"}, yellow, raw_id=2)
    kinds = dict(db.fetchall("SELECT kind, count(*) FROM core.top_players GROUP BY kind"))
    assert kinds == {"assists": 19, "yellowcards": 20}
    first = one(db, "SELECT value FROM core.top_players WHERE kind = 'assists' AND rank = 1")
    assert first["value"] == assists[0]["statistics"][0]["goals"]["assists"]


def test_a_squad_is_replaced_per_team(db):
    body = sample("players_squads/footballay__33_squad.json")
    load(db, "players/squads", {"team": "33"}, body["response"])
    assert db.fetchone("SELECT count(*) FROM core.squads WHERE team_id = 33")[0] == 31
    keeper = one(db, "SELECT number, position FROM core.squads WHERE player_id = 50132")
    assert keeper == {"number": 1, "position": "Goalkeeper"}
    smaller = copy.deepcopy(body["response"])
    smaller[0]["players"] = smaller[0]["players"][1:]
    assert load(db, "players/squads", {"team": "33"}, smaller, raw_id=2).deleted == 1


def test_injuries_are_per_fixture_and_player(db):
    body = sample("injuries/syurchen93__injuries-date-bundes.json")
    load(db, "injuries", {"date": "2024-03-31", "league": "78"}, body["response"])
    assert db.fetchone("SELECT count(*) FROM core.injuries")[0] == 31
    row = one(db, "SELECT * FROM core.injuries WHERE player_id = 46930")
    assert (row["fixture_id"], row["team_id"], row["type"], row["reason"]) == (
        1049122, 170, "Missing Fixture", "Yellow Cards")
    assert as_datetime(row["fixture_at"]) == datetime(2024, 3, 31, 13, 30, tzinfo=UTC) and row["season"] == 2023
    fixture = one(db, "SELECT league_id, season, kickoff_at FROM core.fixtures WHERE id = 1049122")
    assert fixture["league_id"] == 78 and as_datetime(fixture["kickoff_at"]) == row_time(row)


def row_time(row: dict) -> datetime:
    return timestamp(row["fixture_at"])


def test_odds_parse_the_odd_and_keep_its_text(db):
    body = sample("docs_examples/DoBet__odds.json")
    load(db, "odds", {"fixture": "326090", "bookmaker": "6"}, body["response"])
    assert db.fetchone("SELECT count(*) FROM core.odds")[0] == 164
    four = one(db, "SELECT * FROM core.odds WHERE bet_id = 38 AND value = '4'")
    assert float(four["odd"]) == 7.0 and four["odd_text"] == "7.00" and four["bet_name"] == "Exact Goals Number"
    assert four["bookmaker_name"] == "Bwin" and timestamp(four["odds_updated_at"]).hour == 9
    again = load(db, "odds", {"fixture": "326090", "bookmaker": "6"}, body["response"], raw_id=2)
    assert again.written == 0


def test_team_statistics_keep_totals_and_the_whole_object(db):
    body = sample("teams_statistics/syurchen93__team-stats-leipzig.json")
    load(db, "teams/statistics", {"league": "78", "season": "2022", "team": "173"}, body["response"])
    row = one(db, "SELECT * FROM core.team_statistics")
    assert (row["played"], row["wins"], row["draws"], row["loses"]) == (34, 20, 6, 8)
    assert (row["goals_for"], row["goals_against"]) == (64, 41)
    assert load_json(row["stats"])["goals"]["for"]["average"]["total"] == "1.9"
    dated = sample("teams_statistics/syurchen93__team-stats-leipzig-2022.json")["response"]
    counts = load(db, "teams/statistics", {"league": "78", "season": "2022", "team": "173", "date": "2023-01-01"},
                  dated, raw_id=2)
    assert counts.written == 0  # a date-limited answer is history: raw only


def test_predictions_parse_percentages(db):
    body = sample("predictions/syurchen93__fixture-predictions-bvb.json")
    load(db, "predictions", {"fixture": "1049124"}, body["response"])
    row = one(db, "SELECT * FROM core.predictions")
    assert row["fixture_id"] == 1049124 and row["winner_team_id"] == 165
    assert (float(row["percent_home"]), float(row["percent_draw"]), float(row["percent_away"])) == (45, 45, 10)
    assert load_json(row["data"])["comparison"]["total"] == {"home": "52.5%", "away": "47.5%"}
    h2h = len(body["response"][0]["h2h"])
    assert db.fetchone("SELECT count(*) FROM core.fixtures")[0] == h2h + 1


RECORDINGS = [
    ("fixtures", {"league": "39", "season": "2023"}, "fixtures/obissing__matches2023.json"),
    ("fixtures", {"id": "1208397"}, "fixtures_id/footballay__fixtureByFixtureid.json"),
    ("fixtures", {"live": "all"}, "fixtures_live/livefut__dataTest.js"),
    ("fixtures/headtohead", {"h2h": "33-50"}, "fixtures_headtohead/syurchen93__head-to-head-mu-mc-2021.json"),
    ("fixtures/players", {"fixture": "592872"}, "fixtures_players/syurchen93__fixture-player-stats.json"),
    ("standings", {"league": "1032", "season": "2024"}, GROUPS),
    ("players", {"league": "39", "season": "2023"}, "players/tkilper__players_2023_09_03_18_45_41.json"),
    ("players/topscorers", {"league": "78", "season": "2023"},
     "players_topscorers/syurchen93__player-top-scorer-bundes-2023.json"),
    ("players/topredcards", {"league": "61", "season": "2023"},
     "players_topyellowcards/syurchen93__player-top-red-ligue1-2023.json"),
    ("players/squads", {"team": "173"}, "players_squads/syurchen93__player-squad-Leipzig.json"),
    ("injuries", {"fixture": "686314"}, "docs_examples/Pedrigl__Injuries.json"),
    ("odds", {"fixture": "326090", "bookmaker": "6"}, "docs_examples/DoBet__odds.json"),
    ("teams/statistics", {"league": "78", "season": "2022", "team": "173"},
     "teams_statistics/syurchen93__team-stats-leipzig.json"),
    ("predictions", {"fixture": "1049124"}, "predictions/syurchen93__fixture-predictions-bvb.json"),
]


@pytest.mark.parametrize(("endpoint", "params", "path"), RECORDINGS, ids=[r[2].split("/")[0] for r in RECORDINGS])
def test_every_recording_loads_without_quarantine_and_a_second_load_writes_nothing(db, endpoint, params, path):
    items = sample(path)["response"]
    first = load(db, endpoint, params, items)
    assert first.inserted > 0
    again = load(db, endpoint, params, items, raw_id=2)
    assert (again.written, again.unchanged) == (0, first.inserted + first.updated)


def test_team_stats_replaced_per_fixture_in_one_response_leave_other_fixtures_alone(db):
    """Each fixture's team statistics are a replaced scope: a team gone from one fixture's part is deleted (on
    PostgreSQL by one DELETE sent with the upserts), the other fixtures' rows stay."""
    item = sample("fixtures_id/footballay__fixtureByFixtureid.json")["response"][0]
    first, second, third = (copy.deepcopy(item) for _ in range(3))
    second["fixture"]["id"], third["fixture"]["id"] = 2, 3
    assert load(db, "fixtures", {"ids": "x"}, [first, second, third]).inserted > 0
    one_sided = [copy.deepcopy(first), copy.deepcopy(second)]
    for entry in one_sided:
        entry["statistics"] = entry["statistics"][1:]
    counts = load(db, "fixtures", {"ids": "x"}, one_sided, raw_id=2)
    assert counts.deleted == 2
    kept = db.fetchall("SELECT fixture_id, count(*) FROM core.fixture_team_stats GROUP BY fixture_id ORDER BY 1")
    assert [tuple(row) for row in kept] == [(2, 1), (3, 2), (item["fixture"]["id"], 1)]
    assert load(db, "fixtures", {"ids": "x"}, one_sided, raw_id=3).written == 0
