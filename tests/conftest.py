"""Shared fixtures: a fresh SQLite file and a throwaway PostgreSQL database per test, the samples."""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings as _hypothesis_settings

from afc.clock import SimClock
from afc.db import Database, Params, as_datetime, connect
from afc.db.migrate import migrate

if TYPE_CHECKING:
    import psycopg

ROOT = Path(__file__).resolve().parents[1]
# Fixtures shared by several modules live in support modules loaded as plugins, so tests name them as
# parameters without importing them.
pytest_plugins = ["tests.live_support", "tests.mcp_support"]


def _samples_dir() -> Path:
    """The recorded API responses: AFC_SAMPLES_DIR, else ../shared/api-samples, else /work/shared/api-samples."""
    if os.environ.get("AFC_SAMPLES_DIR"):
        return Path(os.environ["AFC_SAMPLES_DIR"])
    for candidate in (ROOT.parent / "shared" / "api-samples", Path("/work/shared/api-samples")):
        if candidate.is_dir():
            return candidate
    return ROOT.parent / "shared" / "api-samples"


SAMPLES = _samples_dir()
PG_ADMIN = os.environ.get("AFC_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
# CI sets AFC_REQUIRE_POSTGRES=1 so that a missing server fails the run instead of skipping a third of it.
REQUIRE_POSTGRES = os.environ.get("AFC_REQUIRE_POSTGRES", "") == "1"
BACKENDS = frozenset(os.environ.get("AFC_TEST_BACKENDS", "sqlite,postgres").replace(" ", "").split(","))
_counter = itertools.count()

# Tests that take more than about a second (measured with --durations=0): drills, sandbox day simulations,
# subprocess runs, benchmark-like checks. A module name marks the whole module; `module::test` marks one
# test with all its parameters. test_markers.py checks that every entry still names something.
SLOW: frozenset[str] = frozenset({
    "test_drills_crash.py",
})


def sample(relative: str) -> dict[str, Any]:
    """A recorded API response from shared/api-samples (BOM and JS wrappers removed)."""
    path = SAMPLES / relative
    if not path.exists():
        pytest.skip(f"sample {relative} not available")
    text = path.read_text(encoding="utf-8-sig")
    return json.loads(text[text.index("{"):].rstrip().rstrip(";"))


def scalar(db: Database, sql: str, params: Params = ()) -> Any:
    """The first value of the first row `sql` returns (the row must exist: a count, a max, a lookup)."""
    row = db.fetchone(sql, params)
    assert row is not None, f"no row from {sql}"
    return row[0]


def pg_scalar(conn: psycopg.Connection[Any], sql: str, params: Params = ()) -> Any:
    """`scalar` on a direct psycopg connection (admin and role checks that go around afc's Database)."""
    row = conn.execute(sql, params).fetchone()
    assert row is not None, f"no row from {sql}"
    return row[0]


def timestamp(value: Any) -> datetime:
    """A timestamp column that must be set, as an aware UTC datetime (either backend's type)."""
    moment = as_datetime(value)
    assert moment is not None, "no timestamp"
    return moment


@functools.cache
def postgres_reachable() -> bool:
    """Whether the test server at AFC_TEST_PG answers (asked once per session)."""
    import psycopg

    try:
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def _unreachable() -> str:
    """Why the PostgreSQL cases cannot run, without the URL's password."""
    return f"PostgreSQL not reachable at {_without_password(PG_ADMIN)}; start it or set AFC_TEST_PG"


def _without_password(url: str) -> str:
    """`url` with any password replaced, so that a skip reason can name the server safely."""
    return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:***@", url)


def needs_postgres(item: pytest.Item) -> bool:
    """Whether a collected test uses the PostgreSQL server (its fixtures, or a postgres parameter)."""
    if "pg_admin" in getattr(item, "fixturenames", ()):
        return True
    callspec = getattr(item, "callspec", None)
    params = callspec.params.values() if callspec else ()
    return any(value == "postgres" or str(value).startswith("postgres_") for value in params)


def is_slow(item: pytest.Item) -> bool:
    """Whether a collected test is listed in SLOW, by its module or by `module::test`."""
    test = item.nodeid.split("::", 1)[-1].split("[", 1)[0]
    return item.path.name in SLOW or f"{item.path.name}::{test}" in SLOW


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark `postgres` and `slow` tests centrally; drop or guard the PostgreSQL cases as configured."""
    for item in items:
        if needs_postgres(item):
            item.add_marker(pytest.mark.postgres)
        if is_slow(item):
            item.add_marker(pytest.mark.slow)
    postgres = [item for item in items if item.get_closest_marker("postgres")]
    if "postgres" not in BACKENDS:
        if REQUIRE_POSTGRES:
            raise pytest.UsageError("AFC_REQUIRE_POSTGRES=1 contradicts AFC_TEST_BACKENDS without postgres")
        config.hook.pytest_deselected(items=postgres)
        items[:] = [item for item in items if not item.get_closest_marker("postgres")]
    elif REQUIRE_POSTGRES and postgres and not postgres_reachable():
        pytest.exit(f"{_unreachable()} (AFC_REQUIRE_POSTGRES=1)", returncode=pytest.ExitCode.TESTS_FAILED)


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[str]:
    """The admin URL of the local PostgreSQL server, and a migrated template database."""
    if not postgres_reachable():
        if REQUIRE_POSTGRES:
            pytest.fail(_unreachable(), pytrace=False)
        pytest.skip(_unreachable())
    import psycopg

    template = f"afc_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{template}"')
    db = connect(_url(template))
    migrate(db)
    db.close()
    yield template
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')


def _url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def pg_url(pg_admin: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test (copied from the template)."""
    import psycopg

    name = f"afc_test_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_admin}"')
    yield _url(name)
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh, migrated SQLite file for one test."""
    url = f"sqlite:///{tmp_path / 'afc.db'}"
    db = connect(url)
    migrate(db)
    db.close()
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh migrated database URL, once per backend."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return request.getfixturevalue(name)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """An open connection to a fresh migrated database, once per backend."""
    database = connect(db_url)
    yield database
    database.close()


@pytest.fixture
def clock() -> SimClock:
    """A frozen clock at 2026-11-28 12:00 UTC (tests move it by hand)."""
    return SimClock(datetime(2026, 11, 28, 12, 0, tzinfo=UTC), speed=0)


def git_ls(*patterns: str) -> list[str]:
    """Tracked files matching patterns (for tests that scan the repository)."""
    out = subprocess.run(["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.split()


# Property-based drills run the same examples on every run, so CI time and results are reproducible.
_hypothesis_settings.register_profile("afc", derandomize=True, deadline=None, print_blob=True)
_hypothesis_settings.load_profile(os.environ.get("AFC_HYPOTHESIS_PROFILE", "afc"))
