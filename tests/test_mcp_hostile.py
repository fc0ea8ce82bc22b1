"""Hostile SQL through the MCP db_query tool: each input is refused or harmless, and the database
(every row, relation, ACL, role, setting, lock, file) is exactly as it was, on SQLite and on
PostgreSQL (switching to the restricted role, and logged in directly as it)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from afc.clock import SimClock
from afc.config.settings import load_settings
from afc.mcp.server import build_server
from tests.mcp_support import NOW, login_url, restricted_target, seeded, snapshot, text_of

pytestmark = pytest.mark.anyio
TIMEOUT = 1.0
PWNED = f"/tmp/afc_pwned_{os.getpid()}"
ENDLESS = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"
BIG = "WITH RECURSIVE b(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM b WHERE i < 100000) " \
      "SELECT x.i, y.i, z.i FROM b x CROSS JOIN b y CROSS JOIN b z"


@dataclass(frozen=True)
class Case:
    """One hostile input and what each backend must answer (an error containing the text, or None: it
    may run, and `check` says whether its result is harmless)."""

    id: str
    sql: str
    sqlite: str | None
    pg: str | None
    check: Any = None
    sqlite_sql: str | None = None


SYNTAX = "syntax error"
DENIED = "not authorized"
PERMISSION = "permission denied for function"
CASES = [
    Case("delete", "DELETE FROM {t}", DENIED, SYNTAX),
    Case("update", "UPDATE {t} SET code = 'XX'", DENIED, SYNTAX),
    Case("insert", "INSERT INTO {t} (name, updated_at) VALUES ('Evil', '2026-01-01')", DENIED, SYNTAX),
    Case("truncate", "TRUNCATE {t}", SYNTAX, SYNTAX),
    Case("drop", "DROP TABLE {t}", DENIED, SYNTAX),
    Case("create", "CREATE TABLE {evil} (x int)", DENIED, SYNTAX),
    Case("alter", "ALTER TABLE {t} ADD COLUMN evil int", DENIED, SYNTAX),
    Case("leading_comment", "/* just a read */ DELETE FROM {t}", DENIED, SYNTAX),
    Case("select_then_drop", "SELECT 1; DROP TABLE {t}", "exactly one statement", "multiple commands"),
    Case("commit_then_delete", "COMMIT; DELETE FROM {t}", DENIED, SYNTAX),
    Case("commit_then_set", "SELECT 1; COMMIT; SET default_transaction_read_only = off",
         "exactly one statement", "multiple commands"),
    Case("cte_delete", "WITH d AS (DELETE FROM {t} RETURNING *) SELECT * FROM d", "syntax error",
         "must not contain data-modifying statements"),
    Case("explain_analyze_delete", "EXPLAIN ANALYZE DELETE FROM {t}", SYNTAX, SYNTAX),
    Case("explain_delete", "EXPLAIN DELETE FROM {t}", DENIED, SYNTAX),
    Case("select_into", "SELECT * INTO newtable FROM {t}", SYNTAX, "SELECT ... INTO is not allowed here"),
    Case("for_update", "SELECT * FROM {t} FOR UPDATE", SYNTAX, "read-only transaction"),
    Case("copy_to_program", f"COPY {{t}} TO PROGRAM 'touch {PWNED}'", SYNTAX, SYNTAX),
    Case("copy_from_file", "COPY {t} FROM '/etc/passwd'", SYNTAX, SYNTAX),
    Case("pg_sleep", "SELECT pg_sleep(10)", "no such function: pg_sleep", "time limit (1 s)"),
    Case("endless_cte", ENDLESS, "time limit (1 s)", "time limit (1 s)"),
    Case("advisory_lock", "SELECT pg_advisory_lock(1)", "no such function", PERMISSION),
    Case("try_advisory_lock", "SELECT pg_try_advisory_lock(42)", "no such function", PERMISSION),
    Case("advisory_xact_lock", "SELECT pg_advisory_xact_lock(7)", "no such function", PERMISSION),
    Case("set_config_read_only", "SELECT set_config('default_transaction_read_only', 'off', false)",
         "no such function", PERMISSION),
    Case("set_config_role", "SELECT set_config('role', 'postgres', true)", "no such function", PERMISSION),
    Case("set_config_session_authorization", "SELECT set_config('session_authorization', 'postgres', true)",
         "no such function", PERMISSION),
    Case("reset_role", "RESET ROLE", SYNTAX, SYNTAX),
    Case("set_statement_timeout", "SET statement_timeout = 0", SYNTAX, SYNTAX),
    Case("alter_system", "ALTER SYSTEM SET statement_timeout = 0", SYNTAX, SYNTAX),
    Case("create_temp_table", "CREATE TEMP TABLE t (x int)", DENIED, SYNTAX),
    Case("create_role", "CREATE ROLE evil SUPERUSER LOGIN", SYNTAX, SYNTAX),
    Case("grant", "GRANT ALL ON {t} TO PUBLIC", SYNTAX, SYNTAX),
    Case("do_block", "DO $$ BEGIN DELETE FROM core.countries; END $$", SYNTAX, SYNTAX),
    Case("create_function", "CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql", SYNTAX, SYNTAX),
    Case("prepare_transaction", "PREPARE TRANSACTION 'x'", SYNTAX, SYNTAX),
    Case("listen", "LISTEN x", SYNTAX, SYNTAX),
    Case("notify", "SELECT pg_notify('x', 'y')", "no such function", PERMISSION),
    Case("terminate_backend", "SELECT pg_terminate_backend(pg_backend_pid())", "no such function", PERMISSION),
    Case("cancel_backend", "SELECT pg_cancel_backend(pg_backend_pid())", "no such function", PERMISSION),
    Case("lo_import", "SELECT lo_import('/etc/passwd')", "no such function", PERMISSION),
    Case("lo_from_bytea", "SELECT lo_from_bytea(0, 'x')", "no such function", PERMISSION),
    Case("logical_message", "SELECT pg_logical_emit_message(false, 'x', 'y')", "no such function", PERMISSION),
    Case("txid_current", "SELECT txid_current()", "no such function", PERMISSION),
    Case("import_collations", "SELECT pg_import_system_collations('pg_catalog')", "no such function", PERMISSION),
    Case("read_file", "SELECT pg_read_file('/etc/passwd')", "no such function", PERMISSION),
    Case("read_file_via_query_to_xml",
         "SELECT query_to_xml('select pg_read_file(''/etc/passwd'')', true, true, '')",
         "no such function", PERMISSION),
    Case("dblink", "SELECT * FROM dblink('dbname=postgres', 'select 1') AS t(x int)",
         SYNTAX, "function dblink(unknown, unknown) does not exist"),
    Case("vacuum", "VACUUM", "authorization denied", SYNTAX),
    Case("vacuum_into", "VACUUM INTO '{dir}/copy.db'", "authorization denied", SYNTAX),
    Case("analyze", "ANALYZE", DENIED, SYNTAX),
    Case("reindex", "REINDEX", DENIED, SYNTAX),
    Case("lock_table", "LOCK TABLE {t} IN ACCESS EXCLUSIVE MODE", SYNTAX, SYNTAX),
    Case("begin", "BEGIN", DENIED, SYNTAX),
    Case("savepoint", "SAVEPOINT x", DENIED, SYNTAX),
    Case("attach", "ATTACH DATABASE '{dir}/x.db' AS x", DENIED, SYNTAX),
    Case("attach_memory", "ATTACH ':memory:' AS m", DENIED, SYNTAX),
    Case("detach", "DETACH DATABASE main", DENIED, SYNTAX),
    Case("pragma_writable_schema", "PRAGMA writable_schema = 1", DENIED, SYNTAX),
    # the one UPDATE the authorizer lets through (a table-valued function declaring itself)
    Case("update_sqlite_master", "UPDATE sqlite_master SET type = 'x', sql = ''", "may not be modified", SYNTAX),
    Case("pragma_journal_mode", "PRAGMA journal_mode = DELETE", DENIED, SYNTAX),
    Case("pragma_query_only", "PRAGMA query_only = 0", DENIED, SYNTAX),
    Case("load_extension", "SELECT load_extension('/tmp/evil')", DENIED,
         "function load_extension(unknown) does not exist"),
    Case("writefile", "SELECT writefile('{dir}/w.txt', 'x')", "no such function",
         "function writefile(unknown, unknown) does not exist"),
    Case("huge_result", BIG, None, None, lambda r: r["truncated"] and r["row_count"] == 200
         and r["note"] == "row limit 200 reached; more rows exist"),
    Case("huge_value", "SELECT repeat('x', 20000000) AS v", "string or blob too big", None,
         lambda r: r["truncated"] and len(r["rows"][0][0]) < 16_500,
         sqlite_sql="SELECT randomblob(20000000) AS v"),
    Case("megabyte_sql", "SELECT 1 -- " + "x" * 1_000_000, "the limit is 100000", "the limit is 100000"),
    Case("nul_byte", "SELECT 1\x00; DELETE FROM {t}", "NUL character", "NUL character"),
    Case("not_utf8", "SELECT '\udcff'", "not valid Unicode", "not valid Unicode"),
]


@dataclass
class Env:
    """One backend variant: its server, names, and the state nothing may change."""

    backend: str
    url: str
    role: str | None
    server: Any
    names: dict[str, str]
    directory: Path
    baseline: dict[str, Any]


@pytest.fixture(scope="module", params=["sqlite", "postgres", "postgres_direct"])
def env(request: pytest.FixtureRequest, ai_role: str, tmp_path_factory: pytest.TempPathFactory) -> Env:
    sqlite = request.param == "sqlite"
    url = request.getfixturevalue("module_sqlite_url" if sqlite else "module_pg_url")
    seeded(url)  # once: postgres and postgres_direct share the module's database
    role = None if sqlite else ai_role
    if not sqlite:
        restricted_target(url, ai_role)
    served = login_url(url, ai_role) if request.param == "postgres_direct" else url
    server = build_server(load_settings({}, database_url=served), role=ai_role, timeout=TIMEOUT,
                          clock=SimClock(NOW, speed=0))
    directory = Path(url.split(":///", 1)[1]).parent if sqlite else tmp_path_factory.mktemp("pg_files")
    names = {"t": "core_countries" if sqlite else "core.countries", "evil": "core_evil" if sqlite else "core.evil",
             "dir": str(directory)}
    return Env(request.param, url, role, server, names, directory, snapshot(url, role))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_hostile_input_changes_nothing(env: Env, case: Case) -> None:
    started = time.monotonic()
    async with Client(env.server) as client:
        await assert_refused_or_harmless(client, env, case)
    assert_nothing_changed(env, started)


async def assert_refused_or_harmless(client: Client, env: Env, case: Case) -> None:
    """The case's answer is the expected refusal (or a harmless result), and the session still answers."""
    sqlite = env.backend == "sqlite"
    sql = (case.sqlite_sql if sqlite and case.sqlite_sql else case.sql).format(**env.names)
    expected = case.sqlite if sqlite else case.pg
    result = await client.call_tool("db_query", {"sql": sql})
    text = text_of(result)
    if expected is None:
        assert result.is_error is False, text
        assert case.check(result.structured_content), result.structured_content
    else:
        assert result.is_error is True and expected in text, text
    who = await client.call_tool("db_query", {"sql": "SELECT current_user" if not sqlite else "SELECT 1"})
    assert who.structured_content["rows"] == [[env.role] if env.role else [1]]


def assert_nothing_changed(env: Env, started: float) -> None:
    """Answered within the budget; every row, relation, ACL, role, setting, lock and file as before."""
    assert time.monotonic() - started < TIMEOUT + 3
    _wait_for_sessions_to_close(env)
    assert snapshot(env.url, env.role) == env.baseline
    assert not Path(PWNED).exists()
    if env.backend != "sqlite":
        assert list(env.directory.iterdir()) == []


def _wait_for_sessions_to_close(env: Env) -> None:
    """PostgreSQL: the server's connections are closed after each query (no session state survives)."""
    if env.backend == "sqlite":
        return
    import psycopg

    from tests.conftest import PG_ADMIN, pg_scalar

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        for _ in range(100):
            # only this module's database: other test sessions on the shared server run MCP queries too
            left = pg_scalar(conn, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'afc-mcp' "
                             "AND datname = %s", (env.url.rsplit("/", 1)[1],))
            if left == 0:
                return
            time.sleep(0.01)
    raise AssertionError(f"{left} afc-mcp sessions still open")


def test_the_snapshot_sees_every_kind_of_change(db_url: str, ai_role: str, tmp_path: Path) -> None:
    """The battery's 'nothing changed' is only as good as the snapshot: a row, a lock, a temp table,
    a setting and a grant must each show up."""
    if db_url.startswith("postgres"):
        restricted_target(db_url, ai_role)
    before = snapshot(db_url, ai_role)
    if db_url.startswith("sqlite:"):
        from afc.db import connect

        db = connect(db_url)
        db.execute("INSERT INTO core.countries (name, updated_at) VALUES ('Wales', '2026-01-01')")
        db.close()
        assert snapshot(db_url, ai_role) != before
        (Path(db_url.split(":///", 1)[1]).parent / "copy.db").write_bytes(b"")
        assert snapshot(db_url, ai_role)["files"] != before["files"]
        return
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(1)")
        conn.execute("CREATE TEMP TABLE t (x int)")
        during = snapshot(db_url, ai_role)
        assert during["advisory_locks"] != before["advisory_locks"] and during["relations"] != before["relations"]
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO core.countries (name, updated_at) VALUES ('Wales', now())")
        conn.execute(f'ALTER ROLE "{ai_role}" IN DATABASE {db_url.rsplit("/", 1)[1]} SET work_mem = \'8MB\'')
        conn.execute("GRANT EXECUTE ON FUNCTION pg_notify(text, text) TO PUBLIC")
        conn.execute("SELECT lo_create(0)")
    after = snapshot(db_url, ai_role)
    for key in ("core.countries", "role_settings", "function_acls", "large_objects"):
        assert after[key] != before[key], key
