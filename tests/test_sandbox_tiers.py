"""Keys, tiers (the API says plans) and the quota: headers, per-minute window, daily exhaustion, reset, Free windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from afc.sandbox import SandboxConfig, start_sandbox
from afc.sandbox.testing import api_client, frozen_clock

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
DAILY = "You have reached the request limit for the day, Go to https://dashboard.api-football.com to upgrade your plan."


def _sandbox(**settings):
    return start_sandbox(SandboxConfig(**settings), clock=frozen_clock(NOW))


def _headers(response) -> tuple[int, int, int, int]:
    h = response.headers
    return (int(h["x-ratelimit-requests-limit"]), int(h["x-ratelimit-requests-remaining"]),
            int(h["X-RateLimit-Limit"]), int(h["X-RateLimit-Remaining"]))


@pytest.mark.parametrize("plan,daily,minute", [("free", 100, 10), ("pro", 7500, 300), ("ultra", 75000, 450),
                                               ("mega", 150000, 900)])
def test_plans_have_their_limits(plan, daily, minute):
    with _sandbox(plan=plan) as sb, api_client(sb) as client:
        assert _headers(client.get("/timezone")) == (daily, daily - 1, minute, minute - 1)
        assert client.get("/status").json()["response"]["requests"]["limit_day"] == daily


def test_headers_decrement_and_calls_are_recorded():
    with _sandbox() as sb, api_client(sb) as client:
        first = _headers(client.get("/countries"))
        second = _headers(client.get("/fixtures", params={"live": "all"}))
        assert second[1] == first[1] - 1 and second[3] == first[3] - 1
        assert sb.calls == {"countries": 1, "fixtures": 1} and sb.total_calls == 2
        assert sb.requests == [("countries", {}), ("fixtures", {"live": "all"})]
        sb.reset_counters()
        assert sb.total_calls == 0 and sb.requests == [] and sb.quota_used_today() == 2


def test_status_is_not_counted():
    with _sandbox() as sb, api_client(sb) as client:
        client.get("/timezone")
        for _ in range(3):
            body = client.get("/status").json()
        assert body["response"]["requests"]["current"] == 1
        assert sb.quota_used_today() == 1 and sb.calls["status"] == 0


def test_minute_limit_answers_200_with_errors_ratelimit_then_recovers():
    with _sandbox(minute_limit=3) as sb, api_client(sb) as client:
        assert all(client.get("/timezone").json()["errors"] == [] for _ in range(3))
        refused = client.get("/timezone")
        assert refused.status_code == 200
        assert refused.json()["errors"] == {"rateLimit": "Too many requests. Your rate limit is 3 requests per minute."}
        assert _headers(refused)[3] == 0
        assert sb.quota_used_today() == 3  # the refusal is not billed
        sb.clock.advance(61)
        assert client.get("/timezone").json()["errors"] == []


def test_no_rate_limit_switch():
    with _sandbox(minute_limit=2, rate_limit=False) as sb, api_client(sb) as client:
        answers = [client.get("/timezone") for _ in range(5)]
        assert all(a.json()["errors"] == [] for a in answers)
        assert _headers(answers[-1])[3] == 2


def test_free_plan_rate_limit_matches_the_recording():
    with _sandbox(plan="free") as sb, api_client(sb) as client:
        for _ in range(10):
            client.get("/timezone")
        body = client.get("/fixtures", params={"league": "29", "season": "2022"}).json()
        assert body == {"get": "fixtures", "parameters": {"league": "29", "season": "2022"},
                        "errors": {"rateLimit": "Too many requests. Your rate limit is 10 requests per minute."},
                        "results": 0, "paging": {"current": 1, "total": 1}, "response": []}


def test_daily_exhaustion_200_form():
    with _sandbox(daily_limit=2) as sb, api_client(sb) as client:
        client.get("/timezone")
        client.get("/timezone")
        refused = client.get("/fixtures", params={"live": "all"})
        assert refused.status_code == 200
        assert refused.json()["errors"] == {"requests": DAILY}
        assert _headers(refused)[:2] == (2, 0)
        assert sb.calls["fixtures"] == 0


def test_daily_exhaustion_429_form_has_no_rate_headers():
    with _sandbox(daily_limit=1, quota_429=True) as sb, api_client(sb) as client:
        client.get("/timezone")
        refused = client.get("/timezone")
        assert refused.status_code == 429
        assert "x-ratelimit-requests-remaining" not in refused.headers
        assert refused.json()["errors"] == {"rateLimit": "Too many requests. You have reached your daily request "
                                                         "limit. Please try again later or upgrade your plan."}


def test_daily_counter_resets_at_midnight_utc_of_the_sandbox_clock():
    with _sandbox(daily_limit=2) as sb, api_client(sb) as client:
        sb.clock.set(datetime(2026, 11, 28, 23, 59, 30, tzinfo=UTC))
        client.get("/timezone")
        client.get("/timezone")
        assert client.get("/timezone").json()["errors"] == {"requests": DAILY}
        sb.clock.set(datetime(2026, 11, 29, 0, 0, 5, tzinfo=UTC))
        fresh = client.get("/timezone")
        assert fresh.json()["errors"] == [] and _headers(fresh)[1] == 1
        assert sb.quota_used_today() == 1


def test_set_quota_used_pretends_calls_were_made():
    with _sandbox() as sb, api_client(sb) as client:
        sb.set_quota_used(7499)
        assert _headers(client.get("/timezone"))[1] == 0
        assert client.get("/timezone").json()["errors"] == {"requests": DAILY}


def test_free_plan_season_window():
    with _sandbox(plan="free") as sb, api_client(sb) as client:
        year = sb.world.year
        body = client.get("/fixtures", params={"league": "39", "season": year}).json()
        assert body["errors"] == {"plan": f"Free plans do not have access to this season, try from {year - 4} to "
                                          f"{year - 2}."}
        assert client.get("/fixtures", params={"league": "39", "season": year - 3}).json()["results"] == 380


def test_free_plan_date_window():
    with _sandbox(plan="free") as sb, api_client(sb) as client:
        body = client.get("/fixtures", params={"date": "2026-11-25"}).json()
        assert body["errors"] == {"plan": "Free plans do not have access to this date, try from 2026-11-27 to "
                                          "2026-11-29."}
        assert client.get("/fixtures", params={"date": "2026-11-29"}).json()["errors"] == []
        assert client.get("/fixtures", params={"live": "all"}).json()["errors"] == []


def test_window_is_a_sliding_minute_of_the_sandbox_clock():
    with _sandbox(minute_limit=2) as sb, api_client(sb) as client:
        client.get("/timezone")
        sb.clock.advance(30)
        client.get("/timezone")
        sb.clock.advance(31)  # the first call left the window, the second has not
        assert client.get("/timezone").json()["errors"] == []
        assert client.get("/timezone").json()["errors"] != []
        sb.clock.set(NOW + timedelta(hours=1))
        assert client.get("/timezone").json()["errors"] == []
