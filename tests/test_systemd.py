"""systemd units and the crontab: the checked-in files are the render's output, they verify clean,
no timer fires at 00:00 UTC, and the crontab carries the same schedules under flock."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from afc.cli import app
from afc.config.jobs import load
from afc.config.schedule import expand_field, midnight_clash, parse
from afc.errors import ConfigError
from afc.ops.groups import timers
from afc.ops.systemd import render
from tests.conftest import ROOT

ANALYZE = shutil.which("systemd-analyze")


def rendered() -> dict[str, str]:
    return render(load(ROOT / "jobs"))


def test_checked_in_files_are_the_render_output():
    files = rendered()
    on_disk = {str(p.relative_to(ROOT)) for p in (ROOT / "systemd").glob("afc-*")} | {"cron/afc.crontab"}
    assert set(files) == on_disk, "run `afc systemd render` and commit systemd/ and cron/"
    for path, text in files.items():
        assert (ROOT / path).read_text() == text, f"{path} is stale: run `afc systemd render`"


def test_render_check_cli(tmp_path: Path):
    runner = CliRunner()
    result = runner.invoke(app, ["systemd", "render", "--check", "--root", str(ROOT), "--jobs-dir", str(ROOT / "jobs")])
    assert (result.exit_code, result.stderr) == (0, "")
    result = runner.invoke(app, ["systemd", "render", "--check", "--root", str(tmp_path),
                                 "--jobs-dir", str(ROOT / "jobs")])
    assert result.exit_code == 1
    assert f"differs: {tmp_path}/systemd/afc-daily.timer\n" in result.stderr
    (tmp_path / "systemd").mkdir()
    (tmp_path / "systemd" / "afc-gone.service").write_text("old")
    result = runner.invoke(app, ["systemd", "render", "--root", str(tmp_path), "--exec", "/opt/afc/bin/afc",
                                 "--jobs-dir", str(ROOT / "jobs")])
    assert result.exit_code == 0 and f"wrote: {tmp_path}/systemd/afc-gone.service\n" in result.stderr
    assert not (tmp_path / "systemd" / "afc-gone.service").exists()
    assert "ExecStart=/opt/afc/bin/afc daily\n" in (tmp_path / "systemd" / "afc-daily.service").read_text()
    result = runner.invoke(app, ["systemd", "render", "--exec", "afc", "--root", str(tmp_path)])
    assert (result.exit_code, result.stderr) == (2, "afc: --exec: systemd needs an absolute path to afc of letters, "
                                                "digits and ._+-/, got 'afc'\n")


def test_every_timer_is_persistent_jittered_utc_and_off_midnight():
    files = rendered()
    names = sorted(p for p in files if p.endswith(".timer"))
    assert names == ["systemd/afc-backfill.timer", "systemd/afc-bootstrap-monthly.timer",
                     "systemd/afc-bootstrap-weekly.timer", "systemd/afc-coverage.timer", "systemd/afc-daily.timer",
                     "systemd/afc-maintenance.timer"]
    for name in names:
        text = files[name]
        on_calendar = re.search(r"^OnCalendar=(.+)$", text, re.M)
        assert on_calendar, name
        calendar = on_calendar[1]
        assert calendar.endswith(" UTC")
        assert "Persistent=true\n" in text and "RandomizedDelaySec=300\n" in text and "AccuracySec=1s\n" in text
        assert "WantedBy=timers.target" in text
        assert " 00:00:00 " not in calendar


def test_every_service_is_a_hardened_oneshot_treating_75_as_success():
    files = rendered()
    for name, text in files.items():
        long_running = ("afc-live.service", "afc-mcp-http.service", "afc-notify.service")
        if not name.endswith(".service") or name.endswith(long_running):
            continue
        for line in ("Type=oneshot", "SuccessExitStatus=75", "DynamicUser=yes", "StateDirectory=afc",
                     "LoadCredential=api_key:/etc/afc/api_key", "EnvironmentFile=-/etc/afc/afc.env",
                     "ProtectSystem=strict", "NoNewPrivileges=yes"):
            assert f"\n{line}\n" in text, (name, line)
        assert re.search(r"^TimeoutStartSec=\d+(min|h)$", text, re.M)
        assert all(cmd.startswith("ExecStart=/usr/local/bin/afc ") for cmd in re.findall(r"^ExecStart=.*$", text, re.M))
    assert files["systemd/afc-maintenance.service"].count("ExecStart=") == 2


def test_the_live_service():
    text = rendered()["systemd/afc-live.service"]
    for line in ("Type=notify", "NotifyAccess=main", "ExecStart=/usr/local/bin/afc live-loop", "WatchdogSec=90s",
                 "Restart=on-failure", "RestartPreventExitStatus=2", "SuccessExitStatus=75", "DynamicUser=yes",
                 "WantedBy=multi-user.target"):
        assert f"\n{line}\n" in text, line


def test_the_mcp_http_service():
    text = rendered()["systemd/afc-mcp-http.service"]
    for line in ("Type=exec", "ExecStart=/usr/local/bin/afc mcp http --host 127.0.0.1 --port 8765",
                 "Restart=on-failure", "RestartPreventExitStatus=2", "DynamicUser=yes", "StateDirectory=afc",
                 "LoadCredential=mcp_token:/etc/afc/mcp_token", "EnvironmentFile=-/etc/afc/afc.env",
                 "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "WantedBy=multi-user.target"):
        assert f"\n{line}\n" in text, line
    assert "api_key" not in text  # it needs no API key, and a missing key file would keep it from starting


def test_crontab_has_the_same_schedules_under_flock():
    found = {t.name: t for t in timers(load(ROOT / "jobs"))}
    entries = [line for line in rendered()["cron/afc.crontab"].splitlines()
               if line and not line.startswith("#") and "=" not in line.split()[0]]
    assert len(entries) == len(found)
    for line in entries:
        fields = line.split()
        cron, user, rest = " ".join(fields[:5]), fields[5], fields[6:]
        for index, field in enumerate(fields[:5]):
            expand_field(field, index)  # each field parses as cron
        lock = re.search(r"/run/lock/afc-([a-z0-9-]+)\.lock", line)
        assert lock, line
        name = lock[1]
        assert cron == found[name].schedule.cron
        assert user == "afc" and rest[:4] == ["flock", "-n", "-E", "75"]
        assert line.endswith(f"| logger -t afc-{name}")
        assert midnight_clash(parse(cron), 0) is None


def test_a_midnight_schedule_is_refused_naming_file_and_job(tmp_path: Path):
    (tmp_path / "b.yaml").write_text("jobs:\n  - {job_id: b_countries, type: bootstrap, endpoint: /countries, "
                                     "schedule: '0 0 * * *'}\n")
    with pytest.raises(ConfigError) as err:
        render(load(tmp_path))
    assert str(err.value) == (f"{tmp_path}/b.yaml: job b_countries: schedule: '0 0 * * *' fires at 00:00 UTC, "
                              "when the API's daily quota resets; move it off midnight")


def test_group_schedules_come_from_the_ops_section(tmp_path: Path):
    (tmp_path / "ops.yaml").write_text("ops:\n  schedules: {maintenance: '15 3 * * *', bootstrap: weekly}\n"
                                       "  random_delay_seconds: 10m\n")
    shutil.copy(ROOT / "jobs" / "bootstrap.yaml", tmp_path)
    files = render(load(tmp_path))
    assert sorted(p for p in files if p.endswith(".timer")) == [
        "systemd/afc-backfill.timer", "systemd/afc-bootstrap.timer", "systemd/afc-coverage.timer",
        "systemd/afc-daily.timer", "systemd/afc-maintenance.timer"]
    assert "ExecStart=/usr/local/bin/afc bootstrap all\n" in files["systemd/afc-bootstrap.service"]
    assert "OnCalendar=*-*-* 03:15:00 UTC\nRandomizedDelaySec=600\n" in files["systemd/afc-maintenance.timer"]


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (apt-get install systemd)")
def test_units_verify_clean_and_report_their_exposure():
    out = subprocess.run(["bash", str(ROOT / "scripts" / "verify-units.sh")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "verify-units: 15 units verify clean"
    scores = {line.split()[1].rstrip(":"): float(line.split()[2]) for line in lines[1:]}
    assert set(scores) == {p.removeprefix("systemd/") for p in rendered() if p.endswith(".service")}
    assert max(scores.values()) <= 2.0


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (apt-get install systemd)")
def test_verify_fails_on_any_complaint(tmp_path: Path):
    shutil.copytree(ROOT / "systemd", tmp_path / "units")
    unit = tmp_path / "units" / "afc-daily.service"
    unit.write_text(unit.read_text().replace("Type=oneshot", "Type=oneshot\nTimeoutStartSecs=5min"))
    out = subprocess.run(["bash", str(ROOT / "scripts" / "verify-units.sh"), str(tmp_path / "units")],
                         capture_output=True, text=True)
    assert out.returncode == 1
    assert "afc-daily.service:10: Unknown key 'TimeoutStartSecs' in section [Service], ignoring." in out.stdout


def test_groups_have_default_schedules_and_can_be_turned_off(tmp_path: Path):
    (tmp_path / "ops.yaml").write_text("ops:\n  schedules: {backfill: 'off', coverage: '45 7 * * *'}\n")
    files = render(load(tmp_path))
    assert sorted(p for p in files if p.endswith(".timer")) == [
        "systemd/afc-coverage.timer", "systemd/afc-daily.timer", "systemd/afc-maintenance.timer"]
    assert "OnCalendar=*-*-* 07:45:00 UTC\n" in files["systemd/afc-coverage.timer"]
    assert "OnCalendar=*-*-* *:05:00 UTC\n" in files["systemd/afc-daily.timer"]  # the default: hourly


@pytest.mark.parametrize("executable", ["/usr/bin/afc\nExecStartPre=/bin/sh", "/opt/%h/afc", "/opt/$HOME/afc",
                                        "/opt/a fc", "/opt/afc;id"])
def test_an_exec_path_that_could_break_a_unit_line_is_refused(executable):
    with pytest.raises(ConfigError, match=r"^--exec: systemd needs an absolute path to afc of letters, digits"):
        render(load(ROOT / "jobs"), executable)


def test_every_rendered_value_is_checked_at_the_render_too(monkeypatch):
    """Defence in depth: a timer whose strings slipped past validation is refused, never written."""
    from dataclasses import replace

    import afc.ops.systemd as systemd

    real = systemd.timers
    monkeypatch.setattr(systemd, "timers", lambda config: [replace(real(config)[0], commands=(("bootstrap", "x\ny"),))])
    with pytest.raises(ConfigError, match=r"command argument 'x\\ny' is not safe in a unit file or crontab"):
        render(load(ROOT / "jobs"))
