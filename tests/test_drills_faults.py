"""Fault matrix: every fault the sandbox can inject leads to the designed behaviour.

Transient faults are retried (each retry reserving quota again) and the call then lands; a body
that arrived is archived even when it was an error; the minute limit waits for the window; the
daily limit parks work until 00:00 UTC; persistent failure stops with one line, never a traceback.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from afc.api.client import Request
from afc.cli import app
from afc.clock import SimClock
from afc.collect import step as pipeline
from afc.collect.collector import Collector
from afc.config.settings import load_settings
from afc.errors import QuotaExhausted, ServerError
from afc.sandbox import SandboxConfig, start_sandbox
from tests.conftest import scalar

START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
# fault -> (an archived raw answer before the good one?, its HTTP status)
TRANSIENT = {
    "500": (True, 500), "502": (True, 502), "503": (True, 503), "499": (True, 499),
    "bug": (True, 200), "malformed": (True, 200), "truncated": (True, 200), "429": (True, 429),
    "timeout": (False, None), "drop": (False, None), "slow": (False, None),
}


@pytest.fixture
def world(db_url):
    clock = SimClock(START, speed=0)
    cfg = SandboxConfig(timeout_seconds=3, slow_seconds=(0.2, 0.4))
    with start_sandbox(cfg, clock=clock) as sb:
        settings = load_settings({}, api_key=sb.key, api_base_url=sb.url, database_url=db_url, http_timeout=1.5)
        collector = Collector.open(settings, clock=clock)
        yield sb, collector, clock
        collector.close()


def raw_rows(collector) -> list[tuple]:
    return collector.db.fetchall(
        "SELECT status, errors IS NOT NULL, body IS NOT NULL, body_text IS NOT NULL FROM raw.responses ORDER BY id")


@pytest.mark.parametrize("fault", sorted(TRANSIENT))
def test_a_transient_fault_is_retried_and_the_call_lands(world, fault):
    sb, collector, clock = world
    archived, status = TRANSIENT[fault]
    sb.inject(fault)
    before = clock.now()
    result = pipeline.step(collector.context("drill", "drill", "LOW"), Request.of("countries"))
    assert result.counts.inserted > 10  # the countries landed after the fault
    rows = raw_rows(collector)
    assert rows[-1] == (200, False, True, False)
    if archived:
        assert len(rows) == 2 and rows[0][0] == status
        assert rows[0][1] or rows[0][3] or status in (429, 499, 500, 502, 503)  # errors or the text kept
    else:
        assert len(rows) == 1  # no answer arrived, nothing to archive
    attempts = 1 if fault == "slow" else 2
    assert collector.ledger.status().used_today >= attempts
    if fault == "429":
        assert (clock.now() - before).total_seconds() >= 60  # waited for the next minute


def test_malformed_bodies_are_kept_verbatim(world):
    sb, collector, _ = world
    sb.inject("truncated")
    pipeline.step(collector.context("drill", "drill", "LOW"), Request.of("countries"))
    text = scalar(collector.db, "SELECT body_text FROM raw.responses WHERE body IS NULL")
    assert text.startswith(('{"get":"countries"', '{"get": "countries"'))


def test_persistent_failure_gives_up_after_five_attempts(world):
    sb, collector, _ = world
    sb.inject("503", count=10)
    with pytest.raises(ServerError):
        pipeline.step(collector.context("drill", "drill", "LOW"), Request.of("countries"))
    assert sb.total_calls >= 0 and len(raw_rows(collector)) == 5


@pytest.mark.parametrize("quota_429", [False, True])
def test_daily_exhaustion_parks_until_midnight_in_both_forms(db_url, quota_429):
    clock = SimClock(START, speed=0)
    with start_sandbox(SandboxConfig(daily_limit=3, quota_429=quota_429), clock=clock) as sb:
        settings = load_settings({}, api_key=sb.key, api_base_url=sb.url, database_url=db_url)
        collector = Collector.open(settings, clock=clock)
        ctx = collector.context("drill", "drill", "CRITICAL")
        for _ in range(3):
            pipeline.step(ctx, Request.of("timezone"))
        with pytest.raises(QuotaExhausted) as caught:
            pipeline.step(ctx, Request.of("timezone"))
        midnight = datetime(2026, 11, 29, tzinfo=UTC)  # resumes just after it, never at 00:00:00 sharp
        resume = caught.value.resume_at
        assert resume is not None and midnight + timedelta(seconds=30) <= resume <= midnight + timedelta(seconds=60)
        calls = sb.total_calls
        with pytest.raises(QuotaExhausted):  # parked: our ledger refuses without calling the API
            pipeline.step(ctx, Request.of("countries"))
        assert sb.total_calls == calls
        clock.set(datetime(2026, 11, 29, 0, 5, tzinfo=UTC))
        assert pipeline.step(ctx, Request.of("countries")).counts.inserted > 10
        collector.close()


def test_the_cli_stops_with_one_line_and_the_right_exit_code(db_url):
    clock = SimClock(START, speed=0)
    with start_sandbox(SandboxConfig(daily_limit=2), clock=clock) as sb:
        env = {"AFC_DATABASE_URL": db_url, "API_FOOTBALL_KEY": sb.key, "AFC_API_BASE_URL": sb.url,
               "AFC_CLOCK": clock.spec()}
        parked = CliRunner().invoke(app, ["bootstrap", "all"], env=env)
        assert parked.exit_code == 75, parked.output
        assert "quota: all 2 calls of today are spent; resumes at 2026-11-29 00:00 UTC" in parked.stderr
        assert "Traceback" not in parked.output
        sb.inject("503", count=50)
        env["AFC_CLOCK"] = "2026-11-29T01:00:00Z@0"
        failed = CliRunner().invoke(app, ["bootstrap", "timezone"], env=env)
        assert failed.exit_code == 1 and "Traceback" not in failed.output
        assert "the API failed (HTTP 503)" in failed.stderr
