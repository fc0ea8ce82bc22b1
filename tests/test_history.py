"""History tables (issue #17): written only on change, in the response's transaction; the edge cases."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from afc import transform
from afc.db import Database, as_datetime
from tests.conftest import sample, scalar
from tests.loading import AT, load

FIXTURE = 9001


def odds_item(prices: dict[str, str], *, bookmaker: str = "Bet365", bet: str = "Match Winner",
              update: str = "2026-11-28T09:00:00+00:00") -> dict[str, Any]:
    return {"league": {"id": 39, "name": "Premier League", "season": 2026},
            "fixture": {"id": FIXTURE, "timezone": "UTC", "date": "2026-11-30T15:00:00+00:00", "timestamp": 1796050800},
            "update": update,
            "bookmakers": [{"id": 8, "name": bookmaker, "bets": [
                {"id": 1, "name": bet, "values": [{"value": v, "odd": o} for v, o in prices.items()]}]}]}


def fetch_odds(db: Database, item: dict[str, Any], hours: int, raw_id: int) -> int:
    """Load one /odds answer `hours` after AT; returns the history rows it added."""
    before = scalar(db, "SELECT count(*) FROM core.odds_history")
    load(db, "odds", {"fixture": str(FIXTURE)}, [item], at=AT + timedelta(hours=hours), raw_id=raw_id)
    return scalar(db, "SELECT count(*) FROM core.odds_history") - before


def path_of(db: Database, value: str) -> list[float]:
    rows = db.fetchall("SELECT odd FROM core.odds_history WHERE fixture_id = %s AND value = %s ORDER BY fetched_at",
                       (FIXTURE, value))
    return [float(r[0]) for r in rows]


def test_transform_odds_history_rows_fold_the_label_and_keep_it() -> None:
    batch = transform.run("odds", {"fixture": str(FIXTURE)}, [odds_item({"Home": "2.10", "Over 2.5": "1.9"})])
    history = next(t for t in batch.tables() if t.table == "core.odds_history")
    assert [(r["value"], r["value_label"], r["odd"], r["in_play"]) for r in history.rows] == [
        ("home", "Home", 2.1, False), ("over 2.5", "Over 2.5", 1.9, False)]
    assert batch.touched["odds_history"] == {FIXTURE}


def test_a_price_is_kept_only_when_it_moves(db: Database) -> None:
    assert fetch_odds(db, odds_item({"Home": "2.10", "Draw": "3.30", "Away": "3.60"}), 0, 1) == 3
    # re-fetched unchanged, with a newer API update time: history is not a log of fetches
    assert fetch_odds(db, odds_item({"Home": "2.10", "Draw": "3.30", "Away": "3.60"},
                                    update="2026-11-28T12:00:00+00:00"), 1, 2) == 0
    assert fetch_odds(db, odds_item({"Home": "2.05", "Draw": "3.30", "Away": "3.60"}), 3, 3) == 1
    assert fetch_odds(db, odds_item({"Home": "2.10", "Draw": "3.30", "Away": "3.60"}), 6, 4) == 1  # back again
    assert path_of(db, "home") == [2.10, 2.05, 2.10] and path_of(db, "draw") == [3.30]
    first, last = db.fetchall("SELECT fetched_at, raw_id, odds_updated_at FROM core.odds_history "
                              "WHERE value = 'home' ORDER BY fetched_at")[::2]
    assert (as_datetime(first[0]), first[1]) == (AT, 1)
    assert (as_datetime(last[0]), last[1]) == (AT + timedelta(hours=6), 4)


def test_a_renamed_bookmaker_or_bet_and_a_label_changing_case_stay_one_series(db: Database) -> None:
    fetch_odds(db, odds_item({"Home": "2.10"}), 0, 1)
    assert fetch_odds(db, odds_item({"home": "2.10"}, bookmaker="bet365", bet="1X2"), 3, 2) == 0
    assert fetch_odds(db, odds_item({"HOME": "2.20"}, bookmaker="bet365", bet="1X2"), 6, 3) == 1
    rows = db.fetchall("SELECT value, value_label, bookmaker_name, bet_name FROM core.odds_history ORDER BY fetched_at")
    assert [tuple(r) for r in rows] == [("home", "Home", "Bet365", "Match Winner"), ("home", "HOME", "bet365", "1X2")]
    movement = db.fetch_dicts("SELECT * FROM mart.odds_movement")
    assert len(movement) == 1 and movement[0]["bookmaker_name"] == "bet365" and movement[0]["value_label"] == "HOME"


def test_odds_of_a_fixture_not_held_yet_are_kept(db: Database) -> None:
    assert scalar(db, "SELECT count(*) FROM core.fixtures") == 0
    assert fetch_odds(db, odds_item({"Home": "2.10"}), 0, 1) == 1
    assert scalar(db, "SELECT kickoff_at FROM core.fixtures WHERE id = %s", (FIXTURE,)) is not None


def test_odds_movement_opening_closing_before_kickoff(db: Database) -> None:
    for hours, (raw_id, home) in enumerate([(1, "2.10"), (2, "2.00"), (3, "1.80"), (4, "1.95")]):
        fetch_odds(db, odds_item({"Home": home}), hours * 24, raw_id)  # the last one after kick-off (30 Nov 15:00)
    row = db.fetch_dicts("SELECT * FROM mart.odds_movement")[0]
    assert (float(row["opening_odd"]), float(row["closing_odd"])) == (2.10, 1.80)
    assert as_datetime(row["closing_at"]) == AT + timedelta(hours=48)
    assert (float(row["min_odd"]), float(row["max_odd"]), row["moves"]) == (1.80, 2.10, 2)
    assert round(float(row["implied_change"]), 4) == round(1 / 1.80 - 1 / 2.10, 4)


def test_live_odds_land_now_and_as_in_play_history(db: Database) -> None:
    item = sample("docs_examples/Pedrigl__LiveOdds.json")["response"][0]
    load(db, "odds/live", {"fixture": "721238"}, [item])
    lines = sum(len(bet["values"]) for bet in item["odds"])
    priced = sum(1 for bet in item["odds"] for value in bet["values"] if value["odd"] != "0")  # "0": suspended
    assert (lines, priced) == (253, 235)
    held = scalar(db, "SELECT count(*) FROM core.odds_live WHERE fixture_id = 721238")
    assert held == lines and priced == scalar(db, "SELECT count(*) FROM core.odds_history WHERE in_play = %s", (True,))
    assert scalar(db, "SELECT odd FROM core.odds_live WHERE bet_id = 20 AND value = 'Over 10'") == 9
    assert scalar(db, "SELECT DISTINCT bookmaker_id FROM core.odds_history") == 0
    assert scalar(db, "SELECT elapsed FROM core.odds_live WHERE bet_id = 20 AND value = 'Over 8'") == 62
    moved = copy.deepcopy(item)
    moved["odds"] = [{**moved["odds"][0], "values": [{**moved["odds"][0]["values"][0], "odd": "2.75"}]}]
    load(db, "odds/live", {"fixture": "721238"}, [moved], at=AT + timedelta(seconds=30), raw_id=2)
    assert scalar(db, "SELECT count(*) FROM core.odds_live") == 1  # the feed's lines now: replaced
    assert scalar(db, "SELECT count(*) FROM core.odds_history") == priced + 1
    assert scalar(db, "SELECT count(*) FROM mart.odds_movement") == 0  # in play is not pre-match movement


def test_a_suspended_live_line_is_no_price_in_the_history(db: Database) -> None:
    """The live feed sends odd "0" for a suspended line: the selection's history goes 2.5 → 2.6, not through 0."""
    from afc.marts.history_read import odds_movement

    item = sample("docs_examples/Pedrigl__LiveOdds.json")["response"][0]
    line = {**item["odds"][0]["values"][0], "odd": "2.5", "suspended": False}
    one = {**item, "odds": [{**item["odds"][0], "values": [line]}]}
    suspended = copy.deepcopy(one)
    suspended["odds"][0]["values"][0].update(odd="0", suspended=True)
    resumed = copy.deepcopy(one)
    resumed["odds"][0]["values"][0]["odd"] = "2.6"
    for seconds, answer in enumerate([one, suspended, resumed]):
        load(db, "odds/live", {"fixture": "721238"}, [answer], at=AT + timedelta(seconds=30 * seconds),
             raw_id=seconds + 1)
        if answer is suspended:  # the line now says so
            assert scalar(db, "SELECT suspended FROM core.odds_live") in (True, 1)
    [selection] = odds_movement(db, 721238)
    assert selection.in_play and selection.path == [2.5, 2.6]
    assert (selection.summary["min_odd"], selection.summary["closing_odd"]) == (2.5, 2.6)


def standing(team: int, rank: int, points: int, played: int, group: str = "Group A") -> dict[str, Any]:
    return {"rank": rank, "team": {"id": team, "name": f"Team {team}"}, "points": points, "goalsDiff": 0,
            "group": group, "form": "W", "status": "same", "description": "Promotion" if rank == 1 else None,
            "all": {"played": played, "win": 0, "draw": 0, "lose": 0, "goals": {"for": 0, "against": 0}},
            "home": {}, "away": {}, "update": "2026-11-28T00:00:00+00:00"}


def standings_item(*groups: list[dict[str, Any]]) -> dict[str, Any]:
    return {"league": {"id": 2, "name": "Champions League", "season": 2026, "standings": list(groups)}}


def fetch_table(db: Database, item: dict[str, Any], hours: int, raw_id: int, **params: str) -> int:
    before = scalar(db, "SELECT count(*) FROM core.standings_history")
    load(db, "standings", {"league": "2", "season": "2026", **params}, [item], at=AT + timedelta(hours=hours),
         raw_id=raw_id)
    return scalar(db, "SELECT count(*) FROM core.standings_history") - before


def by_round(db: Database, group: str = "Group A") -> dict[int, list[tuple[int, int]]]:
    rows = db.fetchall("SELECT round, team_id, points FROM mart.table_by_round WHERE group_name = %s "
                       "ORDER BY round, rank", (group,))
    found: dict[int, list[tuple[int, int]]] = {}
    for matchday, team, points in rows:
        found.setdefault(matchday, []).append((team, points))
    return found


def test_several_groups_each_keep_their_table_per_round(db: Database) -> None:
    a1 = [standing(1, 1, 3, 1), standing(2, 2, 0, 1)]
    b1 = [standing(3, 1, 1, 1, "Group B"), standing(4, 2, 1, 1, "Group B")]
    assert fetch_table(db, standings_item(a1, b1), 0, 1) == 4
    assert fetch_table(db, standings_item(a1, b1), 24, 2) == 0  # the same tables again: nothing
    b2 = [standing(4, 1, 4, 2, "Group B"), standing(3, 2, 1, 2, "Group B")]
    assert fetch_table(db, standings_item(a1, b2), 48, 3) == 2  # only group B moved
    assert by_round(db, "Group A") == {1: [(1, 3), (2, 0)]}
    assert by_round(db, "Group B") == {1: [(3, 1), (4, 1)], 2: [(4, 4), (3, 1)]}
    assert fetch_table(db, standings_item([standing(1, 1, 6, 2)]), 50, 4, team="1") == 0  # one team's rows: no table


def test_a_corrected_result_is_a_new_version_and_nothing_is_lost(db: Database) -> None:
    fetch_table(db, standings_item([standing(1, 1, 3, 12), standing(2, 2, 0, 12)]), 0, 1)
    fetch_table(db, standings_item([standing(1, 1, 4, 13), standing(2, 2, 1, 13)]), 24, 2)
    # the API corrects a round-13 result (a draw, not a win) while the table still reflects round 13
    assert fetch_table(db, standings_item([standing(1, 1, 2, 13), standing(2, 2, 1, 13)]), 30, 3) == 2
    assert by_round(db) == {12: [(1, 3), (2, 0)], 13: [(1, 2), (2, 1)]}
    versions = db.fetchall("SELECT DISTINCT fetched_at FROM core.standings_history WHERE round = 13")
    assert len(versions) == 2  # the table before the correction is still held
    assert as_datetime(scalar(db, "SELECT max(as_of) FROM mart.table_by_round")) == AT + timedelta(hours=30)


def test_a_real_cup_answer_with_two_groups(db: Database) -> None:
    answer = sample("standings/JuanFPaz__standings-copa-de-la-liga-profesional-2024.json")
    load(db, "standings", {"league": "1032", "season": "2024"}, answer["response"])
    rows = db.fetchall("SELECT group_name, round, count(*) FROM mart.table_by_round GROUP BY group_name, round "
                       "ORDER BY group_name")
    assert [tuple(r) for r in rows] == [("Group A", 14, 14), ("Group B", 14, 14)]
    assert load(db, "standings", {"league": "1032", "season": "2024"}, answer["response"], raw_id=2).inserted == 0
