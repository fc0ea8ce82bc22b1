"""The opt-in synthetic leagues (`SandboxConfig.extra_leagues`): served like real ones, invisible by default."""

from __future__ import annotations

from datetime import UTC, datetime

from afc.sandbox import SandboxConfig, start_sandbox
from afc.sandbox.catalog import LEAGUES
from afc.sandbox.testing import api_client, frozen_clock

NOW = datetime(2026, 11, 28, 6, tzinfo=UTC)
REAL = {league.id for league in LEAGUES}


def answer(sb, path: str, **params) -> list[dict]:
    with api_client(sb) as client:
        body = client.get(path, params=params).json()
    assert body["errors"] == []
    return body["response"]


def test_extra_leagues_appear_in_leagues_and_play_their_own_fixtures():
    with start_sandbox(SandboxConfig(rate_limit=False, extra_leagues=12), clock=frozen_clock(NOW)) as sb:
        leagues = {item["league"]["id"]: item for item in answer(sb, "/leagues", season=2026)}
        extra = {lid: item for lid, item in leagues.items() if lid not in REAL}
        assert set(leagues) >= REAL
        assert sorted(extra) == list(range(9001, 9013))
        assert {item["league"]["name"] for item in extra.values()}.isdisjoint(lg.name for lg in LEAGUES)
        assert {item["country"]["name"] for item in extra.values()}.isdisjoint(lg.country for lg in LEAGUES)
        assert all(item["league"]["type"] == "League" and item["seasons"] for item in extra.values())

        day = answer(sb, "/fixtures", date="2026-11-28")
        playing = {f["league"]["id"] for f in day} - REAL
        assert len(playing) >= 10, playing
        for league_id in playing:
            teams = {t["team"]["id"] for t in answer(sb, "/teams", league=league_id, season=2026)}
            assert len(teams) == 20
            for f in (f for f in day if f["league"]["id"] == league_id):
                assert {f["teams"]["home"]["id"], f["teams"]["away"]["id"]} <= teams
                assert f["fixture"]["date"].startswith("2026-11-28T")
        real_ids = {t["team"]["id"] for lg in (39, 144) for t in answer(sb, "/teams", league=lg, season=2026)}
        assert real_ids.isdisjoint(t["team"]["id"] for t in answer(sb, "/teams", league=9001, season=2026))


def test_the_default_world_has_no_extra_league():
    with start_sandbox(SandboxConfig(rate_limit=False), clock=frozen_clock(NOW)) as sb:
        assert {item["league"]["id"] for item in answer(sb, "/leagues")} == REAL
        assert answer(sb, "/leagues", id=9001) == []
        assert answer(sb, "/fixtures", league=9001, season=2026) == []
        assert {f["league"]["id"] for f in answer(sb, "/fixtures", date="2026-11-28")} <= REAL
