"""The circuit breaker: threshold, cool-down, one half-open probe, shared between connections."""

from __future__ import annotations

from pathlib import Path

import pytest

from afc.clock import SimClock
from afc.collect.breaker import DbBreaker, open_breakers, states
from afc.config.jobs import load
from afc.db import connect
from afc.errors import CircuitOpen, ConfigError


def fail(breaker: DbBreaker, endpoint: str, times: int) -> None:
    for _ in range(times):
        breaker.record(endpoint, ok=False)


def test_opens_after_threshold_consecutive_failures(db, clock):
    breaker = DbBreaker(db, clock, threshold=3, cooldown=60)
    fail(breaker, "fixtures", 2)
    breaker.check("fixtures")  # still closed at 2
    fail(breaker, "fixtures", 1)
    with pytest.raises(CircuitOpen, match=r"/fixtures: circuit open after 3 consecutive failures; "
                                          r"calls resume after 12:01:00 UTC"):
        breaker.check("fixtures")
    breaker.check("teams")  # other endpoints are unaffected
    assert [(s.endpoint, s.state, s.failures) for s in breaker.states()] == [("fixtures", "open", 3)]


def test_a_success_resets_the_count(db, clock):
    breaker = DbBreaker(db, clock, threshold=3, cooldown=60)
    fail(breaker, "fixtures", 2)
    breaker.record("fixtures", ok=True)
    fail(breaker, "fixtures", 2)
    breaker.check("fixtures")
    assert states(db)[0].failures == 2


def test_half_open_probe_success_closes(db, clock):
    breaker = DbBreaker(db, clock, threshold=2, cooldown=60)
    fail(breaker, "odds", 2)
    clock.advance(59)
    with pytest.raises(CircuitOpen):
        breaker.check("odds")
    clock.advance(1)
    breaker.check("odds")  # this caller is the probe
    assert states(db)[0].state == "half-open"
    breaker.record("odds", ok=True)
    assert (states(db)[0].state, states(db)[0].failures) == ("closed", 0)
    breaker.check("odds")
    assert open_breakers(db) == []


def test_half_open_probe_failure_reopens_for_a_new_cooldown(db, clock):
    breaker = DbBreaker(db, clock, threshold=2, cooldown=60)
    fail(breaker, "odds", 2)
    clock.advance(61)
    breaker.check("odds")
    breaker.record("odds", ok=False)
    state = states(db, 60)[0]
    assert (state.state, state.failures) == ("open", 3)
    assert state.opened_at == clock.now()
    with pytest.raises(CircuitOpen, match="calls resume after 12:02:01 UTC"):
        breaker.check("odds")


def test_only_one_probe_across_connections(db_url, clock):
    first, second = connect(db_url), connect(db_url)
    try:
        a = DbBreaker(first, clock, threshold=1, cooldown=30)
        b = DbBreaker(second, clock, threshold=1, cooldown=30)
        a.record("injuries", ok=False)
        with pytest.raises(CircuitOpen):
            b.check("injuries")  # the second connection sees the open breaker
        clock.advance(30)
        a.check("injuries")
        with pytest.raises(CircuitOpen, match="another process is probing"):
            b.check("injuries")
        clock.advance(30)  # the probe never reported back: a new one is allowed
        b.check("injuries")
        b.record("injuries", ok=True)
        a.check("injuries")
    finally:
        first.close()
        second.close()


def test_threshold_and_cooldown_come_from_the_ops_section(db, clock, tmp_path: Path):
    (tmp_path / "ops.yaml").write_text("ops:\n  breaker: {threshold: 2, cooldown_seconds: 5m}\n")
    breaker = DbBreaker.configured(db, clock, load(tmp_path))
    assert (breaker.threshold, breaker.cooldown) == (2, 300)
    fail(breaker, "fixtures", 2)
    clock.advance(299)
    with pytest.raises(CircuitOpen):
        breaker.check("fixtures")


def test_bad_ops_section_names_file_and_field(tmp_path: Path, db):
    (tmp_path / "ops.yaml").write_text("ops:\n  breaker: {threshold: 0}\n")
    with pytest.raises(ConfigError, match=r"ops\.yaml: ops\.breaker\.threshold: Input should be greater"):
        DbBreaker.configured(db, SimClock.__new__(SimClock), load(tmp_path))


def test_states_as_dict_is_json_ready(db, clock):
    breaker = DbBreaker(db, clock, threshold=1, cooldown=60)
    breaker.record("teams", ok=False)
    assert states(db, 60)[0].as_dict() == {
        "endpoint": "teams", "state": "open", "failures": 1, "opened_at": "2026-11-28T12:00:00+00:00",
        "last_error_at": "2026-11-28T12:00:00+00:00", "retry_at": "2026-11-28T12:01:00+00:00"}
