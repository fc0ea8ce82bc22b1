"""Injected faults as an httpx client sees them, and their seeded reproducibility."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import httpx
import pytest

from afc.errors import ConfigError
from afc.sandbox import SandboxConfig, start_sandbox
from afc.sandbox.testing import api_client, frozen_clock

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
MESSAGE = {"message": "Something went wrong while fetching details. Try again later."}


def _sandbox(**settings):
    return start_sandbox(SandboxConfig(**settings), clock=frozen_clock(NOW))


@pytest.mark.parametrize("kind", ["500", "502", "503", "499"])
def test_server_failures(kind):
    with _sandbox() as sb, api_client(sb) as client:
        sb.inject(kind)
        response = client.get("/timezone")
        assert response.status_code == int(kind)
        assert response.json() == MESSAGE
        assert "x-ratelimit-requests-remaining" not in response.headers
        assert sb.quota_used_today() == 0
        assert client.get("/timezone").status_code == 200  # only the injected one fails


def test_timeout_holds_the_connection_and_does_not_block_shutdown():
    sb = _sandbox(timeout_seconds=30)
    try:
        sb.inject("timeout")
        with api_client(sb, timeout=0.3) as client, pytest.raises(httpx.ReadTimeout):
            client.get("/timezone")
    finally:
        started = time.monotonic()
        sb.stop()
    assert time.monotonic() - started < 2


def test_slow_answers_late_but_correctly():
    with _sandbox(slow_seconds=(0.2, 0.3)) as sb, api_client(sb) as client:
        sb.inject("slow")
        started = time.monotonic()
        response = client.get("/timezone")
        assert 0.2 <= time.monotonic() - started < 2
        assert response.json()["errors"] == []


def test_malformed_json_with_200():
    with _sandbox() as sb, api_client(sb) as client:
        sb.inject("malformed")
        response = client.get("/timezone")
        assert response.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            response.json()


def test_truncated_body():
    with _sandbox() as sb, api_client(sb) as client:
        whole = client.get("/countries").content
        sb.inject("truncated")
        response = client.get("/countries")
        assert response.status_code == 200 and len(response.content) == len(whole) // 2
        assert whole.startswith(response.content)
        with pytest.raises(json.JSONDecodeError):
            response.json()


def test_server_bug_envelope():
    with _sandbox() as sb, api_client(sb) as client:
        sb.inject("bug")
        body = client.get("/countries").json()
        assert body["get"] == "countries" and body["response"] == [] and body["results"] == 0
        assert set(body["errors"]) == {"time", "bug", "report"}
        assert body["errors"]["report"] == "countries"
        assert body["errors"]["time"] == "2026-11-28T12:00:00+00:00"


def test_429_fault_has_rate_headers():
    with _sandbox() as sb, api_client(sb) as client:
        sb.inject("429")
        response = client.get("/timezone")
        assert response.status_code == 429
        assert "X-RateLimit-Remaining" in response.headers
        assert "rateLimit" in response.json()["errors"]


def test_drop_closes_without_answer():
    with _sandbox() as sb, api_client(sb) as client:
        sb.inject("drop")
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/timezone")
        assert client.get("/timezone").status_code == 200


def _statuses(seed: int, count: int = 40) -> list[int]:
    with _sandbox(faults={"503": 0.3, "500": 0.1}, fault_seed=seed) as sb, api_client(sb) as client:
        return [client.get("/timezone").status_code for _ in range(count)]


def test_rates_are_reproducible_with_a_seed():
    first, again, other = _statuses(7), _statuses(7), _statuses(8)
    assert first == again
    assert first != other
    assert 6 <= first.count(503) <= 20 and first.count(500) >= 1 and first.count(200) >= 15


def test_set_faults_at_runtime_and_inject_first():
    with _sandbox() as sb, api_client(sb) as client:
        sb.set_faults({"503": 1.0})
        sb.inject("500")
        assert [client.get("/timezone").status_code for _ in range(2)] == [500, 503]
        sb.set_faults({})
        assert client.get("/timezone").status_code == 200


@pytest.mark.parametrize("faults", [{"boom": 0.1}, {"503": 1.5}, {"503": 0.6, "500": 0.6}])
def test_bad_fault_settings_are_config_errors(faults):
    with pytest.raises(ConfigError):
        SandboxConfig(faults=faults).validate()
