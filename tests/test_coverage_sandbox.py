"""End to end against the sandbox: gaps filled (by hand, then by `afc backfill --from-gaps`) reach 100 %."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from afc.api.client import Request
from afc.cli import app
from afc.collect.step import collect
from afc.coverage import gaps
from afc.db import load_json
from afc.marts.coverage import report
from afc.resources import default_jobs_dir
from tests import coverage_data as data

AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LEAGUE = 39


@pytest.fixture
def sandbox():
    with data.sandbox_at(AT) as sb:
        yield sb


@pytest.fixture
def collector(sandbox, db_url, tmp_path):
    with data.sandbox_collector(sandbox, db_url, tmp_path) as opened:
        yield opened


def test_gaps_filled_bring_coverage_to_100_percent(collector, sandbox):
    db, season = collector.db, sandbox.world.current_season(LEAGUE, AT)
    ctx = collector.context("coverage_test", "test", "LOW")
    list(collect(ctx, Request.of("fixtures", {"league": LEAGUE, "season": season})))
    before = {r.endpoint: r for r in report(db, collector.config, AT).rows}
    fixtures = before["fixtures"]
    truth = len(sandbox.world.fixtures(LEAGUE, season))
    assert (fixtures.held, fixtures.expected, fixtures.count_pct, fixtures.status) == (truth, truth, 100.0, "ok")
    finished = db.fetchone("SELECT count(*) FROM core.fixtures WHERE league_id = %s AND season = %s "
                           "AND status_group = 'finished'", (LEAGUE, season))[0]
    assert finished > 20 and before["events"].expected == finished and before["events"].held == 0

    found = gaps(collector, collector.config, AT)
    details = next(g for g in found if g.endpoint == "details")
    assert details.calls == len(details.requests) == -(-finished // 20)
    assert all(len(r.query["ids"].split("-")) <= 20 for r in details.requests)
    sandbox.reset_counters()
    data.fill_gaps(collector)
    asked = [(endpoint.strip("/"), params) for endpoint, params in sandbox.requests]
    for gap in found:
        for request in gap.requests:
            assert (request.endpoint, request.query) in asked, request
    unpaged = [g for g in found if g.endpoint not in ("players", "odds")]
    assert len([a for a in asked if a[0] not in ("players", "odds")]) == sum(g.calls for g in unpaged)

    stored = {r["endpoint"]: r for r in db.fetch_dicts(
        "SELECT * FROM mart.coverage_status WHERE league_id = %s AND season = %s", (LEAGUE, season))}
    applicable = {name: row for name, row in stored.items() if row["status"] != "not_applicable"}
    assert {"fixtures", "events", "standings", "teams"} <= set(applicable)
    for name, row in applicable.items():  # the mart was kept current by the responses themselves
        assert (float(row["count_pct"]), float(row["overall_pct"]), row["status"]) == (100.0, 100.0, "ok"), (
            name, load_json(row["detail"]))
    for row in stored.values():
        if row["status"] == "not_applicable":
            assert sandbox.world.coverage(LEAGUE, season) is not None and "false" in load_json(row["detail"])["reason"]
    assert gaps(collector, collector.config, AT) == []
    again = report(db, collector.config, AT)
    assert again.worst == "ok" and not again.critical


def test_report_gaps_backfill_from_gaps_then_report_is_clean(sandbox, db_url, tmp_path):
    jobs = data.jobs_dir(tmp_path / "jobs", seasons="[current]")
    shutil.copy(default_jobs_dir() / "bootstrap.yaml", jobs)
    env = {"AFC_DATABASE_URL": db_url, "API_FOOTBALL_KEY": sandbox.key, "AFC_API_BASE_URL": sandbox.url,
           "AFC_CLOCK": sandbox.clock.spec(), "AFC_JOBS_DIR": str(jobs), "AFC_DATA_DIR": str(tmp_path / "data"),
           "COLUMNS": "200"}
    runner = CliRunner()
    assert runner.invoke(app, ["-q", "bootstrap", "leagues"], env=env).exit_code == 0
    first = runner.invoke(app, ["-q", "coverage", "report", "--json"], env=env)
    assert first.exit_code == 1 and json.loads(first.stdout)["worst"] == "critical"
    listed = json.loads(runner.invoke(app, ["-q", "coverage", "gaps", "--json"], env=env).stdout)
    assert {g["endpoint"] for g in listed["gaps"]} >= {"fixtures", "standings", "teams"}
    filled = runner.invoke(app, ["-q", "backfill", "--from-gaps", "--yes"], env=env)
    assert filled.exit_code == 0, filled.output
    final = runner.invoke(app, ["-q", "coverage", "report", "--json"], env=env)
    assert final.exit_code == 0, final.stdout
    rows = [r for r in json.loads(final.stdout)["rows"] if r["status"] != "not_applicable"]
    assert rows and all((r["count_pct"], r["overall_pct"], r["status"]) == (100.0, 100.0, "ok") for r in rows), [
        (r["endpoint"], r["count_pct"], r["overall_pct"]) for r in rows]
    assert json.loads(runner.invoke(app, ["-q", "coverage", "gaps", "--json"], env=env).stdout)["gaps"] == []
