"""Matches as the clock moves: statuses, events that add up, knockouts, standings, live, corrections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from afc.sandbox import SandboxConfig, World, start_sandbox
from afc.sandbox.catalog import FINISHED_STATUSES, LIVE_STATUSES, UCL
from afc.sandbox.testing import api_client, find_fixture, fixtures_of, frozen_clock

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
YEAR = 2026


@pytest.fixture(scope="module")
def sb():
    with start_sandbox(SandboxConfig(rate_limit=False), clock=frozen_clock(NOW)) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(sb):
    with api_client(sb) as c:
        yield c


@pytest.fixture(scope="module")
def world(sb) -> World:
    return sb.world


def _status(world: World, fixture_id: int, at: datetime) -> tuple:
    status = world.state(fixture_id, at)["fixture"]["status"]
    return status["short"], status["elapsed"], status["extra"]


def test_a_match_walks_ns_1h_ht_2h_ft(world):
    fx = find_fixture(world, lambda f: f.fate == "", [39], [YEAR - 1])
    added1, added2 = world.outcome(fx.id).added
    minute = lambda m: fx.kickoff + timedelta(minutes=m, seconds=1)  # noqa: E731
    assert _status(world, fx.id, fx.kickoff - timedelta(minutes=1)) == ("NS", None, None)
    assert _status(world, fx.id, minute(0)) == ("1H", 1, None)
    assert _status(world, fx.id, minute(30)) == ("1H", 31, None)
    assert _status(world, fx.id, minute(45 + added1 - 1)) == ("1H", 45, added1)
    assert _status(world, fx.id, minute(45 + added1 + 5)) == ("HT", 45, None)
    second = 60 + added1
    assert _status(world, fx.id, minute(second + 14)) == ("2H", 60, None)
    assert _status(world, fx.id, minute(second + 45 + added2 - 1)) == ("2H", 90, added2)
    assert _status(world, fx.id, minute(second + 45 + added2)) == ("FT", 90, added2)
    item = world.state(fx.id, minute(second + 1))
    assert item["fixture"]["periods"] == {"first": int(fx.kickoff.timestamp()),
                                          "second": int((fx.kickoff + timedelta(minutes=second)).timestamp())}
    assert item["score"]["halftime"]["home"] is not None and item["score"]["fulltime"]["home"] is None


def test_goals_are_null_before_kickoff(world):
    fx = find_fixture(world, lambda f: f.kickoff > NOW + timedelta(days=3) and f.fate == "", [39], [YEAR])
    item = world.state(fx.id, NOW)
    assert item["goals"] == {"home": None, "away": None}
    assert item["teams"]["home"]["winner"] is None


def _goal_events(events: list[dict], home_id: int) -> tuple[int, int]:
    """Goals per side from the events; as in the real API an own goal is listed under the team it counts for."""
    counts = [0, 0]
    for e in events:
        if e["type"] == "Goal" and e["detail"] != "Missed Penalty":
            counts[0 if e["team"]["id"] == home_id else 1] += 1
    return counts[0], counts[1]


def test_events_add_up_to_the_score_at_every_moment(world):
    for fx in world.fixtures(39, YEAR - 1)[:60]:
        if fx.fate in ("CANC",):
            continue
        final = world.final(fx.id)
        assert _goal_events(final["events"], fx.home_id) == (final["goals"]["home"], final["goals"]["away"])
        half = world.state(fx.id, fx.kickoff + timedelta(minutes=55), details=True)
        if half["fixture"]["status"]["short"] == "HT":
            assert _goal_events(half["events"], fx.home_id) == (half["goals"]["home"], half["goals"]["away"])


def test_own_goals_are_scored_by_the_other_side(world):
    fx = find_fixture(world, lambda f: any(g.detail == "Own Goal" for g in world.outcome(f.id).goals), [39], [YEAR - 1])
    final = world.final(fx.id)
    squads = {lineup["team"]["id"]: {p["player"]["id"] for p in lineup["startXI"] + lineup["substitutes"]}
              for lineup in final["lineups"]}
    own = [e for e in final["events"] if e["detail"] == "Own Goal"]
    assert own and all(e["player"]["id"] not in squads[e["team"]["id"]] for e in own)
    assert all(any(e["player"]["id"] in members for members in squads.values()) for e in own)


def test_events_name_players_from_the_lineups(world):
    fx = find_fixture(world, lambda f: f.fate == "" and sum(world.outcome(f.id).final) >= 3, [39], [YEAR - 1])
    final = world.final(fx.id)
    on_sheet = {p["player"]["id"] for lineup in final["lineups"] for p in lineup["startXI"] + lineup["substitutes"]}
    for e in final["events"]:
        assert e["player"]["id"] in on_sheet
        assert e["assist"]["id"] is None or e["assist"]["id"] in on_sheet
    scorers = {e["player"]["id"] for e in final["events"] if e["detail"] in ("Normal Goal", "Penalty")}
    sheet_goals = {p["player"]["id"] for team in final["players"] for p in team["players"]
                   if p["statistics"][0]["goals"]["total"]}
    assert scorers == sheet_goals
    substitutions = [e for e in final["events"] if e["type"] == "subst"]
    assert substitutions and all(e["detail"].startswith("Substitution ") for e in substitutions)


def test_a_knockout_tie_goes_to_penalties(world):
    fx = find_fixture(world, lambda f: world.timeline(f.id).final_status()[0] == "PEN", [UCL])
    tl = world.timeline(fx.id)
    seen: list[str] = []
    moment = fx.kickoff
    while not seen or seen[-1] not in FINISHED_STATUSES:
        short = world.phase(fx.id, moment).short
        if not seen or seen[-1] != short:
            seen.append(short)
        moment += timedelta(minutes=1)
    assert seen == ["1H", "HT", "2H", "BT", "ET", "BT", "ET", "BT", "P", "PEN"]
    final = world.final(fx.id)
    home, away = final["score"]["penalty"]["home"], final["score"]["penalty"]["away"]
    assert home != away
    assert final["teams"]["home"]["winner"] is (home > away)
    assert final["fixture"]["status"]["elapsed"] == 120
    assert final["score"]["extratime"]["home"] is not None
    extra_time = world.state(fx.id, fx.kickoff + timedelta(seconds=tl.et1_start + 300))
    assert extra_time["fixture"]["status"]["short"] == "ET" and extra_time["score"]["penalty"]["home"] is None


def test_standings_are_computed_from_the_results(client, world):
    body = client.get("/standings", params={"league": "39", "season": YEAR}).json()
    table = body["response"][0]["league"]["standings"][0]
    expected: dict[int, list[int]] = {}
    for fx in world.fixtures(39, YEAR):
        item = world.state(fx.id, NOW)
        if item["fixture"]["status"]["short"] not in FINISHED_STATUSES:
            continue
        home, away = item["goals"]["home"], item["goals"]["away"]
        for team, gf, ga in ((fx.home_id, home, away), (fx.away_id, away, home)):
            row = expected.setdefault(team, [0, 0, 0, 0, 0])
            row[0] += 1
            row[1 if gf > ga else 2 if gf == ga else 3] += 1
            row[4] += gf - ga
    assert len(table) == 20
    for row in table:
        played, win, draw, lose, diff = expected[row["team"]["id"]]
        counts = row["all"]
        assert (counts["played"], counts["win"], counts["draw"], counts["lose"]) == (played, win, draw, lose)
        assert row["points"] == 3 * win + draw and row["goalsDiff"] == diff
        assert row["all"]["played"] == row["home"]["played"] + row["away"]["played"]
    assert [r["points"] for r in table] == sorted((r["points"] for r in table), reverse=True)
    assert [r["rank"] for r in table] == list(range(1, 21))


def test_ucl_standings_have_eight_groups(client):
    body = client.get("/standings", params={"league": "2", "season": YEAR - 1}).json()
    groups = body["response"][0]["league"]["standings"]
    assert [g[0]["group"] for g in groups] == [f"Group {c}" for c in "ABCDEFGH"]
    assert all(len(g) == 4 and g[0]["all"]["played"] == 6 for g in groups)


def test_live_all_returns_exactly_what_is_in_play_with_events_only(sb, client, world):
    fx = find_fixture(world, lambda f: f.kickoff.date() == NOW.date() and f.fate == "" and f.league_id != 144,
                      seasons=[YEAR])
    moment = fx.kickoff + timedelta(minutes=30)
    sb.clock.set(moment)
    try:
        body = client.get("/fixtures", params={"live": "all"}).json()
        by_league = client.get("/fixtures", params={"live": f"{fx.league_id}-140"}).json()
    finally:
        sb.clock.set(NOW)
    playing = {f.id for f in world.fixtures_between(moment - timedelta(hours=4), moment + timedelta(minutes=1))
               if world.phase(f.id, moment).short in LIVE_STATUSES}
    assert fx.id in playing
    assert {i["fixture"]["id"] for i in body["response"]} == playing
    assert all(set(i) == {"fixture", "league", "teams", "goals", "score", "events"} for i in body["response"])
    assert {i["league"]["id"] for i in by_league["response"]} <= {fx.league_id, 140}


def test_ids_respect_coverage(client, world):
    def finished_in(league: int) -> int:
        return find_fixture(world, lambda f: f.fate == "" and sum(world.outcome(f.id).final) > 0,
                            [league], [YEAR - 1]).id
    ids = [finished_in(39), finished_in(88), finished_in(144)]
    body = client.get("/fixtures", params={"ids": "-".join(map(str, ids))}).json()
    items = {i["league"]["id"]: i for i in body["response"]}
    assert all(items[39][k] for k in ("events", "lineups", "statistics", "players"))
    assert items[88]["events"]
    assert items[88]["lineups"] == items[88]["statistics"] == items[88]["players"] == []
    assert items[144]["events"] == [] and items[144]["lineups"]


def test_silent_correction_is_visible_before_and_fixed_after(client, sb, world):
    fx = find_fixture(world, lambda f: world.details(f.id).wrong is not None, [39], [YEAR - 1])
    index, wrong = world.details(fx.id).wrong
    corrected_at = world.corrected_at(fx.id)
    assert corrected_at == world.finished_at(fx.id) + timedelta(minutes=30)
    before = world.state(fx.id, corrected_at - timedelta(minutes=5), details=True)["events"]
    after = world.state(fx.id, corrected_at + timedelta(minutes=1), details=True)["events"]
    assert before != after
    assert (before[index]["player"]["id"], before[index]["assist"]["id"]) == (wrong.player, wrong.assist)
    assert (after[index]["player"]["id"], after[index]["assist"]["id"]) == (wrong.assist, wrong.player)
    assert world.final(fx.id)["events"] == after
    sb.clock.set(corrected_at - timedelta(minutes=5))
    try:
        served = client.get("/fixtures/events", params={"fixture": fx.id}).json()["response"]
    finally:
        sb.clock.set(NOW)
    assert served == before


def test_postponed_fixture_goes_back_to_ns_with_a_new_date(world):
    fx = find_fixture(world, lambda f: f.fate == "PST", seasons=[YEAR - 1])
    assert fx.announced and fx.planned and fx.resolved  # a postponement carries all three dates

    def at(moment: datetime) -> dict[str, Any]:
        return world.state(fx.id, moment)["fixture"]

    assert at(fx.announced - timedelta(hours=1))["status"]["short"] == "NS"
    assert at(fx.announced + timedelta(hours=1))["status"]["short"] == "PST"
    assert at(fx.announced + timedelta(hours=1))["timestamp"] == int(fx.planned.timestamp())
    rescheduled = at(fx.resolved + timedelta(hours=1))
    assert rescheduled["status"]["short"] == "NS" and rescheduled["timestamp"] == int(fx.kickoff.timestamp())
    assert world.final(fx.id)["fixture"]["status"]["short"] in FINISHED_STATUSES


def test_cancelled_abandoned_and_tbd(world):
    canc = find_fixture(world, lambda f: f.fate == "CANC", seasons=[YEAR - 1])
    cancelled = world.final(canc.id)
    assert cancelled["fixture"]["status"]["short"] == "CANC" and cancelled["goals"]["home"] is None
    abd = find_fixture(world, lambda f: f.fate == "ABD", seasons=[YEAR - 1])
    final = world.final(abd.id)["fixture"]["status"]
    assert final["short"] == "ABD" and final["elapsed"] == world.outcome(abd.id).abandoned_at
    tbd = find_fixture(world, lambda f: f.fate == "TBD", seasons=[YEAR - 1])
    assert tbd.announced is not None  # when its kickoff time gets fixed
    early = world.state(tbd.id, tbd.announced - timedelta(days=1))["fixture"]
    assert early["status"]["short"] == "TBD" and early["date"].endswith("T00:00:00+00:00")


def test_league_without_livescore_stays_ns_then_jumps_to_the_result(world):
    fx = find_fixture(world, lambda f: f.fate == "", [144], [YEAR - 1])
    assert _status(world, fx.id, fx.kickoff + timedelta(minutes=50))[0] == "NS"
    assert _status(world, fx.id, fx.kickoff + timedelta(hours=3, minutes=1))[0] in FINISHED_STATUSES


def test_lineups_appear_thirty_minutes_before_kickoff(world):
    fx = find_fixture(world, lambda f: f.fate == "", [39], [YEAR - 1])
    assert world.state(fx.id, fx.kickoff - timedelta(minutes=45), details=True)["lineups"] == []
    early = world.state(fx.id, fx.kickoff - timedelta(minutes=20), details=True)
    assert len(early["lineups"]) == 2 and early["events"] == [] and early["statistics"] == []


def test_live_statistics_grow_with_the_match(world):
    fx = find_fixture(world, lambda f: f.fate == "", [39], [YEAR - 1])
    def passes(minutes: int) -> int:
        item = world.state(fx.id, fx.kickoff + timedelta(minutes=minutes), details=True)
        return next(s["value"] for s in item["statistics"][0]["statistics"] if s["type"] == "Total passes")
    assert 0 < passes(20) < passes(80) <= passes(200)


def test_rounds_current_and_dates(client):
    rounds = client.get("/fixtures/rounds", params={"league": "39", "season": YEAR}).json()["response"]
    assert rounds[:2] == ["Regular Season - 1", "Regular Season - 2"] and len(rounds) == 38
    current = client.get("/fixtures/rounds", params={"league": "39", "season": YEAR, "current": "true"}).json()
    assert len(current["response"]) == 1 and current["response"][0] in rounds
    dated = client.get("/fixtures/rounds", params={"league": "39", "season": YEAR, "dates": "true"}).json()["response"]
    assert dated[0]["round"] == "Regular Season - 1" and dated[0]["dates"] == sorted(dated[0]["dates"])


def test_fixture_filters(client, world):
    season = client.get("/fixtures", params={"league": "39", "season": YEAR}).json()["response"]
    assert len(season) == 380
    assert [i["fixture"]["timestamp"] for i in season] == sorted(i["fixture"]["timestamp"] for i in season)
    waiting = client.get("/fixtures", params={"league": "39", "season": YEAR, "status": "NS-PST"}).json()["response"]
    assert waiting and {i["fixture"]["status"]["short"] for i in waiting} <= {"NS", "PST"}
    team = client.get("/fixtures", params={"team": "33", "season": YEAR - 1}).json()["response"]
    assert all(33 in (i["teams"]["home"]["id"], i["teams"]["away"]["id"]) for i in team) and len(team) >= 38
    last = client.get("/fixtures", params={"team": "33", "last": "3"}).json()["response"]
    assert len(last) == 3 and all(i["fixture"]["status"]["short"] in FINISHED_STATUSES for i in last)
    upcoming = client.get("/fixtures", params={"team": "33", "next": "2"}).json()["response"]
    assert len(upcoming) == 2 and all(i["fixture"]["timestamp"] > NOW.timestamp() for i in upcoming)
    day = client.get("/fixtures", params={"date": "2026-11-28"}).json()["response"]
    assert day and all(i["fixture"]["date"].startswith("2026-11-28") for i in day)
    span = client.get("/fixtures", params={"league": "39", "season": YEAR, "from": "2026-11-01",
                                           "to": "2026-11-30"}).json()["response"]
    assert span and all("2026-11-01" <= i["fixture"]["date"][:10] <= "2026-11-30" for i in span)
    h2h = client.get("/fixtures/headtohead", params={"h2h": "33-50"}).json()["response"]
    assert len(h2h) >= 8 and all({i["teams"]["home"]["id"], i["teams"]["away"]["id"]} == {33, 50} for i in h2h)


def test_injured_players_miss_the_lineup(world):
    def someone_missing(f) -> bool:
        return f.fate == "" and any(k == "Missing Fixture" for _, _, k, _ in world.absences(f.id))
    fx = find_fixture(world, someone_missing, [39], [YEAR - 1])
    missing = {p.id for p, _, kind, _ in world.absences(fx.id) if kind == "Missing Fixture"}
    lineups = world.final(fx.id)["lineups"]
    on_sheet = {p["player"]["id"] for lineup in lineups for p in lineup["startXI"] + lineup["substitutes"]}
    assert missing and not missing & on_sheet


def test_every_fixture_of_a_season_finishes_consistently(world):
    for fx in fixtures_of(world, [78], [YEAR - 2]):
        final = world.state(fx.id, datetime(2999, 1, 1, tzinfo=UTC))
        short = final["fixture"]["status"]["short"]
        assert short in FINISHED_STATUSES | {"CANC", "ABD"}
        if short == "FT":
            home, away = final["goals"]["home"], final["goals"]["away"]
            assert final["score"]["fulltime"] == {"home": home, "away": away}
            assert final["teams"]["home"]["winner"] is (None if home == away else home > away)


def test_a_fixture_is_not_played_from_its_over_by_moment(world):
    """The live answer skips fixtures past `over_by` without working out their phase: none of them may be in
    play then or later (whatever its fate: abandoned, postponed, cancelled, extra time, no livescore), and a
    fixture played to the end is in play until that moment."""
    start = datetime(2026, 8, 15, tzinfo=UTC)
    pool = world.fixtures_between(start, start + timedelta(days=120))
    assert {f.fate for f in pool} >= {"", "PST", "CANC", "ABD"}
    for fx in pool:
        over = world.over_by(fx.id)
        for after in (timedelta(0), timedelta(seconds=1), timedelta(minutes=30), timedelta(hours=3)):
            assert world.phase(fx.id, over + after).short not in LIVE_STATUSES, (fx, after)
        if fx.fate == "" and world.livescore(fx.id):
            assert world.phase(fx.id, over - timedelta(seconds=1)).short in LIVE_STATUSES, fx
