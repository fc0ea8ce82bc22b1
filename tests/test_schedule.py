"""Schedules: keywords and cron to OnCalendar (checked by systemd-analyze), never at 00:00 UTC."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from afc.config.schedule import checked, elapses, expand_field, midnight_clash, parse
from afc.errors import ConfigError

CASES = [
    ("hourly", "5 * * * *", "*-*-* *:05:00 UTC", 3600),
    ("daily", "20 0 * * *", "*-*-* 00:20:00 UTC", 86400),
    ("weekly", "40 0 * * 1", "Mon *-*-* 00:40:00 UTC", 7 * 86400),
    ("monthly", "0 1 1 * *", "*-*-01 01:00:00 UTC", 31 * 86400),
    ("15 * * * *", "15 * * * *", "*-*-* *:15:00 UTC", 3600),
    ("*/15 2-5 * * 1-5", "*/15 2-5 * * 1-5", "Mon..Fri *-*-* 02..05:00,15,30,45:00 UTC", 3 * 86400),
    ("30 21 * * *", "30 21 * * *", "*-*-* 21:30:00 UTC", 86400),
    ("10 3 * * 0,7", "10 3 * * 0,7", "Sun *-*-* 03:10:00 UTC", 7 * 86400),
    ("5 1 1,15 * *", "5 1 1,15 * *", "*-*-01,15 01:05:00 UTC", 17 * 86400),
    ("7 6,18 * * *", "7 6,18 * * *", "*-*-* 06,18:07:00 UTC", 12 * 3600),
]


@pytest.mark.parametrize("text, cron, calendar, period", CASES)
def test_schedules_map_to_calendar_and_cron(text, cron, calendar, period):
    schedule = parse(text)
    assert (schedule.cron, schedule.calendar, schedule.period) == (cron, calendar, period)
    assert midnight_clash(schedule, 300) is None


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
@pytest.mark.parametrize("text, cron, calendar, period", CASES)
def test_systemd_reads_every_calendar_we_write(text, cron, calendar, period):
    out = subprocess.run(["systemd-analyze", "calendar", calendar], capture_output=True, text=True,
                         env={"TZ": "UTC", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert f"Normalized form: {calendar}" in out.stdout


def test_cron_and_calendar_agree_on_when_they_fire():
    times = elapses(parse("*/15 2-5 * * 1-5").calendar, 20)
    assert len(times) == 20
    for t in times:
        assert t.weekday() < 5 and 2 <= t.hour <= 5 and t.minute in (0, 15, 30, 45) and t.second == 0


@pytest.mark.parametrize("text, why", [
    ("0 0 * * *", "fires at 00:00 UTC, when the API's daily quota resets; move it off midnight"),
    ("0 */6 * * *", "fires at 00:00 UTC, when the API's daily quota resets; move it off midnight"),
    ("* * * * *", "fires at 00:00 UTC, when the API's daily quota resets; move it off midnight"),
    ("57 23 * * *", "fires at 23:57 UTC (+ up to 300s random delay), when the API's daily quota resets; "
                    "move it off midnight"),
    ("minutely", "fires at 00:00 UTC, when the API's daily quota resets; move it off midnight"),
    ("calendar:*-*-* 00:00:00", "fires at 00:00 UTC, when the API's daily quota resets; move it off midnight"),
])
def test_midnight_is_refused(text, why):
    with pytest.raises(ConfigError) as err:
        checked(text, 300, "jobs/daily.yaml: job x: schedule")
    assert str(err.value) == f"jobs/daily.yaml: job x: schedule: {text!r} {why}"


def test_a_late_schedule_is_fine_with_a_short_delay():
    assert checked("57 23 * * *", 60, "x").calendar == "*-*-* 23:57:00 UTC"


def test_calendar_specs_pass_through_in_utc():
    schedule = parse("calendar:Mon,Thu *-*-* 04:30")
    assert (schedule.cron, schedule.calendar, schedule.period) == (None, "Mon,Thu *-*-* 04:30 UTC", 4 * 86400)


def test_bad_specs_are_one_line_errors():
    with pytest.raises(ConfigError, match=r"schedule '61 \* \* \* \*': field 1 \('61'\) is outside 0-59"):
        parse("61 * * * *")
    with pytest.raises(ConfigError, match=r"cron runs when day of month OR day of week match"):
        parse("5 1 1 * 1")
    with pytest.raises(ConfigError, match=r"^schedule 'calendar:nonsense': not an OnCalendar spec afc accepts; "
                                          r"use '\[Mon..Fri \]\[\*-MM-DD \]HH:MM\[:SS\]\[ UTC\]'"):
        parse("calendar:nonsense")


CALENDARS = [  # (spec, calendar written, period)
    ("calendar:Mon,Thu *-*-* 04:30", "Mon,Thu *-*-* 04:30 UTC", 4 * 86400),
    ("calendar:*:0/15", "*:0/15 UTC", 900),
    ("calendar:Mon..Fri 03:15:00 UTC", "Mon..Fri 03:15:00 UTC", 3 * 86400),
    ("calendar:*-*-01,15 02:10", "*-*-01,15 02:10 UTC", 17 * 86400),
    ("calendar:2027-01..06-* 06..08:05", "2027-01..06-* 06..08:05 UTC", 7 * 31 * 86400),
]


@pytest.mark.parametrize("text, calendar, period", CALENDARS)
def test_calendar_specs_are_read_without_systemd(monkeypatch, text, calendar, period):
    monkeypatch.setenv("PATH", "/nonexistent")  # no systemd-analyze: the grammar is afc's own
    schedule = parse(text)
    assert (schedule.cron, schedule.calendar, schedule.period) == (None, calendar, period)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
@pytest.mark.parametrize("text, calendar, period", CALENDARS)
def test_systemd_reads_every_calendar_afc_accepts(text, calendar, period):
    out = subprocess.run(["systemd-analyze", "calendar", calendar], capture_output=True, text=True,
                         env={"TZ": "UTC", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("text, why", [
    ("calendar:*-*-* 04:30\nExecStartPre=/bin/sh -c id", "must be printable ASCII on one line"),
    ("calendar:*-*-* 04:30\rOnCalendar=*:*", "must be printable ASCII on one line"),
    ("calendar:*-*-* 04:30; rm -rf /", "not an OnCalendar spec afc accepts"),
    ("calendar:*-*-* 04:30 Europe/Paris", "not an OnCalendar spec afc accepts"),
    ("calendar:%h 04:30", "not an OnCalendar spec afc accepts"),
    ("calendar:*-*-* 24:30", "'24' is outside 0..23"),
    ("calendar:Fri..Mon 04:30", "'Fri..Mon' runs backwards"),
    ("15\n* * * *", "must be printable ASCII on one line"),
    ("15\t* * * *", "must be printable ASCII on one line"),
])
def test_schedules_that_could_inject_a_line_are_refused_without_systemd(monkeypatch, text, why):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ConfigError, match=re.escape(why)):
        parse(text)


def test_fields_expand_like_cron():
    assert expand_field("10-50/20", 0) == {10, 30, 50}
    assert expand_field("5/20", 0) == {5, 25, 45}
    assert expand_field("7", 4) == {0}
