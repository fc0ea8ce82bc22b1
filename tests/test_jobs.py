"""Job files: the shipped ones load; every mistake is one line naming file, job and field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from afc.config.jobs import load
from afc.errors import ConfigError
from afc.jobs.expand import expand

GOOD_JOB = """
jobs:
  - job_id: daily_fixtures_pl
    type: daily
    endpoint: /fixtures
    params: {league: 39, season: "{season}"}
"""


def write(tmp_path: Path, text: str, name: str = "daily.yaml") -> Path:
    (tmp_path / name).write_text(text)
    return tmp_path


def error_for(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, text))
    return str(caught.value)


def test_the_shipped_jobs_load_and_order_dependencies_first():
    config = load()
    order = [j.job_id for j in config.of_type("bootstrap")]
    assert order.index("bootstrap_countries") < order.index("bootstrap_leagues") < order.index("bootstrap_teams")
    assert {t.league for t in config.tracked} >= {39, 140, 135, 78, 61}


def job(params: str, extra: str = "") -> str:
    return f"jobs:\n  - job_id: daily_fixtures_pl\n    type: daily\n    endpoint: /teams\n    params: {params}\n{extra}"


@pytest.mark.parametrize(("text", "message"), [
    (job("{league: 39, season: '2024-25'}"),
     "job daily_fixtures_pl: params.season: must be a 4-digit year, got '2024-25'"),
    (job("{leaguee: 39}"), "job daily_fixtures_pl: params.leaguee: /teams has no such parameter"),
    (job("{league: 39, page: 2}"), "job daily_fixtures_pl: params.page: afc pages by itself; remove it"),
    (job("{league: 39}", "    bogus: 1\n"), "job daily_fixtures_pl: bogus: Extra inputs are not permitted"),
    (job("{league: 39}", "    priority: URGENT\n"),
     "job daily_fixtures_pl: priority: Input should be 'CRITICAL', 'HIGH', 'MEDIUM' or 'LOW', got 'URGENT'"),
    (job("{league: 39}", "    schedule: every tuesday\n"), "job daily_fixtures_pl: schedule: must be one of"),
    # shaped like cron, but the units and the crontab could not be rendered from it
    (job("{league: 39}", "    schedule: '61 * * * *'\n"),
     "job daily_fixtures_pl: schedule: schedule '61 * * * *': field 1 ('61') is outside 0-59"),
    (job("{league: 39}", "    schedule: '0 6 1 * 1'\n"),
     "job daily_fixtures_pl: schedule: schedule '0 6 1 * 1': cron runs when day of month OR day of week match"),
    (job("{league: 39}", "    dependencies: [nope]\n"), "job daily_fixtures_pl: dependencies: unknown job 'nope'"),
    (job("{season: '{{ season }}'}"),
     "job daily_fixtures_pl: params.season: template {{ season }} needs for_each league_season"),
    (job("{search: '{{ someday }}'}"), "params.search: unknown template {{ someday }}"),
    ("jobs:\n  - job_id: x\n    type: daily\n    endpoint: /banana\n", "job x: endpoint: unknown endpoint '/banana'"),
    ("jobs:\n  - job_id: x\n    type: daily\n    endpoint: /odds/bookmakers\n",
     "job x: target_layers: /odds/bookmakers is kept in raw only; use [raw]"),
    ("jobs:\n  - type: daily\n    endpoint: /fixtures\n", "job #1: job_id: Field required"),
    ("jobs: [1, 2", "daily.yaml: line 1 not valid YAML"),
    ("- just\n- a list\n", "expected a mapping"),
    ("tracked:\n  - league: 39\n    seasons: [1850]\n",
     "tracked.0.seasons: must be 'current' or a 4-digit year, got 1850"),
    ("surprise: {}\n", "surprise: Extra inputs are not permitted"),
])
def test_mistakes_name_file_job_and_field(tmp_path, text, message):
    error = error_for(tmp_path, text)
    assert error.startswith(str(tmp_path / "daily.yaml")) and message in error
    assert "\n" not in error


def test_cycles_and_duplicates_are_rejected(tmp_path):
    cycle = ("jobs:\n  - {job_id: a, type: daily, endpoint: /countries, dependencies: [b]}\n"
             "  - {job_id: b, type: daily, endpoint: /countries, dependencies: [a]}\n")
    assert "dependencies: cycle a -> b -> a" in error_for(tmp_path, cycle)
    write(tmp_path, "jobs:\n  - {job_id: a, type: daily, endpoint: /countries}\n", "other.yaml")
    again = "jobs:\n  - {job_id: a, type: daily, endpoint: /countries}\n"
    assert "job a: job_id also defined in" in error_for(tmp_path, again)


def test_a_missing_directory_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="jobs directory not found"):
        load(tmp_path / "nope")


def test_templates_and_fan_out_expand_into_requests(tmp_path):
    write(tmp_path, "tracked:\n  - {league: 39, seasons: [2023, current]}\n  - {league: 140}\n", "leagues.yaml")
    write(tmp_path, """jobs:
  - {job_id: by_date, type: daily, endpoint: /fixtures, params: {date: "{{ yesterday }}"}, target_layers: [raw]}
  - {job_id: standings, type: daily, endpoint: /teams, for_each: league_season,
     params: {league: "{{ league }}", season: "{{ season }}"}}
""")
    config = load(tmp_path)
    now = datetime(2026, 11, 28, 9, tzinfo=UTC)
    assert [str(r) for r in expand(config.job("by_date"), config, None, now)] == ["/fixtures?date=2026-11-27"]
    assert [str(r) for r in expand(config.job("standings"), config, None, now)] == [
        "/teams?league=39&season=2023", "/teams?league=39&season=2026", "/teams?league=140&season=2026"]


@pytest.mark.parametrize(("text", "message"), [
    ('jobs:\n  - job_id: "daily_x\\n"\n    type: daily\n    endpoint: /status\n',
     "job_id: must be lowercase letters, digits and underscores, got 'daily_x\\n'"),
    ('jobs:\n  - job_id: "daily_x\\nExecStartPre=/bin/sh"\n    type: daily\n    endpoint: /status\n',
     "job_id: must be lowercase letters, digits and underscores"),
    (job("{league: 39}", '    schedule: "calendar:*-*-* 04:30\\nExecStartPre=/bin/sh -c id"\n'),
     "job daily_fixtures_pl: schedule: must be printable ASCII on one line"),
    (job("{league: 39}", '    schedule: "calendar:*-*-* 04:30 ; id"\n'),
     "job daily_fixtures_pl: schedule: schedule 'calendar:*-*-* 04:30 ; id': not an OnCalendar spec afc accepts"),
    (job("{league: 39}", '    schedule: "15\\n* * * *"\n'), "job daily_fixtures_pl: schedule: must be printable ASCII"),
    (job("{league: 39}", '    description: "fixtures\\n[Service]"\n'),
     "job daily_fixtures_pl: description: must be one line of printable text"),
])
def test_nothing_that_could_inject_a_unit_line_passes_even_without_systemd(tmp_path, monkeypatch, text, message):
    monkeypatch.setenv("PATH", "/nonexistent")  # systemd-analyze absent: validation must not depend on it
    error = error_for(tmp_path, text)
    assert message in error and "\n" not in error


def test_ops_schedules_are_checked_without_systemd(tmp_path, monkeypatch):
    from afc.config.ops import ops_config

    monkeypatch.setenv("PATH", "/nonexistent")
    config = load(write(tmp_path, 'ops:\n  schedules:\n    daily: "calendar:*-*-* 04:30\\nExecStartPre=/bin/sh"\n'))
    with pytest.raises(ConfigError, match=r"ops.schedules: daily: must be printable ASCII on one line"):
        ops_config(config)
