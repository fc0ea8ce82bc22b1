"""`afc history odds|standings`, the MCP templates odds_movement and table_at_round, the odds cadence
near kick-off and its price in `afc jobs plan` (both backends)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mcp import Client
from typer.testing import CliRunner

from afc.cli import app
from afc.cli.history import sparkline
from afc.clock import SimClock
from afc.collect.collector import Collector
from afc.config.daily import DailySettings, odds_cadence
from afc.config.settings import load_settings
from afc.db import Database, connect
from afc.jobs.bootstrap import bootstrap
from afc.jobs.daily import daily
from afc.jobs.dry_run import odds_outlook
from afc.jobs.targets import odds_upcoming
from afc.mcp.server import build_server
from afc.sandbox import SandboxConfig, start_sandbox
from tests.loading import AT
from tests.mcp_support import restricted_target
from tests.test_daily import EVENING
from tests.test_history import FIXTURE, fetch_odds, fetch_table, odds_item, standing, standings_item

runner = CliRunner()


def seed(db: Database) -> None:
    """Odds of FIXTURE moving twice (Home 2.10 → 2.05 → 2.00), and group A's table after rounds 1 and 2."""
    for raw_id, home in enumerate(("2.10", "2.05", "2.00"), start=1):
        fetch_odds(db, odds_item({"Home": home, "Away": "3.50"}), raw_id * 3, raw_id)
    fetch_table(db, standings_item([standing(1, 1, 3, 1), standing(2, 2, 0, 1)]), 0, 10)
    fetch_table(db, standings_item([standing(2, 1, 3, 2), standing(1, 2, 3, 2)]), 24, 11)


@pytest.fixture
def seeded_url(db_url: str) -> str:
    db = connect(db_url)
    try:
        from afc.db.migrate import migrate

        migrate(db)
        seed(db)
    finally:
        db.close()
    return db_url


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["history", *args])


def test_history_odds_json_and_table(seeded_url: str) -> None:
    result = invoke("odds", "--fixture", str(FIXTURE), "--db", seeded_url, "--json")
    assert result.exit_code == 0, result.output
    found = {s["summary"]["value"]: s for s in json.loads(result.stdout)["selections"]}
    assert found["home"]["path"] == [2.10, 2.05, 2.00] and found["away"]["path"] == [3.50]
    home = found["home"]["summary"]
    assert (home["opening_odd"], home["closing_odd"], home["moves"]) == (2.10, 2.00, 2)
    assert found["home"]["in_play"] is False
    table = invoke("odds", "--fixture", str(FIXTURE), "--bet", "1", "--db", seeded_url)
    assert table.exit_code == 0, table.output
    line = next(row for row in table.stdout.splitlines() if " Home " in row)
    assert "Bet365" in line and "2.1 (28 Nov 15:00)" in line and "2.0 (28 Nov 21:00)" in line and "+0.0238" in line
    assert "▁" not in table.stdout  # no sparkline outside a terminal: whole rows for a pipe
    none = invoke("odds", "--fixture", str(FIXTURE), "--bookmaker", "6", "--db", seeded_url)
    assert none.exit_code == 1 and none.stderr.strip() == (
        f"afc: history odds: no odds kept for fixture {FIXTURE} with that --bookmaker/--bet")


def test_history_standings_json_and_table(seeded_url: str) -> None:
    result = invoke("standings", "--league", "2", "--season", "2026", "--db", seeded_url, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["round"] == 2 and body["rounds"] == [1, 2]
    assert [(r["team_id"], r["points"]) for r in body["table"]] == [(2, 3), (1, 3)]
    first = invoke("standings", "--league", "2", "--season", "2026", "--round", "1", "--db", seeded_url)
    assert first.exit_code == 0, first.output
    assert "Group A after round 1" in first.stdout and "Team 1" in first.stdout


@pytest.mark.parametrize("args,code,message", [
    (["odds", "--fixture", "0"], 2, "afc: --fixture: must be between 1 and 2147483647, got 0"),
    (["odds", "--fixture", "77"], 1, "afc: history odds: no odds kept for fixture 77"),
    (["standings", "--league", "2", "--season", "2026", "--round", "9"], 2,
     "afc: history standings: --round 9: no table kept for it; rounds held: 1-2"),
    (["standings", "--league", "3", "--season", "2026"], 1,
     "afc: history standings: no table kept for league 3 season 2026"),
    (["standings", "--league", "2", "--season", "26"], 2, "afc: --season: must be between 1900 and 2199, got 26"),
])
def test_bad_arguments_get_one_line(seeded_url: str, args: list[str], code: int, message: str) -> None:
    result = invoke(*args, "--db", seeded_url)
    assert result.exit_code == code and result.stderr.strip() == message, result.output


def test_sparkline_scales_between_lowest_and_highest() -> None:
    assert sparkline([2.0, 1.5, 1.0, 1.5]) == "█▅▁▅" and sparkline([2.0, 2.0]) == "▁▁" and sparkline([]) == ""
    assert len(sparkline([float(i) for i in range(40)])) == 24


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_mcp_templates(seeded_url: str, ai_role: str) -> None:
    target = restricted_target(seeded_url, ai_role) if seeded_url.startswith("postgres") else None
    server = build_server(load_settings({}, database_url=seeded_url), role=ai_role, clock=SimClock(AT, speed=0),
                          target=target)
    async with Client(server, raise_exceptions=True) as client:
        odds = await client.call_tool("run_template", {"name": "odds_movement", "params": {"fixture_id": FIXTURE}})
        out = odds.structured_content
        rows = [dict(zip(out["columns"], row, strict=True)) for row in out["rows"]]
        assert [(r["selection"], float(r["opening_odd"]), float(r["closing_odd"]), r["moves"]) for r in rows] == [
            ("Away", 3.5, 3.5, 0), ("Home", 2.1, 2.0, 2)]
        table = await client.call_tool("run_template", {"name": "table_at_round",
                                                        "params": {"league_id": 2, "season": 2026, "round": 1}})
        out = table.structured_content
        assert [row[out["columns"].index("team_id")] for row in out["rows"]] == [1, 2]
        newest = await client.call_tool("run_template", {"name": "table_at_round",
                                                         "params": {"league_id": 2, "season": 2026}})
        assert {row[0] for row in newest.structured_content["rows"]} == {2}


def test_odds_cadence_is_sharper_near_kickoff() -> None:
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    plain, sharp = DailySettings(), DailySettings(odds_final_hours=24, odds_final_every_hours=1)
    assert odds_cadence(plain, now, now + timedelta(hours=5)) == timedelta(hours=3)
    assert odds_cadence(sharp, now, now + timedelta(hours=5)) == timedelta(hours=1)
    assert odds_cadence(sharp, now, now + timedelta(hours=30)) == timedelta(hours=3)


@pytest.fixture
def collector(sqlite_url: str) -> Iterator[Collector]:
    clock = SimClock(EVENING, speed=0)
    with start_sandbox(SandboxConfig(seed=42, plan="pro"), clock=clock, port=0) as sandbox:
        conf = load_settings({}, api_key=sandbox.key, api_base_url=sandbox.url, database_url=sqlite_url)
        opened = Collector.open(conf, clock=clock)
        bootstrap(opened, "leagues")
        daily(opened)
        yield opened
        opened.close()


def sharper(collector: Collector) -> Any:
    sections = collector.config.sections
    return collector.config.model_copy(update={"sections": {
        **sections, "daily": {**sections.get("daily", {}), "odds_final_hours": 24, "odds_final_every_hours": 1}}})


def test_near_kickoff_cadence_buys_calls_and_the_plan_prices_them(collector: Collector, monkeypatch: Any) -> None:
    assert isinstance(collector.clock, SimClock)
    collector.clock.advance(3600)
    now = collector.now()
    assert list(odds_upcoming(collector.config, collector.db, now)) == []  # every 3 h: not yet
    due = list(odds_upcoming(sharper(collector), collector.db, now))
    assert due and all(v["date"] == (EVENING + timedelta(days=1)).date().isoformat() for v in due)
    plain = odds_outlook(collector.config, collector.db, now)
    sharp = odds_outlook(sharper(collector), collector.db, now)
    assert plain.near_kickoff == 0 and sharp.near_kickoff > 0 and sharp.calls > plain.calls > 0
    monkeypatch.setenv("AFC_CLOCK", collector.clock.spec())
    result = runner.invoke(app, ["jobs", "plan", "daily_odds", "--db", collector.settings.db_url])
    assert result.exit_code == 0, result.output
    assert f"odds cadence: ~{plain.calls} calls over the next 24 h (0 at the near-kick-off cadence)" in result.stdout
