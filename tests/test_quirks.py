"""The API contract's documented quirks (reference api-football-v3.md §2–§7), each on a real recording altered to
carry it, stored on both backends: no item quarantined (`load` checks) and the value a reader expects."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from afc.clock import SimClock
from afc.collect import rebuild
from afc.db import Database, as_datetime
from tests.conftest import sample
from tests.loading import load
from tests.test_ingest_fast import recordings, replay
from tests.test_rebuild import snapshot, wipe

SEASON = "fixtures/obissing__matches2023.json"  # EPL 2023: Burnley 0-3 Manchester City first
SEOUL = "fixtures_id/footballay__1145511_fixture.json"  # Euro 2024 with timezone=Asia/Seoul, details embedded
PENALTIES = "fixtures/syurchen93__fixtures-cl-penalties.json"
TABLE = "standings/obissing__standings2023.json"
PLAYERS = "players/tkilper__players_2023_09_03_18_45_41.json"
ODDS = "docs_examples/DoBet__odds.json"
LIVE_ODDS = "docs_examples/Pedrigl__LiveOdds.json"
INJURIES = "docs_examples/Pedrigl__Injuries.json"
LEAGUES = "leagues/TFM__leagues_search_WorldCup_2026-01-18_162440.json"


def first(relative: str, change: Callable[[dict[str, Any]], Any]) -> list[Any]:
    """The recording's first item, changed by `change` (the rest left out)."""
    item = copy.deepcopy(sample(relative)["response"][0])
    change(item)
    return [item]


def _strings(item: dict[str, Any]) -> None:
    item["fixture"]["timestamp"] = str(item["fixture"]["timestamp"])
    item["league"]["season"] = "2023"
    item["goals"] = {"home": "0", "away": "3"}


def _no_venue_id(item: dict[str, Any]) -> None:
    item["fixture"]["venue"]["id"] = None


def _older_payload(item: dict[str, Any]) -> None:
    del item["fixture"]["status"]["extra"]
    del item["league"]["standings"]


def _draw_not_started(item: dict[str, Any]) -> None:
    item["fixture"]["status"] = {"long": "Not Started", "short": "NS", "elapsed": None, "extra": None}
    item["teams"]["home"]["winner"] = item["teams"]["away"]["winner"] = None
    item["goals"] = {"home": None, "away": None}
    item["score"] = {period: {"home": None, "away": None}
                     for period in ("halftime", "fulltime", "extratime", "penalty")}


def _seoul_date_only(item: dict[str, Any]) -> None:
    del item["fixture"]["timestamp"]  # fixture.date alone, in the requested zone (+09:00)


def _statistics_values(item: dict[str, Any]) -> None:
    values = {"Ball Possession": "0%", "Total Shots": "12", "Shots on Goal": 0, "expected_goals": "1.87",
              "Goalkeeper Saves": None}
    for stat in item["statistics"][0]["statistics"]:
        stat["value"] = values.get(stat["type"], stat["value"])


def _group_without_name(item: dict[str, Any]) -> None:
    table = item["league"]["standings"][0]
    for row in table:
        row["group"] = None
        row["form"] = None
        row["description"] = None
    table[0]["points"] = "91"


def _accuracy_and_rating(item: dict[str, Any]) -> None:
    stats = item["statistics"][0]
    stats["passes"]["accuracy"] = "68%"
    stats["games"]["rating"] = "7.012345"
    stats["games"]["appearences"] = "3"


def _number_value(item: dict[str, Any]) -> None:
    bets = item["bookmakers"][0]["bets"]
    goals = next(bet for bet in bets if bet["name"] == "Exact Goals Number")
    goals["values"] = [{"value": 0, "odd": "13.00"}, {"value": 4, "odd": "6.50"}, {"value": "more 8", "odd": "0"}]


def _suspended_line(item: dict[str, Any]) -> None:
    line = item["odds"][0]["values"][0]
    line.update(odd="0", suspended=True, handicap=None, main=None)


def _questionable(item: dict[str, Any]) -> None:
    item["player"]["type"] = "Questionable"
    item["fixture"]["timezone"] = "America/Sao_Paulo"
    item["fixture"]["date"] = "2021-04-07T16:00:00-03:00"


def _team_venue_without_id(item: dict[str, Any]) -> None:
    item["venue"]["id"] = None
    item["team"]["code"] = None
    item["team"]["founded"] = None


def _world_cup(item: dict[str, Any]) -> None:
    item["seasons"] = [season for season in item["seasons"] if season["year"] == 2022]


# (quirk, endpoint, params, recording, change, query, expected row)
CASES: list[tuple[str, str, dict[str, str], str, Callable[[dict[str, Any]], Any], str, tuple[Any, ...]]] = [
    ("numbers as strings, 0 as '0'", "fixtures", {"league": "39", "season": "2023"}, SEASON, _strings,
     "SELECT season, home_goals, away_goals, kickoff_at FROM core.fixtures",
     (2023, 0, 3, datetime(2023, 8, 11, 19, 0, tzinfo=UTC))),
    ("venue id null, name set", "fixtures", {"league": "39", "season": "2023"}, SEASON, _no_venue_id,
     "SELECT venue_id, venue_name, venue_city, (SELECT count(*) FROM core.venues) FROM core.fixtures",
     (None, "Turf Moor", "Burnley", 0)),
    ("no status.extra, no league.standings (older payloads)", "fixtures", {"league": "39", "season": "2023"},
     SEASON, _older_payload, "SELECT status_short, status_group, elapsed, extra FROM core.fixtures",
     ("FT", "finished", 90, None)),
    ("null winner, goals and score before kick-off", "fixtures", {"league": "39", "season": "2023"}, SEASON,
     _draw_not_started, "SELECT status_group, home_winner, away_winner, home_goals, ht_home, pen_away "
     "FROM core.fixtures", ("scheduled", None, None, None, None, None)),
    ("timezone=: fixture.date in the zone, no timestamp", "fixtures", {"id": "1145511", "timezone": "Asia/Seoul"},
     SEOUL, _seoul_date_only, "SELECT kickoff_at FROM core.fixtures", (datetime(2024, 6, 15, 16, 0, tzinfo=UTC),)),
    ("statistics: '0%', '12', 0, '1.87', null", "fixtures", {"id": "1145511"}, SEOUL, _statistics_values,
     "SELECT ball_possession, total_shots, shots_on_goal, expected_goals, goalkeeper_saves "
     "FROM core.fixture_team_stats WHERE team_id = (SELECT home_team_id FROM core.fixtures)",
     (0, 12, 0, 1.87, None)),
    ("standings: a table without group name, form or description", "standings", {"league": "39", "season": "2023"},
     TABLE, _group_without_name, "SELECT group_name, points, form, description FROM core.standings WHERE rank = 1",
     ("Premier League", 91, None, None)),
    ("season stats: accuracy '68%', rating and appearences as strings", "players",
     {"league": "39", "season": "2023"}, PLAYERS, _accuracy_and_rating,
     "SELECT passes_accuracy, rating, appearances FROM core.player_season_stats", (68, 7.012345, 3)),
    ("odds: value 0 and 4 as numbers, a suspended odd '0'", "odds", {"fixture": "326090", "bookmaker": "6"}, ODDS,
     _number_value, "SELECT count(*), sum(odd), min(odd) FROM core.odds "
     "WHERE bet_name = 'Exact Goals Number' AND value IN ('0', '4', 'more 8')", (3, 19.5, 0)),
    ("live odds: suspended line, odd '0', null handicap and main", "odds/live", {"fixture": "721238"}, LIVE_ODDS,
     _suspended_line, "SELECT value, odd, odd_text, suspended, main, handicap FROM core.odds_live "
     "WHERE bet_id = 20 AND suspended = %s", ("Over", 0, "0", True, None, None)),
    ("injuries: Questionable, fixture.date in another zone", "injuries", {"fixture": "686314"}, INJURIES,
     _questionable, "SELECT type, reason, fixture_at FROM core.injuries",
     ("Questionable", "Broken ankle", datetime(2021, 4, 7, 19, 0, tzinfo=UTC))),
    ("teams: venue without id, null code and founded", "teams", {"id": "33"}, "teams/footballay__33_team.json",
     _team_venue_without_id, "SELECT name, code, founded, venue_id, (SELECT count(*) FROM core.venues) "
     "FROM core.teams", ("Manchester United", None, None, None, 0)),
    ("leagues: World (null code and flag), a false flag kept false", "leagues", {"search": "World Cup"}, LEAGUES,
     _world_cup, "SELECT l.type, c.code, c.flag, s.season, s.cov_injuries FROM core.leagues l "
     "JOIN core.countries c ON c.name = l.country_name JOIN core.league_seasons s ON s.league_id = l.id",
     ("Cup", None, None, 2022, False)),
]


def _value(value: Any) -> Any:
    """A stored value as the test compares it: numbers as float, times as aware datetimes, flags as bool."""
    moment = as_datetime(value) if isinstance(value, str) and value[:4].isdigit() and "T" in value else None
    if moment is not None:
        return moment
    if isinstance(value, bool) or value is None or isinstance(value, str | datetime):
        return value
    return float(value)


@pytest.mark.parametrize(("quirk", "endpoint", "params", "recording", "change", "query", "expected"), CASES,
                         ids=[case[0] for case in CASES])
def test_a_documented_quirk_is_stored_as_meant(db: Database, quirk: str, endpoint: str, params: dict[str, str],
                                               recording: str, change: Callable[[dict[str, Any]], Any], query: str,
                                               expected: tuple[Any, ...]) -> None:
    items = first(recording, change)
    load(db, endpoint, params, items)
    args = (True,) if "%s" in query else ()
    rows = db.fetchall(query, args)
    assert len(rows) == 1, rows
    got = tuple(_value(v) if not isinstance(v, int) or isinstance(v, bool) else v for v in rows[0])
    assert got == tuple(_value(v) for v in expected), quirk
    assert load(db, endpoint, params, items, raw_id=2).written == 0  # and a second time nothing changes


STATS = "fixtures_statistics/tkilper__fixture_stats_2023_09_06_17_59_17.json"


@pytest.mark.parametrize(("half", "stored"), [("false", 2), ("False", 2), ("true", 0)])
def test_statistics_asked_with_half_at_its_default_are_the_whole_match(db: Database, half: str, stored: int) -> None:
    """`half=false` is the API's default (the whole match): that answer is the fixture's part like one without
    `half`; `half=true` (half-time statistics) stays in raw."""
    items = sample(STATS)["response"]
    load(db, "fixtures/statistics", {"fixture": "1035037", "half": half}, items)
    assert db.fetchone("SELECT count(*) FROM core.fixture_team_stats WHERE fixture_id = 1035037") == (stored,)
    details = db.fetchone("SELECT count(*) FROM core.fixture_details WHERE statistics IS NOT NULL")
    assert details == ((1,) if stored else (0,))


def test_every_recording_collected_and_rebuilt_has_nothing_quarantined_nor_drifted(db: Database) -> None:
    """Every recorded answer through the collecting step, then the archive wiped from core and rebuilt with the
    drift check: the same core and marts, no item quarantined, no drift recorded (the recordings are the contract)."""
    answers = recordings()[:-1]  # the last one is broken on purpose
    done = replay(db, answers)
    assert all(quarantined == 0 for _, _, _, quarantined, _ in done), [d[0] for d in done if d[3]]
    assert db.fetchone("SELECT count(*) FROM ops.drift") == (0,), db.fetchall("SELECT endpoint, path FROM ops.drift")
    collected = snapshot(db)
    errors = sum(1 for name, _ in answers if name.startswith("errors/"))  # error answers are not replayed
    clock = SimClock(datetime(2026, 11, 28, 13, 0, tzinfo=UTC), speed=0)
    for check_drift in (True, False):  # without the check PostgreSQL reads detailed answers slim
        wipe(db)
        report = rebuild.rebuild(db, clock, check_drift=check_drift)
        assert (report.quarantined, report.drift) == (0, 0)
        assert report.responses == (len(answers) - errors) * 2
        assert snapshot(db) == collected


def test_repeated_live_lines_are_numbered_and_the_main_one_keeps_its_label(db: Database) -> None:
    """The recorded Asian Handicap (bet 33) lists "Home -1" four times, the second of them `main`."""
    load(db, "odds/live", {"fixture": "721238"}, sample(LIVE_ODDS)["response"])
    rows = db.fetchall("SELECT value, odd, main FROM core.odds_live WHERE bet_id = 33 AND value LIKE %s ORDER BY value",
                       ("Home -1%",))
    assert [(value, float(odd), bool(main)) for value, odd, main in rows] == [
        ("Home -1", 2.05, True), ("Home -1 #2", 1.475, False), ("Home -1 #3", 1.3, False), ("Home -1 #4", 2.85, False)]


def test_a_team_answer_of_the_standings_replaces_nothing_and_keeps_no_table(db: Database) -> None:
    """`standings?team=` answers that team's lines only: the league season's other lines stay, no version kept."""
    table = sample(TABLE)["response"]
    load(db, "standings", {"league": "39", "season": "2023"}, table)
    versions = db.fetchone("SELECT count(*) FROM core.standings_history")
    one = copy.deepcopy(table)
    one[0]["league"]["standings"] = [[{**one[0]["league"]["standings"][0][0], "points": 94}]]
    counts = load(db, "standings", {"season": "2023", "team": "50"}, one, raw_id=2)
    assert (counts.deleted, counts.updated) == (0, 1)
    assert db.fetchone("SELECT count(*), max(points) FROM core.standings") == (20, 94)
    assert db.fetchone("SELECT count(*) FROM core.standings_history") == versions
