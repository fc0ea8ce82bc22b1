"""The command line: happy paths and bad input, exit codes and messages."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from afc.cli import app
from tests.fakeapi import KEY, REFERENCE_ROUTES, FakeApi

runner = CliRunner()


@pytest.fixture
def api():
    fake = FakeApi(dict(REFERENCE_ROUTES))
    with fake.serve():
        yield fake


def invoke(args: list[str], db_url: str, api=None, **env: str):
    base = {"AFC_DATABASE_URL": db_url, "API_FOOTBALL_KEY": KEY, "AFC_CLOCK": "2026-11-28T12:00:00Z"}
    if api is not None:
        base["AFC_API_BASE_URL"] = api.url
    return runner.invoke(app, args, env=base | env)


def test_help_lists_the_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("bootstrap", "quota", "db", "jobs"):
        assert command in result.stdout


def test_bootstrap_all_then_again_writes_nothing_new(db_url, api):
    first = invoke(["bootstrap", "all", "--json"], db_url, api)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    by_job = {j["job"]: j for j in report["jobs"]}
    assert by_job["bootstrap_countries"]["inserted"] == 168
    assert by_job["bootstrap_timezone"]["inserted"] == 427
    assert by_job["bootstrap_teams"]["requests"] == 6  # one per tracked league season
    assert all(j["status"] == "ok" for j in report["jobs"])
    second = json.loads(invoke(["bootstrap", "all", "--json"], db_url, api).stdout)
    assert sum(j["inserted"] + j["updated"] for j in second["jobs"]) == 0
    assert second["quota"]["used_today"] > 0


def test_bootstrap_one_target_runs_its_dependencies_first_once(db_url, api):
    result = invoke(["bootstrap", "teams"], db_url, api)
    assert result.exit_code == 0, result.output
    assert [e for e, _, _ in api.requests[:2]] == ["countries", "leagues"]
    assert "bootstrap_teams" in result.stdout and "quota:" in result.stdout
    api.requests.clear()
    invoke(["bootstrap", "teams"], db_url, api)
    assert {e for e, _, _ in api.requests} == {"teams"}


def test_bootstrap_unknown_target_is_a_usage_error(db_url):
    result = invoke(["bootstrap", "planets"], db_url)
    assert result.exit_code == 2
    assert "afc: bootstrap: unknown target 'planets'; choose one of all, countries" in result.stderr


def test_a_bad_target_is_a_usage_error_even_while_the_lock_is_held(db_url, tmp_path):
    script = ("import sys\nfrom pathlib import Path\nfrom afc.ops.lock import hold\n"
              "with hold(Path(sys.argv[1]), sys.argv[2], 'bootstrap'):\n"
              "    print('held', flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", script, str(tmp_path), db_url],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        held = invoke(["bootstrap", "countries"], db_url, AFC_DATA_DIR=str(tmp_path))
        bad = invoke(["bootstrap", "planets"], db_url, AFC_DATA_DIR=str(tmp_path))
    finally:
        holder.communicate("", timeout=10)
    assert held.exit_code == 75
    assert bad.exit_code == 2 and "unknown target 'planets'" in bad.stderr


def test_missing_key_is_one_line_with_the_fix(db_url, api):
    result = runner.invoke(app, ["bootstrap", "countries"], env={"AFC_DATABASE_URL": db_url, "API_FOOTBALL_KEY": "",
                                                                 "AFC_API_BASE_URL": api.url})
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "afc: no API key: set API_FOOTBALL_KEY, or put the key in $CREDENTIALS_DIRECTORY/api_key "
        "(systemd LoadCredential=); try `afc demo` to run against the built-in sandbox"]


def test_a_rejected_key_fails_the_run_and_stops(db_url, api):
    from tests.fakeapi import Answer, envelope

    api.routes["timezone"] = Answer(200, envelope("timezone", [], errors={"token": "Error/Missing application key."}))
    result = invoke(["bootstrap", "all"], db_url, api)
    assert result.exit_code == 1
    assert "afc: bootstrap_timezone: /timezone: the API rejected the key" in result.stderr
    assert len(api.requests) == 1 and KEY not in result.output


def test_unreachable_database_is_one_line(api):
    result = invoke(["quota"], "postgresql://afc:secret@127.0.0.1:1/afc")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.startswith("afc: postgresql: cannot connect to postgresql://afc:***@127.0.0.1:1/afc")


def test_bad_database_url_is_a_usage_error():
    result = runner.invoke(app, ["db", "status", "--db", "oracle://x"])
    assert result.exit_code == 2 and "use sqlite:///path/to/afc.db or postgresql://" in result.stderr


def test_db_migrate_and_status(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    migrated = runner.invoke(app, ["db", "migrate", "--db", url])
    assert migrated.exit_code == 0 and "applied 0001_foundation" in migrated.stderr
    status = json.loads(runner.invoke(app, ["db", "status", "--db", url, "--json"]).stdout)
    assert status["database"] == url and all(m["applied"] for m in status["migrations"])
    latest = status["migrations"][-1]
    again = runner.invoke(app, ["db", "migrate", "--db", url])  # it had said "applied nothing to do"
    assert (again.exit_code, again.stderr) == (0, f"{url}: nothing to apply: the schema is at "
                                                  f"{latest['version']:04d}_{latest['name']}\n")


def test_quota_json(db_url):
    status = json.loads(invoke(["quota", "--json"], db_url).stdout)
    assert (status["daily_limit"], status["used_today"], status["day"]) == (7500, 0, "2026-11-28")
    assert status["resets_at"].startswith("2026-11-29 00:00:00")


def test_jobs_list_validate_and_plan(db_url, tmp_path):
    listed = json.loads(invoke(["jobs", "list", "--json"], db_url).stdout)
    assert {"bootstrap_countries", "bootstrap_teams"} <= {j["job_id"] for j in listed}
    assert invoke(["jobs", "validate"], db_url).exit_code == 0
    plan = invoke(["jobs", "plan", "bootstrap_teams"], db_url)
    assert plan.exit_code == 0 and "/teams?league=39&season=2026" in plan.stdout and "6 requests" in plan.stdout
    (tmp_path / "bad.yaml").write_text(
        "jobs:\n  - {job_id: x, type: daily, endpoint: /teams, params: {season: '24'}}\n")
    bad = invoke(["jobs", "validate", "--jobs-dir", str(tmp_path)], db_url)
    assert bad.exit_code == 2
    assert bad.stderr.strip() == f"afc: {tmp_path / 'bad.yaml'}: job x: params.season: must be a 4-digit year, got '24'"


def test_unknown_job_in_plan(db_url):
    result = invoke(["jobs", "plan", "nope"], db_url)
    assert result.exit_code == 2 and "afc: no job 'nope' in" in result.stderr


def test_unknown_option_is_a_usage_error():
    result = runner.invoke(app, ["quota", "--frobnicate"])
    assert result.exit_code == 2 and "No such option" in result.output


def test_jobs_validate_checks_every_section(db_url, tmp_path):
    import shutil

    from afc.resources import default_jobs_dir

    for path in default_jobs_dir().glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    live = tmp_path / "live.yaml"
    live.write_text(live.read_text().replace("interval: 15s", "interval: fast"))
    result = invoke(["jobs", "validate", "--jobs-dir", str(tmp_path)], db_url)
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"afc: {live}: live.interval: must be a duration such as 90s, 15m, 6h or 90d, "
                                     "got 'fast'")


def test_one_refused_request_does_not_keep_the_jobs_others_from_landing(db_url):
    """The first refused request (a season outside the plan, an unreadable body) ended the job: the other tracked
    league seasons' teams were never asked for until the next run."""
    from tests.fakeapi import Answer, envelope

    def teams(query: dict[str, str]) -> Answer | str:
        if query.get("league") == "39":
            return Answer(200, envelope("teams", [], errors={"plan": "Free plans do not have access to this season"}))
        return REFERENCE_ROUTES["teams"]

    fake = FakeApi(dict(REFERENCE_ROUTES) | {"teams": teams})
    with fake.serve():
        result = invoke(["bootstrap", "teams", "--json"], db_url, fake)
    assert result.exit_code == 1
    asked = [q for e, q, _ in fake.requests if e == "teams"]
    assert len(asked) == 6 and asked[0]["league"] == "39"  # the refused one first, then every other league season
    job = {j["job"]: j for j in json.loads(result.stdout)["jobs"]}["bootstrap_teams"]
    assert job["status"] == "failed" and job["requests"] == 6 and job["inserted"] > 0
    assert job["error"].startswith("/teams?league=39&season=2023: not in your plan")


def test_the_apis_text_reaches_the_terminal_as_one_line_without_control_characters(db_url, caplog):
    """An errors value with a newline, ANSI escapes and BEL was printed as is: two lines, and a red terminal."""
    import logging

    from afc.redact import one_line
    from tests.fakeapi import Answer, envelope

    caplog.set_level(logging.WARNING)
    hostile = "bad\nsecond \x1b[31mRED\x1b[0m \x07 \u202eend"
    fake = FakeApi({"countries": Answer(200, envelope("countries", [], errors={"search": hostile}))})
    with fake.serve():
        result = invoke(["bootstrap", "countries"], db_url, fake)
    assert result.exit_code == 1
    line = r"afc: bootstrap_countries: /countries: the API rejected the request (search: bad\nsecond \x1b[31mRED\x1b[0m"
    assert [row for row in result.stderr.splitlines() if row.startswith("afc: ")] == [
        line + r" \x07 \u202eend)"]
    assert not any(c in result.stderr for c in "\x1b\x07\u202e")
    assert one_line("Zürich, 中 — fine") == "Zürich, 中 — fine"


def test_a_table_shows_the_apis_text_as_written_never_as_markup_or_terminal_codes(db_url):
    """A key (or a name) such as '[/x]' crashed `afc drift` (Rich's MarkupError: a traceback); ANSI codes printed."""
    from tests.fakeapi import Answer, envelope

    item = {"name": "England", "code": "GB", "flag": None, "[/x] \x1b[31mred": 1}
    fake = FakeApi({"countries": Answer(200, envelope("countries", [item]))})
    with fake.serve():
        assert invoke(["bootstrap", "countries"], db_url, fake).exit_code == 0
    result = invoke(["drift"], db_url)
    assert result.exit_code == 0, result.output
    assert r"/countries [/x] \x1b[31mred" in result.stdout and "\x1b" not in result.stdout


def test_a_message_quoting_the_api_is_never_read_as_markup():
    """'[/x]' in an API error reached console.print with markup on: MarkupError, a traceback (e.g. `afc backfill`'s
    'backfill stopped: …' line)."""
    from afc.cli.app import console

    out = console()
    with out.capture() as captured:
        out.print("afc: backfill stopped: /countries: the API rejected the request (search: [/x] [bold]no)")
        out.print("[green]asked for", markup=True)
    assert captured.get() == ("afc: backfill stopped: /countries: the API rejected the request (search: [/x] [bold]no)"
                              "\nasked for\n")


def test_shown_builds_a_safe_copy_with_richs_public_api_and_leaves_the_table_alone() -> None:
    """`shown` rewrote Rich's private `Column._cells` in place; now a copy through `Column.copy`/`Table.add_row`."""
    from rich.table import Table
    from rich.text import Text

    from afc.cli.app import shown

    table = Table("name", "n", title="[/x] title")
    table.add_row("[/x] \x1b[31mred", "1", style="red", end_section=True)
    table.add_row(Text("kept"), "2")
    safe = shown(table)
    assert safe is not table and [list(c.cells) for c in table.columns] == [["[/x] \x1b[31mred", Text("kept")],
                                                                            ["1", "2"]]
    assert [[str(v) for v in c.cells] for c in safe.columns] == [[r"[/x] \x1b[31mred", "kept"], ["1", "2"]]
    assert all(isinstance(v, Text) for c in safe.columns for v in c.cells)
    assert [(r.style, r.end_section) for r in safe.rows] == [("red", True), (None, False)]
    assert isinstance(safe.title, Text) and str(safe.title) == "[/x] title"
