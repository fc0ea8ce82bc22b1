"""The test suite's own wiring: central `postgres`/`slow` marks, skipping without a server, failing in CI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from afc.config.settings import default_data_dir
from tests.conftest import FIRST, ROOT, SLOW, _without_password, is_slow, needs_postgres, run_rank

UNREACHABLE = "postgresql://postgres:hunter2@127.0.0.1:1/postgres"  # port 1: nothing listens


def test_postgres_is_read_from_fixtures_and_parameters() -> None:
    assert needs_postgres(["request", "pg_admin", "pg_url"], {})
    assert needs_postgres(["request"], {"db_url": "postgres"})
    assert needs_postgres([], {"env": "postgres_direct"})
    assert not needs_postgres(["sqlite_url", "tmp_path"], {"db_url": "sqlite"})
    assert not needs_postgres([], {"url": "postgresql://user@host/db"})  # a URL under test is not a server


def test_slow_is_read_from_the_module_or_the_test() -> None:
    assert is_slow("test_drills_crash.py", "test_anything")
    assert is_slow("test_quota.py", "test_many_processes_never_get_more_than_the_limit")
    assert not is_slow("test_quota.py", "test_reserve_stops_exactly_at_the_limit")


def test_every_slow_and_first_entry_names_a_test_that_exists() -> None:
    stale = []
    for entry in sorted(SLOW | set(FIRST)):
        module, _, test = entry.partition("::")
        path = ROOT / "tests" / module
        if not path.is_file() or (test and not re.search(rf"^(async )?def {test}\(", path.read_text(), re.M)):
            stale.append(entry)
    assert stale == [], "SLOW or FIRST names tests that no longer exist"


def test_the_first_tests_lead_the_run_order() -> None:
    assert run_rank("test_rehearse.py", "test_a_harsh_day_with_two_skewed_hosts") == 0
    assert run_rank("test_rehearse.py", "test_skew_reads_signed_durations") == len(FIRST)
    run = _pytest("--collect-only", "tests/test_rehearse.py")  # collected after tests/test_db.py
    collected = [line for line in run.stdout.splitlines() if "::" in line]
    assert collected[0] == "tests/test_rehearse.py::test_a_harsh_day_with_two_skewed_hosts", run.stdout[-500:]
    assert collected[1].startswith("tests/test_db.py::") and collected[-1].startswith("tests/test_rehearse.py::")


def test_a_parametrised_case_is_marked_postgres_only_on_postgres(db_url: str, request: pytest.FixtureRequest) -> None:
    marked = request.node.get_closest_marker("postgres") is not None
    assert marked == db_url.startswith("postgresql")


def test_a_sqlite_test_carries_neither_mark(sqlite_url: str, request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("postgres") is None
    assert request.node.get_closest_marker("slow") is None


def test_the_default_data_dir_belongs_to_the_session(own_data_dir: Path) -> None:
    assert default_data_dir(os.environ) == own_data_dir  # no lock shared with other sessions on the machine
    assert not str(own_data_dir).startswith(str(Path.home() / ".local"))


def test_the_skip_reason_hides_a_password() -> None:
    assert _without_password(UNREACHABLE) == "postgresql://postgres:***@127.0.0.1:1/postgres"
    assert _without_password("postgresql://postgres@127.0.0.1:5432/postgres") == (
        "postgresql://postgres@127.0.0.1:5432/postgres")


def _pytest(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """This suite's tests/test_db.py in a child pytest, with the environment changed."""
    child = {k: v for k, v in os.environ.items() if not k.startswith("AFC_")} | env
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_db.py", *args],
                          cwd=ROOT, env=child, capture_output=True, text=True, timeout=300)


def test_without_a_server_the_postgres_cases_skip_with_the_reason() -> None:
    run = _pytest("-rs", AFC_TEST_PG=UNREACHABLE)
    assert run.returncode == 0, run.stdout[-2000:]
    assert re.search(r"\d+ passed, (\d+) skipped", run.stdout), run.stdout[-500:]
    reason = "PostgreSQL not reachable at postgresql://postgres:***@127.0.0.1:1/postgres; start it or set AFC_TEST_PG"
    assert reason in run.stdout and "hunter2" not in run.stdout


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_ci_fails_the_session_when_the_server_is_missing(workers: tuple[str, ...]) -> None:
    run = _pytest(*workers, AFC_TEST_PG=UNREACHABLE, AFC_REQUIRE_POSTGRES="1")
    assert run.returncode == 1
    said = run.stdout + run.stderr
    assert "PostgreSQL not reachable at" in said and "(AFC_REQUIRE_POSTGRES=1)" in said
    assert " passed" not in run.stdout  # nothing ran


def test_sqlite_only_deselects_the_postgres_cases() -> None:
    run = _pytest("--collect-only", AFC_TEST_BACKENDS="sqlite")
    assert run.returncode == 0, run.stdout[-2000:]
    assert "postgres]" not in run.stdout and "[sqlite]" in run.stdout
    assert re.search(r"\d+/\d+ tests collected \(\d+ deselected\)", run.stdout), run.stdout[-500:]
