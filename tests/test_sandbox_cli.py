"""`afc sandbox`: option errors are one line with exit 2; the real command serves and stops cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import httpx
import pytest
from typer.testing import CliRunner

from afc.cli import app
from afc.clock import SimClock, SystemClock, parse_clock
from afc.errors import ConfigError
from afc.sandbox.launch import make_clock, parse_faults


@pytest.mark.parametrize("args,message", [
    (["--plan", "gold"], "plan must be one of free, pro, ultra, mega"),
    (["--fault", "503=lots"], "expected KIND=RATE"),
    (["--fault", "boom=0.1"], "unknown fault 'boom'"),
    (["--fault", "503=0.7", "--fault", "500=0.7"], "more than 1"),
    (["--now", "yesterday"], "not an ISO time"),
    (["--daily-limit", "0"], "daily-limit must be at least 1"),
    (["--clock-speed", "-2"], "--clock-speed must be >= 0"),
    (["--extra-leagues", "41"], "extra-leagues must be 0 to 40, got 41"),
    (["--extra-leagues", "-1"], "extra-leagues must be 0 to 40, got -1"),
])
def test_bad_options_exit_2_with_one_line(args, message):
    result = CliRunner().invoke(app, ["sandbox", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_parse_faults():
    assert parse_faults(["503=0.05", "timeout=0.01"]) == {"503": 0.05, "timeout": 0.01}
    with pytest.raises(ConfigError):
        parse_faults(["503"])


def test_make_clock():
    assert isinstance(make_clock(None, 1), SystemClock)
    frozen = make_clock("2026-11-28T12:00:00Z", 0)
    assert isinstance(frozen, SimClock) and frozen.now() == datetime(2026, 11, 28, 12, tzinfo=UTC)
    assert parse_clock(frozen.spec()).now() == frozen.now()


def test_the_command_serves_and_stops_on_sigterm():
    command = [sys.executable, "-m", "afc", "sandbox", "--port", "0", "--plan", "pro", "--clock-speed", "60",
               "--now", "2026-11-28T12:00:00Z"]
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        url, spec = re.search(r"AFC_API_BASE_URL=(\S+)", line), re.search(r"AFC_CLOCK=(\S+)", line)
        assert url and spec, line
        assert "API_FOOTBALL_KEY=sandbox" in line and "AFC_CLOCK=sim:" in line and "plan pro" in line
        body = httpx.get(url[1] + "/status", headers={"x-apisports-key": "sandbox"}).json()
        assert body["response"]["subscription"]["plan"] == "Pro"
        clock = parse_clock(spec[1])
        assert abs((clock.now() - datetime(2026, 11, 28, 12, tzinfo=UTC)).total_seconds()) < 600
    finally:
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = proc.wait(timeout=10)
    assert code == 0 and time.monotonic() - started < 5
