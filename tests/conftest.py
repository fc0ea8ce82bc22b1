"""Shared fixtures: a fresh SQLite file and a throwaway PostgreSQL database per test, the samples."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from afc.clock import SimClock
from afc.db import Database, connect
from afc.db.migrate import migrate

ROOT = Path(__file__).resolve().parents[1]

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
_counter = itertools.count()


def sample(relative: str) -> dict[str, Any]:
    """A recorded API response from shared/api-samples (BOM and JS wrappers removed)."""
    path = SAMPLES / relative
    if not path.exists():
        pytest.skip(f"sample {relative} not available")
    text = path.read_text(encoding="utf-8-sig")
    return json.loads(text[text.index("{"):].rstrip().rstrip(";"))


def _pg_available() -> bool:
    try:
        import psycopg

        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[str]:
    """The admin URL of the local PostgreSQL server, and a migrated template database."""
    if not _pg_available():
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN}; start it (see .ci/run)")
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
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("afc", derandomize=True, deadline=None, print_blob=True)
_hypothesis_settings.load_profile(os.environ.get("AFC_HYPOTHESIS_PROFILE", "afc"))
