"""The outbox: events appended in the response's own transaction, keyed by the data, corrections cancelled.

A recorded /fixtures?id= answer (Spain 3-0 Croatia, with a VAR-cancelled goal) is replayed in stages
through the real collection step, on both backends.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from afc.api.client import ApiClient, Request
from afc.collect import step as pipeline
from afc.collect.changes import Observation, diff
from afc.collect.collector import Collector
from afc.config.settings import load_settings
from afc.db import Database, load_json
from tests.conftest import sample, scalar
from tests.fakeapi import KEY, Answer, FakeApi, envelope

RECORDED = sample("fixtures_id/footballay__1145511_fixture.json")["response"][0]
FIXTURE = RECORDED["fixture"]["id"]
KICKOFF = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)  # an hour before the tests' frozen clock
RECORDED["fixture"]["timestamp"], RECORDED["fixture"]["date"] = int(KICKOFF.timestamp()), KICKOFF.isoformat()


def stage(status: str, goals: tuple[int, int], events: list[Any] | None, lineups: bool) -> dict[str, Any]:
    """The recorded item at an earlier moment of the match."""
    item = copy.deepcopy(RECORDED)
    item["fixture"]["status"] = {"short": status, "long": status, "elapsed": None if status == "NS" else 30}
    item["goals"] = {"home": goals[0], "away": goals[1]}
    item["events"] = events if events is not None else []
    item["lineups"] = RECORDED["lineups"] if lineups else []
    return item


def scored(*minutes: int) -> list[Any]:
    return [e for e in RECORDED["events"] if e["type"] == "Goal" and e["time"]["elapsed"] in minutes]


@pytest.fixture
def collector(db_url, clock):
    api = FakeApi()
    conf = load_settings({}, api_key=KEY, database_url=db_url)
    opened = Collector.open(conf, clock=clock, client=ApiClient("http://api.test", KEY, clock,
                                                                transport=api.transport()))
    opened.api = api  # type: ignore[attr-defined]
    yield opened
    opened.close()


def fetch(collector: Collector, item: dict[str, Any], *, notify: bool = True) -> list[str]:
    """Store one answer carrying `item`; returns the keys of the events it appended."""
    collector.api.routes["fixtures"] = Answer(200, envelope("fixtures", [item]))  # type: ignore[attr-defined]
    before = _last_id(collector.db)
    ctx = collector.context("test", "test", "CRITICAL")
    ctx.notify = notify
    pipeline.step(ctx, Request.of("fixtures", {"id": FIXTURE}))
    rows = collector.db.fetchall("SELECT event_key FROM ops.events_outbox WHERE id > %s ORDER BY id", (before,))
    return [r[0] for r in rows]


def _last_id(db: Database) -> int:
    row = db.fetchone("SELECT MAX(id) FROM ops.events_outbox")
    return int(row[0]) if row and row[0] is not None else 0


def event(db: Database, key: str) -> Any:
    return load_json(scalar(db, "SELECT payload FROM ops.events_outbox WHERE event_key = %s", (key,)))


def kinds(keys: list[str]) -> list[str]:
    return [k.split(":")[1] for k in keys]


def test_a_match_seen_in_stages_notifies_each_change_once(collector: Collector) -> None:
    assert fetch(collector, stage("NS", (0, 0), [], lineups=False)) == []  # the first sight is the baseline
    assert kinds(fetch(collector, stage("NS", (0, 0), [], lineups=True))) == ["lineups_confirmed"]
    first = fetch(collector, stage("1H", (1, 0), scored(29), lineups=True))
    assert kinds(first) == ["kickoff", "goal"]
    assert first[1] == f"{FIXTURE}:goal:9:59:29:1"  # fixture, kind, team, player, minute, sequence
    assert fetch(collector, stage("1H", (1, 0), scored(29), lineups=True)) == []  # a re-fetch: nothing new
    final = fetch(collector, RECORDED)
    assert sorted(kinds(final)) == ["full_time", "goal", "goal", "goal_disallowed"]
    payload = event(collector.db, first[1])
    assert payload["schema"] == 1 and payload["kind"] == "goal" and payload["player"]["name"] == "Álvaro Morata"
    assert payload["fixture"]["home"]["id"] == 9 and payload["minute"] == 29 and payload["team"]["id"] == 9
    teams, league = RECORDED["teams"], RECORDED["league"]
    assert payload["fixture"]["home"] == {"id": 9, "name": teams["home"]["name"]}
    assert payload["fixture"]["away"] == {"id": teams["away"]["id"], "name": teams["away"]["name"]}
    assert payload["fixture"]["league"] == {"id": league["id"], "season": league["season"], "name": league["name"]}
    corrected = copy.deepcopy(RECORDED)
    corrected["events"] = [e for e in RECORDED["events"] if e["time"]["elapsed"] != 29]
    corrected["goals"] = {"home": 2, "away": 0}
    fixes = fetch(collector, corrected)
    assert sorted(kinds(fixes)) == ["goal", "score_corrected"] and f"{first[1]}:cancelled" in fixes
    cancel = event(collector.db, f"{first[1]}:cancelled")
    assert cancel["kind"] == "goal_cancelled" and cancel["cancels"] == first[1]
    assert fetch(collector, corrected) == []


def test_backfill_writes_core_but_appends_no_event(collector: Collector) -> None:
    fetch(collector, stage("NS", (0, 0), [], lineups=False))
    assert fetch(collector, stage("1H", (1, 0), scored(29), lineups=True), notify=False) == []
    row = collector.db.fetchone("SELECT status_short FROM core.fixtures WHERE id = %s", (FIXTURE,))
    assert row == ("1H",)


def test_joining_a_match_in_play_reports_its_kickoff_and_goals(collector: Collector) -> None:
    assert kinds(fetch(collector, stage("2H", (2, 0), scored(29, 32), lineups=True))) == ["kickoff", "goal", "goal"]


def test_a_finished_match_first_seen_is_history() -> None:
    seen = Observation(1, {"id": 39}, KICKOFF, "FT", 90, {"id": 1}, {"id": 2}, (3, 0), RECORDED["events"], None)
    notices, state = diff(seen, None, KICKOFF + timedelta(hours=2))
    assert notices == [] and len(state["incidents"]) == 4  # 3 goals and the VAR decision, kept for corrections


def test_a_change_long_after_kickoff_is_kept_but_not_notified() -> None:
    before = {"status": "NS", "score": [0, 0], "incidents": {}, "lineups": False}
    seen = Observation(1, {"id": 39}, KICKOFF, "FT", 90, {"id": 1}, {"id": 2}, (3, 0), RECORDED["events"], None)
    assert diff(seen, before, KICKOFF + timedelta(hours=7))[0] == []
    assert len(diff(seen, before, KICKOFF + timedelta(hours=5))[0]) == 5  # full time, 3 goals, the VAR decision


@pytest.mark.parametrize(("status", "kind"), [("PST", "postponed"), ("CANC", "cancelled"), ("ABD", "abandoned")])
def test_a_match_called_off_is_notified(status: str, kind: str) -> None:
    before = {"status": "NS", "score": [None, None], "incidents": {}, "lineups": False}
    seen = Observation(7, {"id": 39}, KICKOFF, status, None, {"id": 1}, {"id": 2}, (None, None), None, None)
    assert [n.key for n in diff(seen, before, KICKOFF - timedelta(days=3))[0]] == [f"7:{kind}"]


def test_an_empty_event_list_with_goals_on_the_board_cancels_nothing() -> None:
    goal = scored(29)
    seen = Observation(7, {"id": 39}, None, "1H", 30, {"id": 1}, {"id": 2}, (1, 0), goal, None)
    _, state = diff(seen, None, KICKOFF)
    hiccup = Observation(7, {"id": 39}, None, "1H", 31, {"id": 1}, {"id": 2}, (1, 0), [], None)
    notices, kept = diff(hiccup, state, KICKOFF)
    assert notices == [] and kept["incidents"] == state["incidents"]


def test_each_event_shows_its_own_fixtures_names_among_fixtures_that_notify_nothing(collector: Collector) -> None:
    def other(fixture_id: int, home: str, status: str) -> dict[str, Any]:
        item = stage(status, (1, 0) if status == "1H" else (0, 0), scored(29) if status == "1H" else [], False)
        item["fixture"]["id"], item["teams"]["home"] = fixture_id, {**item["teams"]["home"], "id": 1000 + fixture_id,
                                                                    "name": home}
        item["league"] = {**item["league"], "id": fixture_id, "name": f"League {fixture_id}"}
        return item

    answer = [other(n, f"Home {n}", "1H" if n % 3 == 0 else "NS") for n in range(1, 10)]
    collector.api.routes["fixtures"] = Answer(200, envelope("fixtures", answer))  # type: ignore[attr-defined]
    pipeline.step(collector.context("test", "test", "CRITICAL"), Request.of("fixtures", {"date": "2026-11-28"}))
    rows = collector.db.fetchall("SELECT fixture_id, payload FROM ops.events_outbox ORDER BY id")
    assert sorted({fixture for fixture, _ in rows}) == [3, 6, 9]  # joined in play: kickoff and the goal
    for fixture, payload in rows:
        shown = load_json(payload)["fixture"]
        assert shown["home"] == {"id": 1000 + fixture, "name": f"Home {fixture}"}
        assert shown["league"]["id"] == fixture and shown["league"]["name"] == f"League {fixture}"


def _staged_match() -> list[dict[str, Any]]:
    """A match in stages, with a goal's minute that is a float (1e16: jsonb gives it back as an integer, and the
    minute is in the event's key) and a shirt number in the lineups shown before kickoff too."""
    odd = copy.deepcopy(scored(29))
    odd[0]["time"]["elapsed"] = 1e16
    shown = stage("NS", (0, 0), [], lineups=True)
    shown["lineups"] = copy.deepcopy(shown["lineups"])
    shown["lineups"][0]["startXI"][0]["player"]["number"] = 1e16
    corrected = copy.deepcopy(RECORDED)
    corrected["events"] = [e for e in RECORDED["events"] if e["time"]["elapsed"] != 29]
    return [stage("NS", (0, 0), [], lineups=False), shown,
            stage("1H", (1, 0), scored(29), lineups=True), stage("1H", (2, 0), scored(29) + odd, lineups=True),
            RECORDED, corrected]


def _replay(collector: Collector, fixture_id: int) -> tuple[list[list[str]], str]:
    """The staged match stored as fixture `fixture_id`: each stage's events (payloads as text, the fixture's id as X,
    without the time they were seen) and the state kept at the end."""
    appended = []
    for item in _staged_match():
        item = copy.deepcopy(item)
        item["fixture"]["id"] = fixture_id
        payloads = [{k: v for k, v in event(collector.db, key).items() if k != "occurred_at"}
                    for key in fetch(collector, item)]
        appended.append([json.dumps(p, sort_keys=True).replace(str(fixture_id), "X") for p in payloads])
    state = scalar(collector.db, "SELECT state FROM ops.notify_fixtures WHERE fixture_id = %s", (fixture_id,))
    return appended, json.dumps(load_json(state), sort_keys=True).replace(str(fixture_id), "X")


def test_parts_read_from_the_batch_notify_what_the_database_would(collector: Collector, monkeypatch) -> None:
    from afc.collect import outbox

    from_batch = _replay(collector, FIXTURE)
    monkeypatch.setattr(outbox, "written_parts", lambda batch: {})  # every part read back from the database
    from_database = _replay(collector, FIXTURE + 1)
    assert from_batch == from_database
    assert [len(stage) for stage in from_batch[0]] == [0, 1, 2, 1, 5, 1]


def test_parts_the_response_wrote_are_not_read_back(collector: Collector, monkeypatch) -> None:
    from afc.collect import outbox

    fetch(collector, stage("NS", (0, 0), [], lineups=False))
    monkeypatch.setattr(outbox, "PARTS", "SELECT no_such_column {ids}")  # reading the parts would fail
    assert kinds(fetch(collector, stage("1H", (1, 0), scored(29), lineups=True))) == ["kickoff", "goal"]
    live = stage("1H", (2, 0), scored(29, 32), lineups=True)
    del live["lineups"], live["players"], live["statistics"]  # a live item: events only, lineups read back
    with pytest.raises(Exception, match="no_such_column"):
        fetch(collector, live)


@pytest.mark.parametrize(("change", "scheduled", "alike"), [
    (lambda e, sides: None, True, True),
    (lambda e, sides: e[0]["time"].update(elapsed=29.0), False, False),
    (lambda e, sides: e[0]["player"].update(name="Mo\x00rata"), False, False),
    (lambda e, sides: e[0].update(detail="Normal\x00Goal"), False, False),
    (lambda e, sides: e[0].update(type=1.5), False, True),  # not a kind whatever its text
    (lambda e, sides: e.append({"type": "subst", "time": {"elapsed": 61.5}}), False, True),  # not notified: not read
    (lambda e, sides: sides[1]["startXI"][3]["player"].update(number=7.0), True, False),
    (lambda e, sides: sides[1]["startXI"][3]["player"].update(number=7.0), False, True),  # shown only before kickoff
    (lambda e, sides: sides[0].update(coach={"id": 1.5}), True, True),
    (lambda e, sides: sides[0].update(team=[1]), True, False),
    (lambda e, sides: sides[0].update(startXI="\x00"), False, False),
])
def test_parts_read_alike_when_what_the_events_read_holds_no_float_and_no_nul(change: Any, scheduled: bool,
                                                                                alike: bool) -> None:
    from afc.collect.changes import reads_alike

    events, lineups = copy.deepcopy(RECORDED["events"]), copy.deepcopy(RECORDED["lineups"])
    change(events, lineups)
    assert reads_alike(events, lineups, scheduled) is alike


def test_a_fixture_long_past_kickoff_is_not_compared_or_kept(collector: Collector) -> None:
    """History (kicked off more than HISTORY_AFTER before the answer) costs the outbox one look-up: no state is kept
    and nothing is compared; the same fixture moved to a later kickoff is news again and notifies as before."""
    long_ago = copy.deepcopy(RECORDED)
    past = KICKOFF - timedelta(hours=6, minutes=1)
    long_ago["fixture"]["timestamp"], long_ago["fixture"]["date"] = int(past.timestamp()), past.isoformat()
    assert fetch(collector, long_ago) == []
    kept = "SELECT count(*) FROM ops.notify_fixtures WHERE fixture_id = %s"
    assert scalar(collector.db, kept, (FIXTURE,)) == 0
    rescheduled = stage("NS", (None, None), [], lineups=False)  # type: ignore[arg-type]
    assert fetch(collector, rescheduled) == [] and scalar(collector.db, kept, (FIXTURE,)) == 1  # a baseline again
    assert kinds(fetch(collector, stage("1H", (1, 0), scored(29), lineups=False))) == ["kickoff", "goal"]
