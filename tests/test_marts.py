"""The marts: kept in the same transaction as core, only for the keys a response touched."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from afc.db import as_date, as_datetime, connect
from afc.marts import refresh as mart
from afc.marts import summary
from afc.marts.daily import refresh_daily_fixtures
from afc.marts.live import describe, settle
from tests.conftest import sample
from tests.loading import AT, load, one

EPL = "fixtures/obissing__matches2023.json"
LIVE = "fixtures_live/livefut__dataTest.js"


def test_daily_fixtures_has_one_row_per_fixture_with_names(db):
    load(db, "fixtures", {"league": "39", "season": "2023"}, sample(EPL)["response"])
    assert db.fetchone("SELECT count(*) FROM mart.daily_fixtures")[0] == 380
    row = one(db, "SELECT * FROM mart.daily_fixtures WHERE fixture_id = 1035037")
    assert as_date(row["match_date"]) == date(2023, 8, 11) and row["league_name"] == "Premier League"
    assert (row["home_team"], row["away_team"]) == ("Burnley", "Manchester City")
    assert (row["home_goals"], row["away_goals"]) == (0, 3)
    assert row["status_group"] == "finished" and as_datetime(row["updated_at"]) == AT


def test_league_summary_counts_fixtures_goals_and_the_leader(db):
    load(db, "fixtures", {"league": "39", "season": "2023"}, sample(EPL)["response"])
    summary = one(db, "SELECT * FROM mart.league_summary WHERE league_id = 39 AND season = 2023")
    figures = (summary["teams"], summary["fixtures_total"], summary["fixtures_played"], summary["goals"])
    assert figures == (20, 380, 380, 1246)
    assert float(summary["goals_per_game"]) == 3.28 and summary["leader_team_id"] is None
    table = sample("standings/obissing__standings2023.json")["response"]
    load(db, "standings", {"league": "39", "season": "2023"}, table, raw_id=2)
    summary = one(db, "SELECT * FROM mart.league_summary WHERE league_id = 39 AND season = 2023")
    assert (summary["leader_team_id"], summary["leader_name"], summary["leader_points"]) == (50, "Manchester City", 91)


def test_league_summary_of_a_season_in_progress(db):
    items = copy.deepcopy(sample(EPL)["response"][:10])
    for item in items[4:]:
        item["fixture"]["status"] = {"long": "Not Started", "short": "NS", "elapsed": None}
        item["goals"] = {"home": None, "away": None}
    load(db, "fixtures", {"league": "39", "season": "2023"}, items)
    summary = one(db, "SELECT fixtures_total, fixtures_played, goals FROM mart.league_summary")
    played_goals = sum(i["goals"]["home"] + i["goals"]["away"] for i in items[:4])
    assert summary == {"fixtures_total": 10, "fixtures_played": 4, "goals": played_goals}


LIVE_AT = datetime(2024, 2, 28, 1, 20, tzinfo=UTC)  # when the live recording was made


def test_live_scores_follow_fixtures_in_and_out_of_play(db):
    items = sample(LIVE)["response"]
    load(db, "fixtures", {"live": "all"}, items, at=LIVE_AT)
    assert db.fetchone("SELECT count(*) FROM mart.live_scores")[0] == 14
    row = one(db, "SELECT * FROM mart.live_scores WHERE fixture_id = 1149593")
    assert (row["home_team"], row["away_team"], row["home_goals"], row["away_goals"]) == (
        "Sporting Cristal", "Always Ready", 1, 1)
    assert row["last_event"] == "44' Yellow Card: Gustavo Cazanotti (Sporting Cristal)" and row["elapsed"] == 45
    finished = copy.deepcopy(next(i for i in items if i["fixture"]["id"] == 1149593))
    finished["fixture"]["status"] = {"long": "Match Finished", "short": "FT", "elapsed": 90}
    load(db, "fixtures", {"ids": "1149593"}, [finished], at=LIVE_AT, raw_id=2)
    assert db.fetchone("SELECT count(*) FROM mart.live_scores")[0] == 13
    assert db.fetchone("SELECT count(*) FROM mart.live_scores WHERE fixture_id = 1149593")[0] == 0


def test_unchanged_data_writes_no_mart_rows(db):
    items = sample(LIVE)["response"] + sample(EPL)["response"]
    load(db, "fixtures", {"date": "2023-08-11"}, items, at=LIVE_AT)
    assert db.fetchone("SELECT count(*) FROM mart.live_scores")[0] == 14
    later = LIVE_AT + timedelta(hours=1)
    load(db, "fixtures", {"date": "2023-08-11"}, items, at=later, raw_id=2)
    for table in ("mart.daily_fixtures", "mart.live_scores", "mart.league_summary"):
        assert db.fetchone(f"SELECT count(*) FROM {table} WHERE updated_at = %s", (later,))[0] == 0, table


def test_an_old_live_recording_never_reaches_the_panel(db):
    """Fixtures recorded mid-match long ago are stale records, not matches in play now (any age)."""
    items = sample(LIVE)["response"]
    load(db, "fixtures", {"live": "all"}, items)  # replayed at AT, 2026: kicked off in 2024
    assert db.fetchone("SELECT count(*) FROM core.fixtures WHERE status_group = 'live'")[0] == 14
    assert db.fetchone("SELECT count(*) FROM mart.live_scores")[0] == 0
    load(db, "fixtures", {"live": "all"}, items, at=LIVE_AT + timedelta(hours=3), raw_id=2)
    # 4 h after kick-off is the bound: at 04:20 the four kick-offs before 00:20 are past it, the rest not
    assert db.fetchone("SELECT count(*) FROM mart.live_scores")[0] == 10


@pytest.mark.parametrize("hours, left", [(1, 14), (4.3, 10), (24 * 800, 0)])
def test_settle_takes_fixtures_past_the_bound_off_the_panel_at_any_age(db, hours, left):
    load(db, "fixtures", {"live": "all"}, sample(LIVE)["response"], at=LIVE_AT)
    with db.transaction():
        gone = settle(db, datetime(2024, 2, 28, tzinfo=UTC) + timedelta(hours=hours))
    assert (gone, db.fetchone("SELECT count(*) FROM mart.live_scores")[0]) == (14 - left, left)


def _statement_journals() -> list[str]:
    """The temporary files SQLite holds open in this process (a statement journal past 64 kB is one)."""
    import os

    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            found.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
    return [name for name in found if "etilqs_" in name]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc")
def test_sqlite_writes_the_dashboard_rows_without_a_statement_journal(sqlite_url):
    """The rows of hundreds of fixtures in one statement each (new ones, then changed ones), and none of them keeps
    a journal of the pages it changes: nothing in them may fail half-way (see afc.marts.daily)."""
    db = connect(sqlite_url)
    items = sample(EPL)["response"]
    load(db, "fixtures", {"league": "39", "season": "2023"}, items)
    again = copy.deepcopy(items)  # the same kickoffs: their rows go between the first ones in the date indexes
    for item in again:
        item["fixture"]["id"] += 10_000_000
    load(db, "fixtures", {"league": "39", "season": "2023"}, again, raw_id=2)
    ids = {item["fixture"]["id"] for item in again}
    expected = db.fetchall("SELECT * FROM mart.daily_fixtures WHERE fixture_id > 10000000 ORDER BY fixture_id")
    db.execute("DELETE FROM mart.daily_fixtures WHERE fixture_id > 10000000")
    with db.transaction():
        assert refresh_daily_fixtures(db, ids, AT) == 380
        assert _statement_journals() == []
    assert db.fetchall("SELECT * FROM mart.daily_fixtures WHERE fixture_id > 10000000 ORDER BY fixture_id") == expected
    db.execute("UPDATE core.fixtures SET home_goals = COALESCE(home_goals, 0) + 1 WHERE id > 10000000")
    with db.transaction():
        assert refresh_daily_fixtures(db, ids, AT + timedelta(hours=1)) == 380
        assert _statement_journals() == []
    assert refresh_daily_fixtures(db, ids, AT + timedelta(hours=2)) == 0  # unchanged: not written
    db.close()


def test_a_refresher_touches_only_the_keys_it_is_given(db):
    load(db, "fixtures", {"league": "39", "season": "2023"}, sample(EPL)["response"])
    db.execute("UPDATE core.fixtures SET home_goals = 9 WHERE id IN (1035037, 1035038)")
    later = AT + timedelta(hours=2)
    with db.transaction():
        written = mart.refresh(db, {"fixture": {1035037}}, later)
    assert written == 1
    goals = dict(db.fetchall("SELECT fixture_id, home_goals FROM mart.daily_fixtures "
                             "WHERE fixture_id IN (1035037, 1035038)"))
    assert goals[1035037] == 9 and goals[1035038] != 9


def test_events_read_as_panel_lines():
    goal = {"time": {"elapsed": 90, "extra": 3}, "type": "Goal", "detail": "Penalty",
            "player": {"name": "H. Kane"}, "team": {"name": "Bayern München"}}
    assert describe(goal) == "90+3' Goal: H. Kane (Bayern München)"
    subst = {"time": {"elapsed": 60, "extra": None}, "type": "subst", "detail": "Substitution 1",
             "player": {"name": "A"}, "team": {"name": "B"}}
    assert describe(subst) == "60' Substitution: A (B)" and describe(None) is None


def _live(item: dict, goals: tuple[int | None, int | None], short: str = "2H") -> dict:
    changed = copy.deepcopy(item)
    changed["fixture"]["status"] = {"long": short, "short": short, "elapsed": 60}
    changed["goals"] = {"home": goals[0], "away": goals[1]}
    return changed


def _full_recount_writes_nothing(db, at: datetime) -> None:
    """The incremental summary equals a full recount: recounting every league season changes no row."""
    keys = {tuple(r) for r in db.fetchall("SELECT DISTINCT league_id, season FROM core.fixtures")}
    with db.transaction():
        assert summary.refresh_league_summary(db, keys, at) == 0


# What can change in a touched fixture since its dashboard row, one change per fixture (the first ten of twelve)
CHANGES = [
    "UPDATE core.fixtures SET home_goals = home_goals + 1 WHERE id = %s",  # finished: its goals count
    "UPDATE core.fixtures SET status_group = NULL WHERE id = %s",  # no longer finished (NULL is not)
    "UPDATE core.fixtures SET away_team_id = 99999 WHERE id = %s",
    "UPDATE core.fixtures SET season = 2024 WHERE id = %s",  # moved: the season it left is recounted
    "UPDATE core.fixtures SET league_id = NULL WHERE id = %s",
    "UPDATE core.fixtures SET kickoff_at = NULL WHERE id = %s",  # undated: its dashboard row may be stale
    "DELETE FROM mart.daily_fixtures WHERE fixture_id = %s",  # never on the dashboard
    "UPDATE mart.daily_fixtures SET season = NULL WHERE fixture_id = %s",
    "UPDATE core.fixtures SET home_goals = 7 WHERE id = %s",  # not started: goals do not count, it reads the same
    "UPDATE core.fixtures SET home_team_id = 99998 WHERE id = %s",
]
NOW_AND_BEFORE = """
SELECT f.league_id, f.season, f.home_team_id, f.away_team_id, f.status_group, f.home_goals, f.away_goals,
       f.kickoff_at IS NOT NULL, d.fixture_id IS NOT NULL,
       d.league_id, d.season, d.home_team_id, d.away_team_id, d.status_group, d.home_goals, d.away_goals
FROM core.fixtures f LEFT JOIN mart.daily_fixtures d ON d.fixture_id = f.id WHERE f.id = %s"""


def _reads(row) -> tuple:
    """What the summary reads of a fixture: league season, teams, finished or not, and its goals when finished."""
    league_id, season, home, away, group, home_goals, away_goals = row
    finished = group == "finished"
    return league_id, season, home, away, finished, (home_goals or 0) + (away_goals or 0) if finished else None


def _compared_by_hand(db, fixture_ids: set) -> tuple[set, set]:
    """summary.compare's answer, made row by row in Python from each fixture now and its dashboard row."""
    seen, changed, left = set(), set(), set()
    for fixture in fixture_ids:
        row = db.fetchone(NOW_AND_BEFORE, (fixture,))
        now, dated, known, before = _reads(row[:7]), row[7], row[8], row[9:]
        seen.add(now[:2])
        if not (dated and known) or _reads(before) != now:
            changed.add(now[:2])
            if known and before[1] is not None and tuple(before[:2]) != now[:2]:
                left.add(tuple(before[:2]))
    return {k for k in seen - changed if k[1] is not None}, left


def test_the_summary_compares_touched_fixtures_with_their_dashboard_rows_in_sql(db):
    """The database compares each touched fixture with its dashboard row (summary.PRIOR): the league seasons where all
    read the same, and those changed fixtures left, are what a row-by-row comparison gives, whatever changed."""
    items = copy.deepcopy(sample(EPL)["response"][:12])
    for item in items[8:]:
        item["fixture"]["status"] = {"long": "Not Started", "short": "NS", "elapsed": None}
        item["goals"] = {"home": None, "away": None}
    load(db, "fixtures", {"league": "39", "season": "2023"}, items)
    ids = [item["fixture"]["id"] for item in items]
    with db.transaction():
        assert summary.compare(db, set(ids)) == ({(39, 2023)}, set())  # nothing changed yet
        for sql, fixture in zip(CHANGES, ids, strict=False):
            db.execute(sql, (fixture,))
        for subset in [{i} for i in ids] + [set(ids), set(ids[8:]), {ids[8], *ids[10:]}]:
            assert summary.compare(db, subset) == _compared_by_hand(db, subset), subset
        assert summary.compare(db, {ids[8], *ids[10:]}) == ({(39, 2023)}, set())  # all read the same
        assert summary.compare(db, {ids[0]}) == (set(), set())  # goals of a finished match: changed
        assert summary.compare(db, {ids[3]}) == (set(), {(39, 2023)})  # moved to 2024: left 2023
        assert summary.compare(db, {ids[4]}) == (set(), {(39, 2023)})  # its league lost: left 2023


def test_league_summary_of_live_ticks_equals_a_full_recount(db):
    """Live ticks skip the recount; whatever a touched fixture can change (finishing, new fixtures, other teams,
    another season, a kickoff lost) still lands, and each step's summary equals a full recount."""
    items = copy.deepcopy(sample(EPL)["response"][:12])
    for item in items[4:]:
        item["fixture"]["status"] = {"long": "Not Started", "short": "NS", "elapsed": None}
        item["goals"] = {"home": None, "away": None}
    load(db, "fixtures", {"league": "39", "season": "2023"}, items[:10])
    at = AT
    in_play = [_live(items[4], (1, 0)), _live(items[5], (0, 0))]

    def tick(answer: list[dict]) -> None:
        nonlocal at
        at += timedelta(minutes=1)
        load(db, "fixtures", {"live": "all"}, answer, at=at)
        _full_recount_writes_nothing(db, at + timedelta(seconds=1))

    tick(in_play)
    with db.transaction():  # a pure live tick: its season is unchanged to the summary (no recount)
        assert summary.compare(db, {items[4]["fixture"]["id"], items[5]["fixture"]["id"]}) == ({(39, 2023)}, set())
    tick([_live(items[4], (2, 0)), _live(items[5], (0, 1))])
    tick([_live(items[4], (3, 0), "FT"), _live(items[5], (0, 1))])  # finished: played and goals grow
    assert one(db, "SELECT fixtures_played FROM mart.league_summary")["fixtures_played"] == 5
    tick([_live(items[10], (0, 0)), _live(items[5], (0, 2))])  # a fixture first seen in play: total grows
    assert one(db, "SELECT fixtures_total FROM mart.league_summary")["fixtures_total"] == 11
    other = _live(items[5], (0, 2))
    other["teams"]["away"] = copy.deepcopy(items[11]["teams"]["home"])  # a side corrected to another team
    tick([other])
    moved = _live(items[6], (1, 1))
    moved["league"]["season"] = 2024  # a fixture moved to another season: the one it left is recounted too
    tick([moved])
    assert db.fetchone("SELECT count(*) FROM mart.league_summary")[0] == 2
    undated = _live(items[7], (0, 0))
    undated["fixture"]["timestamp"], undated["fixture"]["date"] = None, None
    tick([undated])
    tick([_live(items[7], (1, 0), "FT")])
