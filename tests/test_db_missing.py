"""A command that only reads never creates the database it is pointed at: a mistyped --db is one line naming it and
`afc db migrate`, exit 2, and no SQLite file, directory or PostgreSQL database is left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from afc.cli import app
from tests.conftest import PG_ADMIN, pg_scalar

# Every command that only reads (or, like prune, rebuild and drift, has nothing to do on a database that does not
# exist), with the arguments it needs; --db is added.
READERS = [
    ["db", "status"], ["coverage", "report"], ["coverage", "gaps"], ["health"], ["health", "--json"], ["quota"],
    ["export", "core.fixtures", "--out", "{tmp}/out", "--format", "csv"], ["backup", "--dir", "{tmp}/backups"],
    ["prune"], ["rebuild"], ["drift"], ["jobs", "plan", "daily_fixtures_today"], ["backfill", "status"],
    ["history", "odds", "--fixture", "1"], ["history", "standings", "--league", "39", "--season", "2024"],
    ["notify", "status"], ["notify", "replay", "--since", "1h"],
    ["mcp", "stdio"], ["serve-mcp"], ["mcp", "http", "--no-auth", "--port", "0"],
]


def _run(args: list[str], url: str, tmp: Path) -> tuple[int, str, str]:
    argv = [a.replace("{tmp}", str(tmp)) for a in args] + ["--db", url]
    env = {"AFC_DATA_DIR": str(tmp / "data"), "AFC_LOG_FORMAT": "text"}
    result = CliRunner().invoke(app, argv, env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("args", READERS, ids=lambda a: "-".join(a[:2]))
def test_a_reading_command_leaves_no_sqlite_file_behind(args: list[str], tmp_path: Path) -> None:
    path = tmp_path / "typo" / "afc.db"
    url = f"sqlite:///{path}"
    code, out, err = _run(args, url, tmp_path)
    assert code == 2, (out, err)
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("afc: ")]
    assert len(lines) == 1 and str(path) in lines[0] and f"afc db migrate --db {url}" in lines[0], err
    assert not path.exists() and not path.parent.exists()
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args", READERS, ids=lambda a: "-".join(a[:2]))
def test_a_reading_command_creates_no_postgres_database(args: list[str], pg_admin: str, tmp_path: Path) -> None:
    name = f"afc_missing_{uuid.uuid4().hex[:10]}"
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    code, out, err = _run(args, url, tmp_path)
    assert code == 2, (out, err)  # `mcp http` had waited for it forever, as for a server not up yet
    lines = [line for line in err.splitlines() if line.startswith("afc: ")]
    assert len(lines) == 1 and f"database {name} does not exist" in lines[0] and "afc db migrate --db" in lines[0]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        assert pg_scalar(conn, "SELECT count(*) FROM pg_database WHERE datname = %s", (name,)) == 0


@pytest.mark.parametrize("args", [["db", "status"], ["db", "migrate"], ["quota"], ["mcp", "http", "--no-auth",
                                   "--port", "0"], ["notify", "status"]], ids=lambda a: "-".join(a[:2]))
def test_a_login_the_server_refuses_is_a_configuration_error(args: list[str], pg_admin: str, tmp_path: Path) -> None:
    """A user the server does not know (or a wrong password, a host pg_hba.conf does not admit) is refused for good:
    one line and exit 2, the password not shown; services (`mcp http`) had waited for it as for an outage."""
    role = f"afc_nobody_{uuid.uuid4().hex[:8]}"
    host = PG_ADMIN.split("@", 1)[1].rsplit("/", 1)[0]
    code, out, err = _run(args, f"postgresql://{role}:s3cret-pw@{host}/postgres", tmp_path)
    assert code == 2, (out, err)
    lines = [line for line in err.splitlines() if line.startswith("afc: ")]
    assert len(lines) == 1 and f'refused the login: role "{role}" does not exist' in lines[0], err
    assert "s3cret-pw" not in out + err and "Traceback" not in err


def test_migrate_and_collecting_commands_still_create_it(tmp_path: Path) -> None:
    path = tmp_path / "new" / "afc.db"
    code, out, err = _run(["db", "migrate"], f"sqlite:///{path}", tmp_path)
    assert code == 0 and path.exists(), err
    code, out, err = _run(["db", "status"], f"sqlite:///{path}", tmp_path)
    assert code == 0 and "applied" in out


def test_the_health_json_of_a_missing_database_is_a_finding(tmp_path: Path) -> None:
    code, out, _ = _run(["health", "--json"], f"sqlite:///{tmp_path}/typo.db", tmp_path)
    assert code == 2 and '"check": "database"' in out and "does not exist" in out


def test_db_status_in_a_real_process(tmp_path: Path) -> None:
    path = tmp_path / "with" / "typo.db"
    done = subprocess.run([sys.executable, "-m", "afc", "db", "status", "--db", f"sqlite:///{path}"],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "AFC_DATA_DIR": str(tmp_path / "data")})
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"afc: sqlite: {path} does not exist; create it with "
                           f"`afc db migrate --db sqlite:///{path}`\n")
    assert not path.parent.exists()


@pytest.mark.parametrize("what", ["a directory", "a file that is no database"])
@pytest.mark.parametrize("args", [["db", "status"], ["db", "migrate"], ["quota"], ["health", "--json"]],
                         ids=" ".join)
def test_a_path_that_holds_no_database_is_a_configuration_error(what: str, args: list[str], tmp_path: Path) -> None:
    """Not "cannot open … unable to open database file", exit 1, which the services (notify, live-loop, mcp http)
    waited on forever as a database not up yet; the file is left as it was."""
    path = tmp_path / "afc.db"
    if what == "a directory":
        path.mkdir()
    else:
        path.write_text("notes, not a database\n")
    code, out, err = _run(args, f"sqlite:///{path}", tmp_path)
    assert code == 2, (out, err)
    lines = [line for line in err.splitlines() if line.startswith("afc: ")]
    expected = "is a directory, not a database file" if what == "a directory" else "is not a SQLite database"
    assert len(lines) == 1 and f"sqlite: {path} {expected}" in lines[0], err
    assert path.is_dir() if what == "a directory" else path.read_text() == "notes, not a database\n"
    if args[0] == "health":
        assert '"check": "database"' in out


@pytest.mark.parametrize("what", ["a symlink into a missing directory", "a path under a file"])
def test_a_path_where_no_database_can_be_made_is_a_configuration_error(what: str, tmp_path: Path) -> None:
    """`db migrate` (which creates) was `cannot open …: unable to open database file` or `…: File exists`, exit 1."""
    if what == "a path under a file":
        (tmp_path / "notes").write_text("notes\n")
        path, expected = tmp_path / "notes" / "afc.db", f"{tmp_path / 'notes'} is a file, not a directory"
    else:
        path = tmp_path / "afc.db"
        path.symlink_to(tmp_path / "gone" / "afc.db")
        expected = f"{path} is a symlink to {tmp_path / 'gone' / 'afc.db'}, whose directory does not exist"
    code, out, err = _run(["db", "migrate"], f"sqlite:///{path}", tmp_path)
    assert code == 2, (out, err)
    lines = [line for line in err.splitlines() if line.startswith("afc: ")]
    assert len(lines) == 1 and lines[0].startswith(f"afc: sqlite: {expected}"), err
    assert not (tmp_path / "gone").exists() and (tmp_path / "notes").is_file() == (what == "a path under a file")
