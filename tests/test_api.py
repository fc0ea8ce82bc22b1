"""The API client against every error form the API is known to produce."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from typer.testing import CliRunner

from afc.api.client import ApiClient, Request, count, errors_of
from afc.cli import app
from afc.db import connect
from afc.errors import (
    AuthError,
    FatalApiError,
    MalformedResponse,
    NetworkError,
    ParameterError,
    PlanError,
    QuotaExhausted,
    RateLimited,
    RetryableApiError,
    ServerError,
    UnreadableBody,
)
from tests.fakeapi import KEY, Answer, FakeApi, envelope, quota_headers, recorded

TOKEN = {"token": "Error/Missing application key. Go to https://www.api-football.com/documentation-v3 "
                  "to learn how to get your API application key."}
NO_KEY = {"get": "", "parameters": [],
          "errors": {"token": "Missing application key, Check our documentation on how to add your API key in headers.",
                     "error": "4xHe"},
          "results": 0, "paging": {"current": 1, "total": 1}, "response": []}
DAILY = {"requests": "You have reached the request limit for the day, "
                     "Go to https://dashboard.api-football.com to upgrade your plan."}
BUG = {"time": "2019-11-26T00:00:00+00:00",
       "bug": "This is on our side, please report us this bug on https://dashboard.api-football.com",
       "report": "countries"}
DAILY_429 = {"rateLimit": "Too many requests. You have reached your daily request limit. "
                          "Please try again later or upgrade your plan."}
FREE_PLAN = {"plan": "Free plans do not have access to this season, try from 2022 to 2024."}
MINUTE_RECORDING = "errors/TFM__fixtures_league_29_season_2022_2026-01-18_201653.json"
SERVER = {"message": "Something went wrong while fetching details. Try again later."}


def client_for(answer: Answer, clock) -> ApiClient:
    return ApiClient("http://api.test", KEY, clock, transport=FakeApi({"countries": answer}).transport())


CASES = [
    ("no key: 403", Answer(403, NO_KEY), AuthError),
    ("bad key: 200 errors.token", Answer(200, envelope("countries", [], errors=TOKEN)), AuthError),
    ("suspended", Answer(200, envelope("countries", [], errors={"access": "Your account is suspended"})), AuthError),
    ("daily quota: 200 errors.requests", Answer(200, envelope("countries", [], errors=DAILY), quota_headers(0)),
     QuotaExhausted),
    ("daily quota: 429 without headers", Answer(429, DAILY_429), QuotaExhausted),
    ("daily quota: bare 429", Answer(429, ""), QuotaExhausted),
    ("minute limit: recorded 200 errors.rateLimit", Answer(200, recorded(MINUTE_RECORDING), quota_headers(50)),
     RateLimited),
    ("minute limit: 429 with headers",
     Answer(429, {"message": "Too many requests per minute"}, quota_headers(50, minute_left=0)), RateLimited),
    ("minute limit: 200 under another key, the crawl's wording",
     Answer(200, envelope("countries", [], errors={"limit": "You have exceeded the limit of requests per minute of "
                                                            "your subscription."}), quota_headers(50)), RateLimited),
    ("minute limit: 200, a list of strings", Answer(200, envelope("countries", [], errors=[
        "Your subscription allows 450 requests per minute."]), quota_headers(50)), RateLimited),
    ("daily quota: 200 under another key", Answer(200, envelope("countries", [], errors={
        "limit": "You have exceeded the limit of requests per day of your subscription."}), quota_headers(0)),
     QuotaExhausted),
    ("plan restriction", Answer(200, envelope("countries", [], errors=FREE_PLAN)), PlanError),
    ("parameter error (recorded, BOM)",
     Answer(200, recorded("errors/CSharpApiFootball__Test_Invalid_Search_Param.json")), ParameterError),
    ("required parameter (recorded)", Answer(200, recorded("errors/syurchen93__injuries-error.json")), ParameterError),
    ("unknown endpoint",
     Answer(200, envelope("banana", [], errors={"endpoint": "The Banana endpoint does not exist."})), ParameterError),
    ("page on a non-paged endpoint",
     Answer(200, envelope("fixtures", [], errors={"page": "The Page field do not exist."})), ParameterError),
    ("a parameter's error that mentions a limit", Answer(200, envelope("countries", [], errors={
        "search": "The Search field exceeds the request limit of 100 characters."})), ParameterError),
    ("a field the endpoint does not take, worded as a limit", Answer(200, envelope("countries", [], errors={
        "limit": "The Limit field must be at most your rate limit per minute."})), ParameterError),
    ("errors as a list of strings", Answer(200, envelope("countries", [], errors=["Something is wrong"])),
     ParameterError),
    ("server bug envelope", Answer(200, envelope("countries", [], errors=BUG)), ServerError),
    ("499 time out", Answer(499, SERVER), ServerError),
    ("500", Answer(500, SERVER), ServerError),
    ("502", Answer(502, "<html>Bad Gateway</html>"), ServerError),
    ("503", Answer(503, SERVER), ServerError),
    ("malformed JSON", Answer(200, "{not json"), MalformedResponse),
    ("truncated JSON", Answer(200, '{"get":"countries","parameters":[],"errors":[],"resu'), MalformedResponse),
    ("JSON but not the envelope", Answer(200, "[1, 2, 3]"), MalformedResponse),
    ("RapidAPI 401", Answer(401, {"message": "You are not subscribed to this API."}), AuthError),
]


@pytest.mark.parametrize(("case", "answer", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_error_form_maps_to_its_exception(case, answer, expected, clock):
    response = client_for(answer, clock).get(Request.of("countries"))
    assert type(response.error) is expected
    assert KEY not in str(response.error) and KEY not in repr(response.headers)
    retryable = isinstance(response.error, RetryableApiError)
    assert retryable == (expected in (RateLimited, ServerError, MalformedResponse))
    assert isinstance(response.error, FatalApiError) == (expected in (AuthError, PlanError, ParameterError))


def test_daily_exhaustion_says_when_it_resumes(clock):
    response = client_for(Answer(200, envelope("countries", [], errors=DAILY)), clock).get(Request.of("countries"))
    assert isinstance(response.error, QuotaExhausted) and response.error.resume_at is not None
    resume = response.error.resume_at.isoformat()  # just after midnight: a margin and a random spread
    assert "2026-11-29T00:00:30" <= resume < "2026-11-29T00:01:00.000001" and resume.endswith("+00:00")
    assert "resumes at 2026-11-29 00:00 UTC" in str(response.error)


@pytest.mark.parametrize("errors", [[], {}, None])
def test_empty_errors_in_any_shape_is_success(errors, clock):
    body = envelope("countries", [{"name": "France", "code": "FR", "flag": None}])
    body["errors"] = errors
    response = client_for(Answer(200, body), clock).get(Request.of("countries"))
    assert response.error is None and response.items[0]["name"] == "France"


def test_null_response_is_an_unreadable_answer_not_an_empty_one(clock):
    body = envelope("countries", None)  # read as [] it said "none" and emptied what the scope held
    response = client_for(Answer(200, body), clock).get(Request.of("countries"))
    assert isinstance(response.error, UnreadableBody) and response.items == []
    assert str(response.error) == "/countries: unreadable body: its `response` is null, not a list (kept as text)"


def test_object_response_becomes_one_item(clock):
    body = envelope("teams/statistics", {"form": "WWD"})
    api = FakeApi({"teams/statistics": Answer(200, body)})
    response = ApiClient("http://x", KEY, clock, transport=api.transport()).get(Request.of("teams/statistics"))
    assert response.items == [{"form": "WWD"}]


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("read timed out"), httpx.ConnectError("refused"),
                                 httpx.RemoteProtocolError("Server disconnected")])
def test_transport_failures_are_retryable_network_errors(exc, clock):
    def boom(request):
        raise exc

    client = ApiClient("http://x", KEY, clock, transport=httpx.MockTransport(boom))
    with pytest.raises(NetworkError) as caught:
        client.get(Request.of("countries", {"search": "fra"}))
    assert isinstance(caught.value, RetryableApiError) and KEY not in str(caught.value)
    assert "/countries?search=fra" in str(caught.value)


def test_only_the_key_header_is_sent_and_the_key_never_reaches_logs(clock, caplog):
    api = FakeApi({"countries": "countries/syurchen93__countries-one.json"})
    caplog.set_level(logging.DEBUG)
    response = ApiClient("http://x", KEY, clock, transport=api.transport()).get(Request.of("countries", {"code": "US"}))
    endpoint, query, headers = api.requests[0]
    assert (endpoint, query, headers["x-apisports-key"]) == ("countries", {"code": "US"}, KEY)
    assert "x-rapidapi-key" not in headers
    assert response.items[0]["name"] == "USA"
    assert KEY not in caplog.text and all(KEY not in v for v in response.headers.values())


def test_requests_normalise_and_page_only_from_two():
    request = Request.of("/fixtures/", {"season": 2024, "league": 39, "live": None, "ids": [1, 2, 3], "current": True})
    assert request.query == {"current": "true", "ids": "1-2-3", "league": "39", "season": "2024"}
    players = Request.of("players", {"league": 39, "season": 2024})
    assert "page" not in players.page(1).query and players.page(3).query["page"] == "3"
    assert str(players.page(2)) == "/players?league=39&page=2&season=2024"


def test_errors_of_accepts_every_shape():
    assert errors_of([]) == {} and errors_of({}) == {} and errors_of(None) == {}
    assert errors_of({"season": "bad"}) == {"season": "bad"}
    assert errors_of(["a", "b"]) == {"0": "a", "1": "b"}
    assert errors_of("oops") == {"error": "oops"}
    # nested values read as JSON, where they were Python's repr ("{'b': [1, None]}") in messages and the archive
    assert errors_of({"a": {"b": [1, None]}, "c": 5}) == {"a": '{"b":[1,null]}', "c": "5"}
    assert errors_of([True, None]) == {"0": "true", "1": "null"} and errors_of(5) == {"error": "5"}


@pytest.mark.parametrize(("value", "expected"), [
    (7, 7), ("12", 12), (" 3 ", 3), ("-5", -5), (3.0, 3), (2**31 - 1, 2**31 - 1),
    (2**31, None), ("99999999999999999999", None), (1e300, None), (2.5, None), ("12.5", None), ("lots", None),
    ("1_0", None), ("١٢", None), (True, None), (None, None), ([1], None),
])
def test_a_count_is_an_integer_the_database_holds_or_none(value, expected):
    assert count(value) == expected


COUNTRY = {"name": "England", "code": "GB", "flag": "x"}
HUGE = "99999999999999999999"


@pytest.mark.parametrize(("body", "headers"), [
    ({"results": 1e300}, {}),
    ({"results": 2**40}, {}),
    ({"paging": {"current": HUGE, "total": HUGE}}, {}),
    ({}, {"x-ratelimit-requests-remaining": HUGE, "x-ratelimit-requests-limit": HUGE}),
    ({}, {"x-ratelimit-remaining": HUGE, "x-ratelimit-limit": HUGE}),
], ids=["results-float", "results-64bit", "paging", "daily-headers", "minute-headers"])
def test_counts_no_column_holds_are_dropped_and_the_answer_lands(db_url, tmp_path, body, headers):
    """A count past the database's integer columns (envelope or quota headers) crashed the step with a traceback
    and lost the answer; now it is read as absent: the body archived, the item stored, the ledger counting the call."""
    sent = {**envelope("countries", [COUNTRY]), **body}
    api = FakeApi({"countries": Answer(200, json.dumps(sent), {**quota_headers(7000), **headers})})
    with api.serve() as url:
        env = {"AFC_DATABASE_URL": db_url, "AFC_DATA_DIR": str(tmp_path), "API_FOOTBALL_KEY": KEY,
               "AFC_API_BASE_URL": url, "AFC_CLOCK": "2026-11-28T12:00:00Z@0"}
        result = CliRunner().invoke(app, ["bootstrap", "countries"], env=env)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    db = connect(db_url)
    try:
        assert db.fetchall("SELECT name FROM core.countries") == [("England",)]
        raw = db.fetchone("SELECT status, results, paging_current, paging_total FROM raw.responses")
        ledger = db.fetchone("SELECT used, daily_limit FROM ops.quota_days")
    finally:
        db.close()
    assert raw is not None and raw[0] == 200
    assert raw[1] == (None if "results" in body else 1)
    assert raw[2:] == (1, 1)  # paging past any column reads as one page
    daily = "x-ratelimit-requests-limit" in headers
    assert ledger == ((1, 7500) if daily else (500, 7500))  # a header no column holds is not believed


def test_a_server_trickling_its_body_times_out_within_the_timeout(clock):
    """httpx's timeout bounds each read: a byte every 0.1 s kept a call (and the live loop's tick) going forever."""
    import time

    class Trickle(httpx.SyncByteStream):
        def __iter__(self):
            for _ in range(1000):
                time.sleep(0.1)
                yield b" "

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Trickle())

    client = ApiClient("http://api.test", KEY, clock, timeout=0.5, transport=httpx.MockTransport(handle))
    started = time.perf_counter()
    with pytest.raises(NetworkError, match=r"^/countries: timed out after [0-9]+s$") as caught:
        client.get(Request.of("countries"))
    assert caught.value.sent and time.perf_counter() - started < 2
