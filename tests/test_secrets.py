"""The API key appears in no table, log line, error message or committed file."""

from __future__ import annotations

import logging
import subprocess

from typer.testing import CliRunner

from afc.cli import app
from afc.db import connect
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


def test_no_key_shaped_secret_is_committed():
    key_shaped = r"(x-apisports-key|API_FOOTBALL_KEY|x-rapidapi-key)[\"' :=]+[0-9a-f]{32}"
    tracked = subprocess.run(["git", "grep", "-nIE", key_shaped, "--", ".", ":!tests/fakeapi.py"],
                             cwd=ROOT, capture_output=True, text=True)
    assert tracked.stdout == ""
