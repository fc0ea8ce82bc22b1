"""Shared fixtures: a fresh SQLite file and a throwaway PostgreSQL database per test, the samples."""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import re
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
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
    # drills: kill -9, faults injected into every call, random inputs, a database taken away
    "test_drills_crash.py",
    "test_drills_faults.py",
    "test_drills_input.py",
    "test_drills_outage.py",
    # simulated days and seasons against the sandbox, processes killed and resumed
    "test_live_day.py",
    "test_notify_day.py",
    "test_notify_drill.py",
    "test_live_resilience.py",
    "test_live_health.py",
    "test_matchday.py",
    "test_backfill_kill.py",
    "test_coverage_sandbox.py",
    "test_demo.py",
    "test_rehearse.py",
    "test_backfill.py::test_full_season_lands_every_fixture_and_its_details",
    "test_backfill.py::test_rerun_of_a_finished_season_spends_nothing",
    "test_backfill.py::test_interrupted_run_resumes_to_the_same_state",
    "test_backfill.py::test_no_lineups_coverage_means_no_lineup_calls",
    "test_backfill.py::test_small_plan_stops_at_the_floor_and_resumes_after_midnight",
    "test_backfill.py::test_from_gaps_fills_what_coverage_finds_missing",
    "test_backfill.py::test_from_gaps_on_an_empty_database_asks_leagues_first",
    "test_rebuild.py::test_rebuild_equals_collect",
    "test_rebuild.py::test_cli_rebuild_needs_no_key",
    "test_rebuild.py::test_a_league_season_rebuilds_from_scratch_with_its_details",
    "test_rebuild.py::test_a_transform_fix_corrects_only_the_affected_rows",
    "test_rebuild.py::test_rebuild_over_collected_data_changes_nothing",
    "test_rebuild.py::test_dry_run_counts_and_writes_nothing",
    "test_rebuild.py::test_scope_filters",
    "test_rebuild.py::test_rebuild_records_a_job_run",
    "test_rebuild.py::test_a_rebuild_stopped_mid_way_keeps_whole_batches_and_a_rerun_completes_it",
    "test_response_kinds.py::test_an_answer_without_a_list_empties_nothing_and_rebuild_replays_none",
    "test_ddl.py::test_afc_db_migrate_blocked_is_one_line_exit_1_and_applies_nothing",
    "test_pipes.py",
    "test_daily.py::test_daily_collects_the_day_and_a_second_run_writes_nothing",
    "test_daily.py::test_live_scores_and_summaries_follow_the_day",
    "test_daily.py::test_cli_daily_json_and_dry_run",
    # the sandbox against all 87 recordings, and its world built twice
    "test_sandbox_conformance.py",
    "test_sandbox_contract.py::test_every_route_answers",
    "test_sandbox_contract.py::test_players_pages_twenty_at_a_time",
    "test_sandbox_world.py::test_fixture_ids_are_unique_and_decodable",
    "test_sandbox_world.py::test_same_seed_same_world_other_seed_other_world",
    "test_sandbox_faults.py::test_rates_are_reproducible_with_a_seed",
    # many processes, subprocess CLIs and services
    "test_quota.py::test_sixteen_processes_across_an_injected_utc_midnight_get_exactly_the_limit_per_day",
    "test_quota.py::test_many_processes_never_get_more_than_the_limit",
    "test_mcp.py::test_stdio_subprocess",
    "test_mcp_http.py::test_no_auth_serves_loopback_without_a_token",
    "test_mcp_http.py::test_every_loopback_bind_refuses_a_rebound_host_or_origin",
    "test_mcp.py::test_cli_import_stays_light",
    "test_mcp_wire.py::test_an_endless_line_from_dev_zero_keeps_memory_flat",
    "test_mcp_wire.py::test_an_oversized_request_gets_an_error_and_the_next_one_an_answer",
    "test_mcp_wire.py::test_the_sdk_client_gets_an_error_for_an_oversized_call_then_carries_on",
    "test_mcp_wire.py::test_http_bodies_and_headers_past_the_caps_are_refused_and_serving_goes_on",
    "test_mcp_wire.py::test_http_requests_past_the_bound_are_refused_at_once_and_serving_goes_on",
    "test_cli_admin.py::test_a_second_bootstrap_process_exits_75",
    "test_live_service.py::test_service_notifies_and_stops_on_sigterm",
    "test_live_service.py::test_two_loops_never_write_at_once_when_the_lock_is_freed_under_one",
    "test_sandbox_cli.py::test_the_command_serves_and_stops_on_sigterm",
    "test_readonly.py::test_setup_role_apply_is_for_postgres",
    "test_metrics.py::test_replacement_is_atomic_readers_never_see_a_partial_file",
    "test_markers.py::test_without_a_server_the_postgres_cases_skip_with_the_reason",
    "test_markers.py::test_ci_fails_the_session_when_the_server_is_missing",
    "test_markers.py::test_sqlite_only_deselects_the_postgres_cases",
    "test_markers.py::test_the_first_tests_lead_the_run_order",
    # whole bootstraps and runs through the CLI
    "test_cli.py::test_bootstrap_one_target_runs_its_dependencies_first_once",
    "test_cli.py::test_bootstrap_all_then_again_writes_nothing_new",
    "test_guard.py::test_a_failed_job_and_the_breaker_it_opened_are_alerted_once",
    "test_drift.py::test_cli_drift_lists_acknowledges_and_reports",
    "test_secrets.py::test_the_key_is_in_no_table_log_or_message",
    "test_ingest_fast.py::test_the_fast_path_writes_what_the_reference_path_wrote",
    "test_ingest_fast.py::test_postgres_arrays_and_archived_parts_write_what_row_by_row_text_wrote",
    # the --help of every command the docs show (about 40, each rendered by Typer)
    "test_docs.py::test_every_command_the_docs_show_answers_help_naming_their_options",
    "test_quirks.py::test_every_recording_collected_and_rebuilt_has_nothing_quarantined_nor_drifted",
})

# The longest test by far (--durations: 12 to 17 minutes of a 25 to 37-minute serial run; the rest of the suite
# together takes about as long). It runs first, so that under `pytest -n` the other workers share everything
# else while it runs, instead of it starting late and the run waiting on it alone. The rest keep their order
# (a module's tests stay together, so its module fixtures are built once per worker).
FIRST: tuple[str, ...] = ("test_rehearse.py::test_a_harsh_day_with_two_skewed_hosts",)


def sample(relative: str) -> dict[str, Any]:
    """A recorded API response from shared/api-samples (BOM and JS wrappers removed)."""
    path = SAMPLES / relative
    if not path.exists():
        pytest.skip(f"sample {relative} not available")
    text = path.read_text(encoding="utf-8-sig")
    return json.loads(text[text.index("{"):].rstrip().rstrip(";"))


def bounded(call: Callable[[], Any], limit: float = 10) -> tuple[list[Any], float]:
    """`call` in a thread, waited for at most `limit` seconds (a hang fails the test instead of stalling it): what it
    returned or raised (nothing if it is still running) and the seconds waited."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call())
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcome.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(limit)
    return outcome, time.monotonic() - started


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


def needs_postgres(fixtures: Iterable[str], params: Mapping[str, object]) -> bool:
    """Whether a test uses the PostgreSQL server: through its fixtures, or a `postgres`/`postgres_*` parameter."""
    if "pg_admin" in fixtures:  # pg_url, module_pg_url and every other server fixture ask for it
        return True
    return any(value == "postgres" or str(value).startswith("postgres_") for value in params.values())


def is_slow(module: str, test: str) -> bool:
    """Whether a test is listed in SLOW, by its module file or as `module::test` (all its parameters)."""
    return module in SLOW or f"{module}::{test}" in SLOW


def _test_name(item: pytest.Item) -> str:
    """The test function's name, without its class or parameters."""
    return item.nodeid.split("::", 1)[-1].split("[", 1)[0]


def run_rank(module: str, test: str) -> int:
    """Where a test goes in the run order: FIRST's tests by their position there, every other test after them."""
    name = f"{module}::{test}"
    return FIRST.index(name) if name in FIRST else len(FIRST)


def _classify(item: pytest.Item) -> None:
    """Add the `postgres` and `slow` marks a collected test earns."""
    callspec = getattr(item, "callspec", None)
    if needs_postgres(getattr(item, "fixturenames", ()), callspec.params if callspec else {}):
        item.add_marker(pytest.mark.postgres)
    if is_slow(item.path.name, _test_name(item)):
        item.add_marker(pytest.mark.slow)


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """With AFC_REQUIRE_POSTGRES=1 a missing server fails the run before any test (and before xdist starts its
    workers: a worker that exits while collecting is a crash, not a verdict). Checked in the main process only."""
    if not REQUIRE_POSTGRES or _is_xdist_worker(session.config):
        return
    if "postgres" not in BACKENDS:
        raise pytest.UsageError("AFC_REQUIRE_POSTGRES=1 contradicts AFC_TEST_BACKENDS without postgres")
    if not postgres_reachable():
        pytest.exit(f"{_unreachable()} (AFC_REQUIRE_POSTGRES=1)", returncode=pytest.ExitCode.TESTS_FAILED)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark `postgres` and `slow` tests centrally; drop the PostgreSQL cases when the backend is left out; run
    FIRST's tests first (a stable sort: every xdist worker computes the same order, as it must)."""
    for item in items:
        _classify(item)
    items.sort(key=lambda item: run_rank(item.path.name, _test_name(item)))
    if "postgres" not in BACKENDS:
        postgres = [item for item in items if item.get_closest_marker("postgres")]
        config.hook.pytest_deselected(items=postgres)
        items[:] = [item for item in items if not item.get_closest_marker("postgres")]


@pytest.fixture(scope="session", autouse=True)
def own_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """afc's default data directory inside this session's temporary tree, not ~/.local/share/afc: CLI tests
    that name no data directory take its file locks, which another session on the machine may hold."""
    home = tmp_path_factory.mktemp("xdg")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(home))
        patch.delenv("STATE_DIRECTORY", raising=False)
        yield home / "afc"


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
    with fresh_pg(pg_admin) as url:
        yield url


@contextlib.contextmanager
def fresh_pg(template: str) -> Iterator[str]:
    """A new database copied from `template`, dropped at the end (for tests that need two at once)."""
    import psycopg

    name = f"afc_test_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _url(name)
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, migrated once per session (closed, so the WAL is folded into it)."""
    path = tmp_path_factory.mktemp("template") / "afc.db"
    db = connect(f"sqlite:///{path}")
    migrate(db)
    db.close()
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh, migrated SQLite file for one test (a copy of the template: migrating each time costs more)."""
    path = tmp_path / "afc.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


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
