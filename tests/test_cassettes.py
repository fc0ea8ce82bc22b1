"""Recorded HTTP (vcrpy) replayed through the client and the transforms; cassettes never hold a key.

The cassettes are recorded from the sandbox by tests/cassettes/record.py (never from the real API)
and replayed here with record_mode="none": any request they do not hold fails the test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import vcr
import yaml

from afc import transform
from afc.api.client import ApiClient
from afc.clock import SimClock
from tests.cassettes.record import CASSETTE, FILTER, HOST, REQUESTS
from tests.fakeapi import KEY

CASSETTES = Path(CASSETTE).parent


def test_a_recorded_bootstrap_replays_into_core_rows():
    clock = SimClock(datetime(2026, 11, 28, 12, tzinfo=UTC), speed=0)
    with vcr.use_cassette(str(CASSETTE), record_mode="none", **FILTER):
        client = ApiClient(HOST, KEY, clock)  # a different key still matches: the header is filtered
        answers = {r.endpoint: client.get(r) for r in REQUESTS}
        client.close()
    assert all(a.error is None for a in answers.values())
    countries = transform.run("countries", {}, answers["countries"].items)
    assert countries.items == len(answers["countries"].items) > 10 and not countries.quarantined
    league = next(t for t in transform.run("leagues", {"id": "39"}, answers["leagues"].items).tables()
                  if t.table == "core.leagues" and not t.stub).rows[0]
    assert (league["id"], league["name"], league["country_name"]) == (39, "Premier League", "England")
    teams = answers["teams"].items
    assert len(teams) == 20 and answers["teams"].header_int("x-ratelimit-requests-remaining") is not None


def test_no_cassette_holds_a_key():
    for path in CASSETTES.glob("*.yaml"):
        text = path.read_text()
        document = yaml.safe_load(text)
        for interaction in document["interactions"]:
            headers = {k.lower(): v for k, v in interaction["request"]["headers"].items()}
            assert headers.get("x-apisports-key") in (None, ["REDACTED"]), path
            assert "x-rapidapi-key" not in headers or headers["x-rapidapi-key"] == ["REDACTED"], path
        assert KEY not in text
