"""The API key appears in no table, log line, error message or committed file."""

from __future__ import annotations

import json
import logging
import subprocess

import pytest
from typer.testing import CliRunner

import afc.config.settings as settings_module
from afc.cli import app
from afc.config.settings import load_settings
from afc.db import connect
from afc.errors import ConfigError
from tests.conftest import ROOT
from tests.fakeapi import KEY, REFERENCE_ROUTES, Answer, FakeApi, envelope


def every_value(db) -> str:
    """Every row of every afc table, as one text blob."""
    if db.backend == "sqlite":
        tables = [r[0] for r in db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")]
    else:
        tables = [f"{s}.{t}" for s, t in db.fetchall(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('raw', 'core', 'mart', 'ops')")]
    chunks: list[str] = []
    for table in tables:
        chunks.extend(repr(row) for row in db.fetchall(f"SELECT * FROM {table}"))
    return "\n".join(chunks)


def test_the_key_is_in_no_table_log_or_message(db_url, caplog):
    caplog.set_level(logging.DEBUG)
    routes = dict(REFERENCE_ROUTES)
    routes["venues"] = Answer(200, envelope("venues", [], errors={"token": f"Error/Missing application key {KEY}"}))
    routes["teams"] = [Answer(500, {"message": "boom"})] * 2 + [routes["teams"]]
    api = FakeApi(routes)
    with api.serve() as url:
        env = {"AFC_DATABASE_URL": db_url, "API_FOOTBALL_KEY": KEY, "AFC_API_BASE_URL": url,
               "AFC_CLOCK": "2026-11-28T12:00:00Z@0"}
        result = CliRunner().invoke(app, ["-vv", "bootstrap", "all"], env=env)
    assert result.exit_code == 1  # venues answered with a key error
    assert all(h["x-apisports-key"] == KEY for _, _, h in api.requests)  # it was really sent
    db = connect(db_url)
    blob = every_value(db)
    db.close()
    assert "Old Trafford" in blob and KEY not in blob
    assert KEY not in caplog.text and KEY not in result.output


@pytest.mark.parametrize("spelt", ["unicode", "slash"])
def test_a_server_echoing_the_key_in_json_escapes_gets_it_nowhere(db_url, tmp_path, caplog, spelt):
    """The mask matched the key's literal text only: "\\u0053..." decoded to the key in the error line, job_runs,
    the raw errors column and a core row."""
    caplog.set_level(logging.DEBUG)
    key = KEY if spelt == "unicode" else "abc/" + KEY
    escaped = ("".join(f"\\u{ord(c):04x}" for c in key) if spelt == "unicode" else key.replace("/", "\\/"))
    body = json.dumps(envelope("countries", [{"name": "@", "code": "GB", "flag": None}], params={"echo": "@"}))
    refused = json.dumps(envelope("timezone", [], errors={"token": "wrong key @"}))
    body, refused = body.replace("@", escaped), refused.replace("@", escaped)  # json.dumps would escape the escapes
    api = FakeApi({"countries": Answer(200, body), "timezone": Answer(200, refused)})
    with api.serve() as url:
        env = {"AFC_DATABASE_URL": db_url, "AFC_DATA_DIR": str(tmp_path), "API_FOOTBALL_KEY": key,
               "AFC_API_BASE_URL": url, "AFC_CLOCK": "2026-11-28T12:00:00Z@0"}
        countries = CliRunner().invoke(app, ["bootstrap", "countries"], env=env)
        timezone = CliRunner().invoke(app, ["bootstrap", "timezone"], env=env)
    assert countries.exit_code == 0 and timezone.exit_code == 1
    assert "the API rejected the key (token: wrong key ***)" in timezone.stderr
    db = connect(db_url)
    try:
        blob = every_value(db)
        assert db.fetchall("SELECT name FROM core.countries") == [("***",)]
    finally:
        db.close()
    assert key not in blob and escaped not in blob
    assert key not in caplog.text + countries.output + timezone.output


def test_no_key_shaped_secret_is_committed():
    key_shaped = r"(x-apisports-key|API_FOOTBALL_KEY|x-rapidapi-key)[\"' :=]+[0-9a-f]{32}"
    tracked = subprocess.run(["git", "grep", "-nIE", key_shaped, "--", ".", ":!tests/fakeapi.py"],
                             cwd=ROOT, capture_output=True, text=True)
    assert tracked.stdout == ""


MULTILINE = f"{KEY}\n# old key: 0123456789abcdef0123456789abcdef\n"


@pytest.mark.parametrize("bad", [MULTILINE, f"{KEY} trailing-words", f"{KEY}\x07", f"{KEY}\u00e9", f"\n{KEY}\nmore"])
def test_settings_reject_a_key_that_is_not_one_printable_token(tmp_path, bad):
    (tmp_path / "api_key").write_text(bad)
    for env in ({"CREDENTIALS_DIRECTORY": str(tmp_path)}, {"API_FOOTBALL_KEY": bad}):
        with pytest.raises(ConfigError) as caught:
            load_settings(env)
        message = str(caught.value)
        assert "must be one token of printable ASCII" in message and "\n" not in message
        assert KEY not in message and "0123456789abcdef" not in message


def test_settings_reject_a_key_longer_than_any_key(tmp_path):
    """A 10 MB file read as the key was sent as a header: a spent call and 'unexpected HTTP 431'."""
    long_key = "a" * 10_000
    (tmp_path / "api_key").write_text(long_key + "\n")
    for env in ({"CREDENTIALS_DIRECTORY": str(tmp_path)}, {"API_FOOTBALL_KEY": long_key}):
        with pytest.raises(ConfigError, match=r"the API key must be at most 256 characters, got 10000 \(not shown\)$"):
            load_settings(env)


def test_a_key_with_only_a_trailing_newline_is_fine(tmp_path):
    (tmp_path / "api_key").write_text(KEY + "\n")
    assert load_settings({"CREDENTIALS_DIRECTORY": str(tmp_path)}).require_key() == KEY
    assert load_settings({"API_FOOTBALL_KEY": KEY + "\r\n"}).require_key() == KEY


def test_the_cli_refuses_a_multiline_credential_without_echoing_it(db_url, tmp_path):
    (tmp_path / "api_key").write_text(MULTILINE)
    env = {"AFC_DATABASE_URL": db_url, "CREDENTIALS_DIRECTORY": str(tmp_path), "AFC_API_BASE_URL": "http://127.0.0.1:1",
           "AFC_DATA_DIR": str(tmp_path / "data"),
           "AFC_CLOCK": "2026-11-28T12:00:00Z@0"}
    result = CliRunner().invoke(app, ["bootstrap", "countries"], env=env)
    assert result.exit_code == 2
    assert result.output.startswith(f"afc: {tmp_path / 'api_key'}: the API key must be one token")
    assert result.output.count("\n") == 1 and KEY not in result.output and "old key" not in result.output


def test_a_header_breaking_key_that_slips_through_leaves_no_secret_anywhere(db_url, tmp_path, caplog, monkeypatch):
    # Defence in depth: were the settings check bypassed, httpx's "illegal header value" error quotes
    # the header; that text must not reach job_runs.error, the log or stderr.
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(settings_module, "check_key", lambda value, source: value.strip())
    (tmp_path / "api_key").write_text(MULTILINE)
    api = FakeApi(dict(REFERENCE_ROUTES))
    with api.serve() as url:
        env = {"AFC_DATABASE_URL": db_url, "CREDENTIALS_DIRECTORY": str(tmp_path), "AFC_API_BASE_URL": url,
               "AFC_DATA_DIR": str(tmp_path / "data"),
               "AFC_CLOCK": "2026-11-28T12:00:00Z@0"}
        result = CliRunner().invoke(app, ["-vv", "bootstrap", "countries"], env=env)
    assert result.exit_code == 1 and api.requests == []  # refused before it left the host
    assert "an HTTP header was refused (its value is not shown)" in result.output
    db = connect(db_url)
    errors = [r[0] for r in db.fetchall("SELECT error FROM ops.job_runs")]
    blob = every_value(db)
    db.close()
    assert errors and all("an HTTP header was refused" in e for e in errors)
    for text in (blob, caplog.text, result.output):
        assert KEY not in text and "0123456789abcdef" not in text and "old key" not in text
