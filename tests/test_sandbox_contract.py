"""The sandbox speaks the API's contract: envelope, parameters, validation messages, paging, keys."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from afc.sandbox import SandboxConfig, start_sandbox
from afc.sandbox.seasonstats import registered
from afc.sandbox.testing import api_client, find_fixture, frozen_clock
from tests.conftest import SAMPLES

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
RATE_HEADERS = ("x-ratelimit-requests-limit", "x-ratelimit-requests-remaining", "X-RateLimit-Limit",
                "X-RateLimit-Remaining")


@pytest.fixture(scope="module")
def sb():
    with start_sandbox(SandboxConfig(rate_limit=False), clock=frozen_clock(NOW)) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(sb):
    with api_client(sb) as c:
        yield c


def test_success_envelope(client):
    body = client.get("/leagues", params={"id": "39"}).json()
    assert list(body) == ["get", "parameters", "errors", "results", "paging", "response"]
    assert body["get"] == "leagues"
    assert body["parameters"] == {"id": "39"}
    assert body["errors"] == []
    assert body["results"] == len(body["response"]) == 1
    assert body["paging"] == {"current": 1, "total": 1}


def test_empty_answer_is_not_an_error(client):
    body = client.get("/fixtures", params={"league": "39", "season": "2010"}).json()
    assert (body["errors"], body["results"], body["response"]) == ([], 0, [])
    assert client.get("/teams", params={"id": "99999999999"}).json()["response"] == []


def test_parameters_are_an_empty_list_without_params_and_strings_otherwise(client):
    assert client.get("/timezone").json()["parameters"] == []
    body = client.get("/fixtures", params={"league": 39, "season": 2026, "round": "Regular Season - 1"}).json()
    assert body["parameters"] == {"league": "39", "season": "2026", "round": "Regular Season - 1"}


def test_unknown_parameter_is_echoed_and_rejected(client):
    body = client.get("/countries", params={"leaguee": "39"}).json()
    assert body["parameters"] == {"leaguee": "39"}
    assert body["errors"] == {"leaguee": "The Leaguee field do not exist."}
    assert (body["results"], body["response"]) == (0, [])


def test_unknown_endpoint(client):
    response = client.get("/banana")
    body = response.json()
    assert response.status_code == 200
    assert body["get"] == "banana"
    assert body["errors"] == {"endpoint": "The Banana endpoint does not exist."}


def test_no_key_is_403_with_the_exact_body(sb):
    response = httpx.get(sb.url + "/status")
    assert response.status_code == 403
    assert response.json() == {
        "get": "", "parameters": [], "results": 0, "paging": {"current": 1, "total": 1}, "response": [],
        "errors": {"token": "Missing application key, Check our documentation on how to add your API key in headers.",
                   "error": "4xHe"}}
    assert not any(h in response.headers for h in RATE_HEADERS)


def test_wrong_key_is_200_with_errors_token_and_not_counted(sb):
    before = sb.quota_used_today()
    response = httpx.get(sb.url + "/fixtures?live=all", headers={"x-apisports-key": "nope"})
    assert response.status_code == 200
    assert response.json()["errors"] == {"token": "Error/Missing application key. Go to "
                                                  "https://www.api-football.com/documentation-v3 to learn how to get "
                                                  "your API application key."}
    assert not any(h in response.headers for h in RATE_HEADERS)
    assert sb.quota_used_today() == before


def test_rapidapi_header_and_v3_prefix_are_accepted(sb):
    response = httpx.get(sb.url + "/v3/timezone", headers={"x-rapidapi-key": sb.key})
    assert response.json()["get"] == "timezone" and response.json()["results"] > 400


@pytest.mark.parametrize("endpoint,params", [
    ("fixtures", {"league": "39", "season": "2026"}),
    ("teams", {"league": "39", "season": "2026"}),
    ("standings", {"league": "39", "season": "2026"}),
    ("injuries", {"league": "39", "season": "2026"}),
])
def test_page_is_rejected_where_the_api_has_no_paging(sb, client, endpoint, params):
    before = sb.quota_used_today()
    body = client.get(f"/{endpoint}", params={**params, "page": "2"}).json()
    assert body["errors"] == {"page": "The Page field do not exist."}
    assert body["response"] == []
    assert sb.quota_used_today() == before + 1  # the real API bills it too


def test_players_pages_twenty_at_a_time(sb, client):
    season = sb.world.year - 1
    expected = {pid for pid, _ in registered(sb.world, 39, season)}
    first = client.get("/players", params={"league": "39", "season": season}).json()
    total = first["paging"]["total"]
    assert total == math.ceil(len(expected) / 20) and total > 20
    seen: list[int] = []
    for page in range(1, total + 1):
        body = client.get("/players", params={"league": "39", "season": season, "page": page}).json()
        assert body["paging"] == {"current": page, "total": total}
        assert 0 < len(body["response"]) <= 20
        seen += [item["player"]["id"] for item in body["response"]]
    assert len(seen) == len(set(seen))
    assert set(seen) == expected
    beyond = client.get("/players", params={"league": "39", "season": season, "page": total + 1}).json()
    assert beyond["response"] == [] and beyond["paging"] == {"current": total + 1, "total": total}


def test_odds_pages_ten_at_a_time(sb, client):
    body = client.get("/odds", params={"league": "39", "season": sb.world.year}).json()
    assert body["errors"] == [] and 0 < body["results"] <= 10
    everything = [client.get("/odds", params={"league": "39", "season": sb.world.year, "page": p}).json()
                  for p in range(1, body["paging"]["total"] + 1)]
    items = [i for page in everything for i in page["response"]]
    assert body["paging"]["total"] == math.ceil(len(items) / 10)
    assert all(isinstance(v["odd"], str) for i in items for b in i["bookmakers"] for bet in b["bets"]
               for v in bet["values"])
    assert any(isinstance(v["value"], int) for b in items[0]["bookmakers"] for bet in b["bets"] for v in bet["values"])


def test_ids_are_capped_at_twenty(sb, client):
    finished = [f.id for f in sb.world.fixtures(39, sb.world.year - 1)[:21]]
    body = client.get("/fixtures", params={"ids": "-".join(map(str, finished[:20]))}).json()
    assert body["results"] == 20
    assert all({"events", "lineups", "statistics", "players"} <= set(item) for item in body["response"])
    body = client.get("/fixtures", params={"ids": "-".join(map(str, finished))}).json()
    assert body["errors"] == {"ids": "The Ids field must contain a maximum of 20 ids."}


@pytest.mark.parametrize("endpoint,params,errors", [
    ("teams", {"season": "2026"}, {"league": "The League field is required."}),
    ("fixtures", {"league": "39", "season": "20"}, {"season": "The Season field must contain 4 characters."}),
    ("fixtures", {"league": "39", "season": "2026-27"}, {"season": "The Season field must contain an integer."}),
    ("countries", {"search": "ab"}, {"search": "The Search field must be at least 3 characters in length."}),
    ("injuries", {}, {"required": "At least one parameter is required."}),
    ("fixtures", {"live": "all", "id": "33"}, {"id": "The Id field cannot be used with live field."}),
    ("teams", {"league": "39", "search": "Leipzig"},
     {"league": "The League field cannot be used with the Search field."}),
    ("venues", {"country": "Spain", "search": "Nou"},
     {"country": "The Country field cannot be used with the Search field."}),
    ("standings", {"league": "39"}, {"season": "The Season field is required."}),
    ("fixtures/events", {}, {"fixture": "The Fixture field is required."}),
    ("fixtures", {"id": "1x"}, {"id": "The Id field must contain an integer."}),
    ("injuries", {"timezone": "Europe/London"}, {"date": "The Date field is required."}),  # was a 500
])
def test_validation_messages(client, endpoint, params, errors):
    body = client.get(f"/{endpoint}", params=params).json()
    assert body["errors"] == errors
    assert (body["results"], body["response"], body["paging"]) == (0, [], {"current": 1, "total": 1})


def _error_recordings() -> list[Path]:
    folder = SAMPLES / "errors"
    return sorted(p for p in folder.glob("*.json") if "rateLimit" not in p.read_text(encoding="utf-8-sig")) \
        if folder.is_dir() else []


@pytest.mark.parametrize("path", _error_recordings(), ids=lambda p: p.name)
def test_validation_errors_match_the_recordings_word_for_word(client, path):
    recorded = json.loads(path.read_text(encoding="utf-8-sig"))
    params = recorded["parameters"] or {}
    body = client.get("/" + recorded["get"], params=params).json()
    assert body == recorded


def test_other_methods_get_an_error_envelope(sb):
    response = httpx.post(sb.url + "/status", headers={"x-apisports-key": sb.key})
    assert response.status_code == 200
    assert response.json()["errors"] == {"method": "The POST method is not supported for this route. "
                                                   "Supported methods: GET."}


def test_timezone_changes_date_not_timestamp(sb, client):
    fx = find_fixture(sb.world, lambda f: f.fate == "", [39], [sb.world.year - 1])
    utc = client.get("/fixtures", params={"id": fx.id}).json()["response"][0]["fixture"]
    seoul = client.get("/fixtures", params={"id": fx.id, "timezone": "Asia/Seoul"}).json()["response"][0]["fixture"]
    assert utc["timezone"] == "UTC" and seoul["timezone"] == "Asia/Seoul"
    assert seoul["timestamp"] == utc["timestamp"]
    assert utc["date"].endswith("+00:00") and seoul["date"].endswith("+09:00")
    bad = client.get("/fixtures", params={"id": fx.id, "timezone": "Mars/Olympus"}).json()
    assert bad["errors"] == {"timezone": "The Timezone field must contain a valid timezone."}


def test_object_responses(client):
    stats = client.get("/teams/statistics", params={"league": "39", "season": "2025", "team": "33"}).json()
    assert isinstance(stats["response"], dict) and stats["results"] == 11
    assert stats["response"]["team"]["id"] == 33
    status = client.get("/status").json()
    assert status["response"]["subscription"]["plan"] == "Pro" and status["results"] == 1


def test_response_headers(client):
    response = client.get("/timezone")
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store, no-cache, must-revalidate"
    assert int(response.headers["content-length"]) == len(response.content)


def _smoke_cases(world) -> list[tuple[str, dict, int]]:
    """(endpoint, params, least results) for routes the recordings do not exercise."""
    year = world.year
    fixture = next(f for f in world.fixtures(39, year - 1) if f.fate == "")
    loaned = world.loans(39, year - 1)[0]
    today = NOW.date().isoformat()
    return [
        ("players/profiles", {"search": world.squad(33)[0].lastname}, 1),
        ("players/teams", {"player": loaned.player_id}, 2),
        ("players/topredcards", {"league": "39", "season": year - 1}, 1),
        ("players", {"team": "33", "season": year - 1}, 20),
        ("players/squads", {"player": world.squad(33)[3].id}, 1),
        ("fixtures/lineups", {"fixture": fixture.id, "type": "substitutes"}, 2),
        ("fixtures/statistics", {"fixture": fixture.id, "half": "true"}, 2),
        ("fixtures/headtohead", {"h2h": "33-50", "last": "2"}, 2),
        ("injuries", {"team": "33", "season": year - 1}, 1),
        ("odds", {"date": (NOW.date()).isoformat(), "bet": "1"}, 1),
        ("transfers", {"team": str(loaned.to_team)}, 1),
        ("coachs", {"id": str(world.coach(33).id)}, 1),
        ("trophies", {"coach": str(world.coach(50).id)}, 0),
        ("sidelined", {"players": "-".join(str(s.player_id) for s in world.spells(33, year - 1)[:2])}, 1),
        ("venues", {"id": "556"}, 1),
        ("teams", {"code": "MUN"}, 1),
        ("teams", {"country": "England"}, 20),
        ("countries", {"name": "England"}, 1),
        ("leagues", {"search": "League", "type": "cup"}, 1),
        ("standings", {"team": "33", "season": year - 1}, 1),
        ("fixtures/rounds", {"league": "2", "season": year - 1}, 10),
        ("odds/live/bets", {"search": "corners"}, 1),
        ("timezone", {}, 400),
        ("fixtures", {"date": today, "timezone": "America/New_York"}, 1),
    ]


def test_every_route_answers(sb, client):
    for endpoint, params, least in _smoke_cases(sb.world):
        body = client.get(f"/{endpoint}", params=params).json()
        assert body["errors"] == [], (endpoint, params, body["errors"])
        assert body["results"] >= least, (endpoint, params, body["results"])
