"""The fixtures transform over real recordings, on both backends: values, details, delta detection."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from afc import transform
from afc.db import as_datetime, load_json
from afc.transform import fixture_status as status
from tests.conftest import sample
from tests.loading import AT, load, one

EPL = "fixtures/obissing__matches2023.json"
WITH_DETAILS = "fixtures_id/footballay__fixtureByFixtureid.json"
PENALTIES = "fixtures/syurchen93__fixtures-cl-penalties.json"
LIVE = "fixtures_live/livefut__dataTest.js"


def test_a_full_season_lands_with_known_scores_and_a_rerun_writes_nothing(db):
    items = sample(EPL)["response"]
    first = load(db, "fixtures", {"league": "39", "season": "2023"}, items)
    assert first.inserted == 380 + 20 + 1 + 1 + 1 + 20  # fixtures, teams, league, season, country, venues
    burnley_city = one(db, "SELECT * FROM core.fixtures WHERE id = 1035037")
    assert (burnley_city["home_goals"], burnley_city["away_goals"]) == (0, 3)
    assert (burnley_city["ht_home"], burnley_city["ht_away"], burnley_city["et_home"]) == (0, 2, None)
    assert burnley_city["status_short"] == "FT" and burnley_city["status_group"] == "finished"
    assert as_datetime(burnley_city["kickoff_at"]) == datetime(2023, 8, 11, 19, 0, tzinfo=UTC)
    assert burnley_city["round"] == "Regular Season - 1" and burnley_city["referee"] == "C. Pawson"
    assert burnley_city["venue_id"] == 512 and burnley_city["venue_name"] == "Turf Moor"
    assert bool(burnley_city["away_winner"]) is True and bool(burnley_city["home_winner"]) is False
    assert one(db, "SELECT name FROM core.teams WHERE id = 50")["name"] == "Manchester City"
    again = load(db, "fixtures", {"league": "39", "season": "2023"}, items, at=AT + timedelta(hours=1), raw_id=2)
    assert again.written == 0 and again.unchanged == first.inserted
    assert db.fetchone("SELECT count(*) FROM core.fixtures WHERE raw_id = 2")[0] == 0


def test_penalty_shootouts_keep_goals_and_penalties_apart(db):
    load(db, "fixtures", {"ids": "1149523-1149519"}, sample(PENALTIES)["response"])
    arsenal = one(db, "SELECT * FROM core.fixtures WHERE id = 1149523")
    assert arsenal["status_short"] == "PEN" and arsenal["status_group"] == "finished"
    assert (arsenal["home_goals"], arsenal["away_goals"]) == (1, 0)
    assert (arsenal["pen_home"], arsenal["pen_away"], arsenal["et_home"]) == (4, 2, 0)


def test_id_answers_store_every_detail_part_and_parsed_team_statistics(db):
    load(db, "fixtures", {"id": "1208397"}, sample(WITH_DETAILS)["response"])
    details = one(db, "SELECT * FROM core.fixture_details WHERE fixture_id = 1208397")
    events = load_json(details["events"])
    goals = [(e["time"]["elapsed"], e["player"]["name"]) for e in events if e["type"] == "Goal"]
    assert goals == [(76, "A. Diallo"), (87, "C. Eriksen")]
    assert [len(side["startXI"]) for side in load_json(details["lineups"])] == [11, 11]
    assert len(load_json(details["players"])) == 2 and bool(details["final"]) is True
    united = one(db, "SELECT * FROM core.fixture_team_stats WHERE fixture_id = 1208397 AND team_id = 33")
    assert float(united["ball_possession"]) == 67.0  # "67%"
    assert float(united["expected_goals"]) == 2.95  # "2.95"
    assert float(united["total_shots"]) == 25


def test_a_live_item_updates_events_but_never_blanks_lineups(db):
    item = sample(WITH_DETAILS)["response"][0]
    load(db, "fixtures", {"id": "1208397"}, [item])
    live = {k: copy.deepcopy(item[k]) for k in ("fixture", "league", "teams", "goals", "score")}
    live["events"] = item["events"][:3]
    counts = load(db, "fixtures", {"live": "all"}, [live], raw_id=2)
    details = one(db, "SELECT * FROM core.fixture_details WHERE fixture_id = 1208397")
    assert load_json(details["events"]) == item["events"][:3]
    assert load_json(details["lineups"]) == item["lineups"] and load_json(details["players"]) == item["players"]
    assert details["raw_id"] == 2 and counts.updated == 1


def test_corrected_events_replace_the_stored_list_without_duplicates(db):
    item = sample(WITH_DETAILS)["response"][0]
    load(db, "fixtures", {"id": "1208397"}, [item])
    corrected = copy.deepcopy(item)
    corrected["events"][0]["player"], corrected["events"][0]["assist"] = (
        item["events"][0]["assist"], item["events"][0]["player"])  # a substitution told the other way round
    counts = load(db, "fixtures", {"id": "1208397"}, [corrected], raw_id=2)
    events = load_json(one(db, "SELECT events FROM core.fixture_details")["events"])
    assert events == corrected["events"] and len(events) == len(item["events"]) == 17
    assert counts.updated == 1 and counts.inserted == 0


def test_the_live_snapshot_lands_with_events_only(db):
    body = sample(LIVE)
    load(db, "fixtures", {"live": "all"}, body["response"])
    assert db.fetchone("SELECT count(*) FROM core.fixtures WHERE status_group = 'live'")[0] == 14
    row = one(db, "SELECT * FROM core.fixture_details WHERE fixture_id = 1149593")
    assert len(load_json(row["events"])) == 3 and row["lineups"] is None and row["final"] is None
    assert one(db, "SELECT elapsed FROM core.fixtures WHERE id = 1149593")["elapsed"] == 45


def test_standalone_detail_endpoints_take_the_fixture_from_the_request(db):
    events = sample("fixtures_events/tkilper__fixture_events_2023_09_06_18_06_32.json")["response"]
    load(db, "fixtures/events", {"fixture": "1035037"}, events)
    stored = load_json(one(db, "SELECT events FROM core.fixture_details WHERE fixture_id = 1035037")["events"])
    assert stored == events and len(stored) == 15
    lineups = sample("fixtures_lineups/tkilper__fixture_lineups_2023_09_06_18_12_50.json")["response"]
    load(db, "fixtures/lineups", {"fixture": "1035037"}, lineups, raw_id=2)
    row = one(db, "SELECT events, lineups FROM core.fixture_details WHERE fixture_id = 1035037")
    assert load_json(row["events"]) == events and load_json(row["lineups"]) == lineups
    stats = sample("fixtures_statistics/tkilper__fixture_stats_2023_09_06_17_59_17.json")["response"]
    load(db, "fixtures/statistics", {"fixture": "1035037"}, stats, raw_id=3)
    assert db.fetchone("SELECT count(*) FROM core.fixture_team_stats WHERE fixture_id = 1035037")[0] == 2


def test_a_filtered_standalone_answer_never_replaces_a_part(db):
    events = sample("fixtures_events/syurchen93__fixture-events.json")["response"]
    load(db, "fixtures/events", {"fixture": "653808"}, events)
    goals = sample("fixtures_events/syurchen93__fixture-events-goal.json")["response"]
    counts = load(db, "fixtures/events", {"fixture": "653808", "type": "Goal"}, goals, raw_id=2)
    assert counts.written == 0
    assert load_json(one(db, "SELECT events FROM core.fixture_details")["events"]) == events


def test_head_to_head_items_are_fixtures(db):
    h2h = sample("fixtures_headtohead/syurchen93__head-to-head-mu-mc-2021.json")["response"]
    load(db, "fixtures/headtohead", {"h2h": "33-50"}, h2h)
    assert db.fetchone("SELECT count(*) FROM core.fixtures")[0] == 8
    row = one(db, "SELECT home_goals, away_goals FROM core.fixtures WHERE id = 653808")
    assert (row["home_goals"], row["away_goals"]) == (0, 2)


def test_postponed_fixtures_are_grouped():
    body = sample("fixtures/syurchen93__fixtures-bundes-ns-pst.json")
    batch = transform.run("fixtures", {"league": "78", "season": "2023", "status": "NS-PST"}, body["response"])
    groups = {r["status_group"] for t in batch.tables() if t.table == "core.fixtures" for r in t.rows}
    assert groups == {"scheduled"} and batch.items == 71


def test_status_codes_are_normalised_and_grouped():
    assert status.normalise("Canc") == "CANC" and status.group("Canc") == "cancelled"
    assert status.group(" ht ") == "live" and status.group("PEN") == "finished" and status.group("TBD") == "scheduled"
    assert status.group("PST") == "postponed" and status.group("WO") == "not_played"
    assert status.group("ABD") == "abandoned"
    assert status.group("XYZ") is None and status.normalise(None) is None
    assert {"1H", "HT", "2H", "ET", "BT", "P", "SUSP", "INT", "LIVE"} <= status.LIVE and "FT" not in status.LIVE
    assert status.is_finished("aet") and not status.is_live("NS") and {"PST", "CANC", "ABD", "AWD", "WO"} == status.VOID


def test_a_cancelled_fixture_in_mixed_case_is_stored_upper_case(db):
    item = copy.deepcopy(sample(EPL)["response"][0])
    item["fixture"]["status"] = {"long": "Match Cancelled", "short": "Canc", "elapsed": None}
    load(db, "fixtures", {"league": "39", "season": "2023"}, [item])
    row = one(db, "SELECT status_short, status_group FROM core.fixtures")
    assert row == {"status_short": "CANC", "status_group": "cancelled"}


def test_an_item_without_an_id_is_quarantined_and_the_rest_kept():
    items = copy.deepcopy(sample(EPL)["response"][:3])
    items[1]["fixture"]["id"] = None
    batch = transform.run("fixtures", {"league": "39", "season": "2023"}, items)
    assert batch.items == 2 and len(batch.quarantined) == 1
    assert "id: required integer" in batch.quarantined[0].reason
