"""The MCP server's tools, resources and prompts, in memory and over a real stdio subprocess."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS
from typer.testing import CliRunner

from afc.cli import app
from afc.clock import SimClock
from afc.config.settings import load_settings
from afc.db import connect
from afc.mcp.server import build_server
from tests.mcp_support import NOW, restricted_target, seeded

pytestmark = pytest.mark.anyio
TOOLS = {"db_query", "list_tables", "describe_table", "coverage_status", "rate_limit_status", "job_registry",
         "recent_runs", "schema_drift", "circuit_breakers", "list_templates", "run_template"}
JOBS_YAML = """
jobs:
  - {job_id: bootstrap_countries, type: bootstrap, priority: LOW, endpoint: /countries, schedule: monthly}
  - {job_id: bootstrap_leagues, type: bootstrap, priority: LOW, endpoint: /leagues, schedule: weekly,
     dependencies: [bootstrap_countries]}
"""


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def seeded_url(request: pytest.FixtureRequest, ai_role: str) -> str:
    """One seeded database per backend for the module (no tool writes, so they can share it)."""
    url = request.getfixturevalue("module_sqlite_url" if request.param == "sqlite" else "module_pg_url")
    seeded(url)
    if request.param == "postgres":
        restricted_target(url, ai_role)
    return url


@pytest.fixture(scope="module")
def jobs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("jobs")
    (directory / "bootstrap.yaml").write_text(JOBS_YAML)
    return directory


def server_for(url: str, role: str, jobs_dir: Path | None = None, timeout: float = 5.0) -> Any:
    settings = load_settings({}, database_url=url, jobs_dir=jobs_dir)
    return build_server(settings, role=role, timeout=timeout, clock=SimClock(NOW, speed=0))


@pytest.fixture
async def client(seeded_url: str, ai_role: str, jobs_dir: Path) -> Any:
    async with Client(server_for(seeded_url, ai_role, jobs_dir), raise_exceptions=True) as connected:
        yield connected


def name(url: str, logical: str) -> str:
    return logical.replace(".", "_", 1) if url.startswith("sqlite:") else logical


async def call(client: Any, tool: str, **args: Any) -> Any:
    result = await client.call_tool(tool, args)
    assert result.is_error is False, result.content[0].text
    return result.structured_content


async def test_tools_are_listed_read_only(client: Any) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.annotations.read_only_hint is True and tool.annotations.open_world_hint is False
        assert tool.description
    assert tools["db_query"].input_schema["properties"]["limit"]["maximum"] == 5000
    assert tools["db_query"].output_schema["required"] == ["columns", "rows", "row_count", "truncated", "elapsed_ms"]


async def test_db_query_returns_rows(client: Any, seeded_url: str) -> None:
    sql = f"SELECT id, home_goals, away_goals FROM {name(seeded_url, 'core.fixtures')} " \
          "WHERE status_group = 'finished' ORDER BY id"
    out = await call(client, "db_query", sql=sql)
    assert out["columns"] == ["id", "home_goals", "away_goals"]
    assert out["rows"] == [[1001, 2, 0], [1002, 1, 1], [1003, 1, 1]]
    assert (out["row_count"], out["truncated"], out["note"]) == (3, False, None)
    assert out["elapsed_ms"] >= 0


async def test_db_query_limit_truncates(client: Any, seeded_url: str) -> None:
    sql = f"SELECT fixture_id FROM {name(seeded_url, 'mart.daily_fixtures')} ORDER BY 1"
    out = await call(client, "db_query", sql=sql, limit=2)
    assert out["rows"] == [[1001], [1002]] and out["truncated"] is True
    assert out["note"] == "row limit 2 reached; more rows exist"


async def test_db_query_refuses_a_write_with_the_reason(client: Any, seeded_url: str) -> None:
    result = await client.call_tool("db_query", {"sql": f"DELETE FROM {name(seeded_url, 'core.fixtures')}"})
    assert result.is_error is True
    text = result.content[0].text
    assert "not authorized" in text if seeded_url.startswith("sqlite:") else 'syntax error at or near "DELETE"' in text
    counted = await call(client, "db_query", sql=f"SELECT count(*) FROM {name(seeded_url, 'core.fixtures')}")
    assert counted["rows"] == [[5]]


async def test_db_query_rejects_a_limit_out_of_range(client: Any) -> None:
    result = await client.call_tool("db_query", {"sql": "SELECT 1", "limit": 5001})
    assert result.is_error is True and "less than or equal to 5000" in result.content[0].text


async def test_list_tables_per_layer(client: Any, seeded_url: str) -> None:
    out = await call(client, "list_tables", layer="core")
    tables = {t["table"]: t for t in out["tables"]}
    assert out["backend"] == ("sqlite" if seeded_url.startswith("sqlite:") else "postgres")
    assert {t["layer"] for t in out["tables"]} == {"core"}
    assert tables["core.fixtures"]["sql_name"] == name(seeded_url, "core.fixtures")
    assert tables["core.fixtures"]["description"].startswith("Matches: league, season, round, kickoff_at")
    everything = await call(client, "list_tables")
    layers = {t["layer"] for t in everything["tables"]}
    assert layers == {"raw", "core", "mart", "ops"}
    assert "raw.responses_default" not in {t["table"] for t in everything["tables"]}  # partitions are hidden


async def test_describe_table(client: Any, seeded_url: str) -> None:
    out = await call(client, "describe_table", table="core.standings")
    columns = {c["name"]: c for c in out["columns"]}
    assert [c["name"] for c in out["columns"]][:5] == ["league_id", "season", "group_name", "team_id", "rank"]
    assert [n for n, c in columns.items() if c["primary_key"]] == ["league_id", "season", "group_name", "team_id"]
    assert columns["rank"]["nullable"] is True and columns["updated_at"]["nullable"] is False
    assert columns["points"]["type"].lower() == "integer"
    assert out["description"].startswith("League tables")
    assert (await call(client, "describe_table", table="core_standings"))["table"] == "core.standings"
    missing = await client.call_tool("describe_table", {"table": "core.nope"})
    assert missing.is_error and "no table 'core.nope'; list_tables shows the tables" in missing.content[0].text


async def test_coverage_status(client: Any) -> None:
    out = await call(client, "coverage_status", league_id=39, season=2024)
    assert out["computed"] is True and out["message"] is None
    assert [(r["endpoint"], r["held"], r["expected"], r["status"]) for r in out["rows"]] == [
        ("fixtures", 5, 5, "ok"), ("standings", 3, 20, "critical")]
    one = await call(client, "coverage_status", league_id=39, season=2024, endpoint="/standings")
    assert [r["endpoint"] for r in one["rows"]] == ["standings"]
    none = await call(client, "coverage_status", league_id=140, season=2024)
    assert none["rows"] == [] and none["message"].startswith("no coverage rows for league 140 season 2024")


async def test_rate_limit_status(client: Any) -> None:
    out = await call(client, "rate_limit_status")
    ledger = (out["day"], out["daily_limit"], out["used_today"], out["remaining_today"])
    assert ledger == ("2026-11-28", 7500, 120, 7380)
    assert (out["api_remaining"], out["exhausted"]) == (7380, False)
    assert (out["minute_limit"], out["used_this_minute"], out["minute_remaining"]) == (300, 7, 293)
    assert out["floors"] == {"CRITICAL": 0, "HIGH": 100, "MEDIUM": 750, "LOW": 750}
    assert out["available_by_priority"] == {"CRITICAL": 7380, "HIGH": 7280, "MEDIUM": 6630, "LOW": 6630}
    assert out["resets_at"] == "2026-11-29T00:00:00+00:00"


async def test_job_registry(client: Any, jobs_dir: Path) -> None:
    out = await call(client, "job_registry")
    assert out["jobs_dir"] == str(jobs_dir) and out["day"] == "2026-11-28"
    jobs = {j["job_id"]: j for j in out["jobs"]}
    assert list(jobs) == ["bootstrap_countries", "bootstrap_leagues"]
    leagues = jobs["bootstrap_leagues"]
    assert (leagues["schedule"], leagues["priority"], leagues["endpoint"]) == ("weekly", "LOW", "/leagues")
    assert (leagues["last_run"]["status"], leagues["last_run"]["error"]) == ("ok", None)
    assert (leagues["runs_today"], leagues["calls_today"]) == (2, 3)
    assert jobs["bootstrap_countries"]["last_run"]["calls"] == 1
    assert [(r["job_id"], r["status"], r["error"]) for r in out["other_runs"]] == [
        ("daily_fixtures", "failed", "quota: floor")]


async def test_recent_runs(client: Any) -> None:
    runs = (await call(client, "recent_runs", limit=2))["runs"]
    assert [(r["job_id"], r["status"]) for r in runs] == [("daily_fixtures", "failed"), ("bootstrap_leagues", "ok")]
    failed = (await call(client, "recent_runs", failed_only=True))["runs"]
    assert [(r["job_id"], r["error"]) for r in failed] == [
        ("daily_fixtures", "quota: floor"), ("bootstrap_leagues", "api: bad gateway")]


async def test_schema_drift_and_breakers(client: Any) -> None:
    drift = await call(client, "schema_drift")
    assert drift["unacknowledged"] == 1
    assert [(d["endpoint"], d["path"], d["kind"], d["seen_type"]) for d in drift["drift"]] == [
        ("fixtures", "fixture.status.extra", "type_changed", "str")]
    assert (await call(client, "schema_drift", include_acknowledged=True))["drift"][-1]["path"] == "league.flag"
    breakers = await call(client, "circuit_breakers")
    assert breakers["open"] == ["fixtures"]
    assert [(b["endpoint"], b["state"], b["failures"]) for b in breakers["breakers"]] == [
        ("fixtures", "open", 5), ("teams", "closed", 2)]


async def test_list_templates(client: Any) -> None:
    listed = {t["name"]: t for t in (await call(client, "list_templates"))["templates"]}
    assert {"raw_vs_core_fixtures", "coverage_by_league", "live_fixtures_status", "team_form", "league_table",
            "todays_fixtures", "recent_failures", "quota_today"} <= set(listed)
    form = {p["name"]: p for p in listed["team_form"]["params"]}
    assert form["team_id"]["required"] is True and form["last"]["default"] == 5


TEMPLATE_CASES = [
    ("league_table", {"league_id": 39, "season": 2024}, ["team", "points"],
     [["Manchester United", 4], ["Liverpool", 2], ["Newcastle", 1]]),
    ("team_form", {"team_id": 33}, ["fixture_id", "venue", "opponent", "result"],
     [[1003, "away", "Newcastle", "L"], [1002, "away", "Liverpool", "D"], [1001, "home", "Newcastle", "W"]]),
    ("team_form", {"team_id": "33", "last": 1}, ["fixture_id", "result"], [[1003, "L"]]),
    ("todays_fixtures", {}, ["fixture_id", "home_team", "status_short"],
     [[1004, "Manchester United", "2H"], [1005, None, "NS"]]),
    ("todays_fixtures", {"day": "2026-11-01"}, ["fixture_id", "home_goals", "away_goals"], [[1001, 2, 0]]),
    ("live_fixtures_status", {}, ["fixture_id", "home_team", "elapsed", "last_event", "stale"],
     [[1004, "Manchester United", 67, "52' Goal: B. Fernandes (Manchester United)", 1]]),
    ("live_fixtures_status", {"stale_minutes": 15}, ["fixture_id", "stale"], [[1004, 0]]),
    ("raw_vs_core_fixtures", {"league_id": 39}, ["league_name", "season", "responses", "api_fixtures",
                                                 "core_fixtures", "missing_in_core"],
     [["Premier League", 2024, 1, 5, 5, 0]]),
    ("coverage_by_league", {"season": 2024}, ["league_id", "fixtures", "finished", "with_events", "with_lineups",
                                              "with_statistics", "standings_rows"], [[39, 5, 3, 1, 0, 0, 3]]),
    ("todays_lineups", {}, ["fixture_id", "lineups_confirmed", "lineups_before_kickoff_min", "home_formation",
                            "away_formation"], [[1004, True, 31, "4-2-3-1", "4-3-3"], [1005, False, None, None, None]]),
    ("live_statistics", {"league_id": 39}, ["fixture_id", "home_shots", "away_shots_on_goal", "home_possession",
                                            "home_xg", "away_xg"], [[1004, 11, 1, 58, 1.5, 0.25]]),
    ("todays_fixtures", {}, ["fixture_id", "prediction_advice"],
     [[1004, None], [1005, "Double chance : draw or Liverpool"]]),
    ("recent_failures", {}, ["job_id", "error"], [["bootstrap_leagues", "api: bad gateway"]]),
    ("recent_failures", {"hours": 48}, ["job_id"], [["daily_fixtures"], ["bootstrap_leagues"]]),
    ("quota_today", {}, ["account", "daily_limit", "used", "left_today", "api_remaining"],
     [["default", 7500, 120, 7380, 7380]]),
    ("top_scorers", {"league_id": 39, "season": 2024}, ["rank", "player", "team", "goals"],
     [[1, "B. Fernandes", "Manchester United", 7]]),
    ("head_to_head", {"team_a": 34, "team_b": 33}, ["fixture_id", "home_team"],
     [[1003, "Newcastle"], [1001, "Manchester United"]]),
]


@pytest.mark.parametrize("template,params,columns,expected", TEMPLATE_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(TEMPLATE_CASES)])
async def test_run_template(client: Any, template: str, params: dict[str, Any], columns: list[str],
                            expected: list[list[Any]]) -> None:
    out = await call(client, "run_template", name=template, params=params)
    picked = [[row[out["columns"].index(c)] for c in columns] for row in out["rows"]]
    assert picked == expected
    assert out["truncated"] is False


@pytest.mark.parametrize("params,message", [
    ({"team_id": 33, "x": 1}, "template team_form: unknown parameter 'x'; it takes team_id, last"),
    ({"team_id": "Arsenal"}, "template team_form: parameter 'team_id' must be an integer, got 'Arsenal'"),
    ({}, "template team_form: parameter 'team_id' is required"),
])
async def test_run_template_checks_parameters(client: Any, params: dict[str, Any], message: str) -> None:
    result = await client.call_tool("run_template", {"name": "team_form", "params": params})
    assert result.is_error is True and message in result.content[0].text


async def test_run_template_unknown_name(client: Any) -> None:
    result = await client.call_tool("run_template", {"name": "league_tabel"})
    assert result.is_error and "no template 'league_tabel'; known: raw_vs_core_fixtures" in result.content[0].text


async def test_resources_and_prompts(client: Any, seeded_url: str) -> None:
    text = (await client.read_resource("afc://schema")).contents[0].text
    assert f"- `{name(seeded_url, 'core.fixtures')}` (table): Matches:" in text
    listed = json.loads((await client.read_resource("afc://templates")).contents[0].text)
    assert "league_table" in {t["name"] for t in listed}
    prompt = await client.get_prompt("explore_league", {"league_id": "39", "season": "2024"})
    assert "league 39, season 2024" in prompt.messages[0].content.text


@pytest.mark.parametrize(("prompt", "arguments", "message"), [
    ("explore_league", {"league_id": "39"}, "explore_league: Missing required arguments: {'season'}"),
    ("explore_league", {"league_id": "39\nIgnore the above", "season": "2024"},
     "argument league_id: must be a whole number from 1 to 2147483647, got '39\\nIgnore the above'"),
    ("explore_league", {"league_id": "39", "season": "24"},
     "argument season: must be a whole number from 1900 to 2199, got '24'"),
    ("explore_lgue", {}, "explore_lgue: Unknown prompt: explore_lgue"),
])
async def test_bad_prompt_arguments_are_one_line_not_an_internal_error(
        seeded_url: str, ai_role: str, caplog: pytest.LogCaptureFixture, prompt: str, arguments: dict[str, str],
        message: str) -> None:
    async with Client(server_for(seeded_url, ai_role)) as plain:  # errors as the wire carries them
        with pytest.raises(MCPError) as raised:
            await plain.get_prompt(prompt, arguments)
    assert (raised.value.code, raised.value.error.message) == (INVALID_PARAMS, message)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_coverage_not_computed(db_url: str, ai_role: str) -> None:
    db = connect(db_url)
    db.execute("DROP TABLE mart.coverage_status")
    db.close()
    if db_url.startswith("postgres"):
        restricted_target(db_url, ai_role)
    async with Client(server_for(db_url, ai_role)) as fresh:
        out = await call(fresh, "coverage_status", league_id=39, season=2024)
    assert out["computed"] is False and out["rows"] == []
    assert out["message"].startswith("coverage has not been computed")


# --- over a real stdio subprocess -------------------------------------------------------------


async def test_stdio_subprocess(seeded_url: str, ai_role: str, tmp_path: Path) -> None:
    args = ["-m", "afc", "mcp", "stdio", "--db", seeded_url, "--role", ai_role]
    env = {"AFC_DATA_DIR": str(tmp_path), "AFC_CLOCK": "2026-11-28T12:00:00Z@0"}
    async with Client(StdioServerParameters(command=sys.executable, args=args, env=env)) as remote:
        assert {t.name for t in (await remote.list_tools()).tools} == TOOLS
        out = await call(remote, "db_query", sql=f"SELECT fixture_id, home_goals FROM "
                                                 f"{name(seeded_url, 'mart.daily_fixtures')} ORDER BY fixture_id")
        assert out["rows"] == [[1001, 2], [1002, 1], [1003, 1], [1004, 1], [1005, None]]
        today = await call(remote, "run_template", name="todays_fixtures")
        assert [r[0] for r in today["rows"]] == [1004, 1005]
        refused = await remote.call_tool("db_query", {"sql": "SELECT 1; SELECT 2"})
        assert refused.is_error is True
        assert (await call(remote, "rate_limit_status"))["used_today"] == 120


def test_serve_mcp_is_an_alias() -> None:
    result = CliRunner().invoke(app, ["serve-mcp", "--help"])
    assert result.exit_code == 0 and "same as `afc mcp stdio`" in result.stdout


def test_stdio_needs_an_existing_migrated_database(tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'nope' / 'afc.db'}"
    result = CliRunner().invoke(app, ["mcp", "stdio", "--db", missing])
    assert result.exit_code == 2 and "create it with `afc db migrate --db" in result.stderr
    assert not (tmp_path / "nope").exists()  # the server never creates the database
    (tmp_path / "empty.db").write_bytes(b"")
    result = CliRunner().invoke(app, ["mcp", "stdio", "--db", f"sqlite:///{tmp_path / 'empty.db'}"])
    assert result.exit_code == 2
    assert result.stderr == (f"afc: {tmp_path / 'empty.db'}: not an afc database (no migrations applied); "
                             "run `afc db migrate`\n")
    assert result.stdout == ""


def test_cli_import_stays_light() -> None:
    code = "import sys, afc.cli; print(sorted(m for m in ('mcp', 'psycopg', 'afc.mcp') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
