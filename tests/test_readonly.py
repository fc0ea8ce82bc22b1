"""The read-only executor (afc.mcp.readonly) and the PostgreSQL role it runs as, on both backends."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from afc.cli import app
from afc.errors import ConfigError
from afc.mcp.readonly import Limits, QueryError, ReadOnlyDb, run_query
from afc.mcp.role import apply_setup, problems, resolve, setup_sql
from tests.conftest import PG_ADMIN, pg_scalar
from tests.mcp_support import login_url, restricted_target, sqlite_target

COUNT_TO_10 = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) SELECT i FROM n"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, ai_role: str) -> ReadOnlyDb:
    """Where the tests' queries run: a shared SQLite file, or PostgreSQL as the restricted role."""
    if request.param == "sqlite":
        return sqlite_target(request.getfixturevalue("module_sqlite_url"))
    return restricted_target(request.getfixturevalue("module_pg_url"), ai_role)



def per_backend(target: ReadOnlyDb, sqlite: str, postgres: str) -> str:
    return sqlite if target.backend == "sqlite" else postgres


def refused(target: ReadOnlyDb, sql: str, **limits: Any) -> str:
    with pytest.raises(QueryError) as err:
        run_query(target, sql, None, Limits(**limits))
    return str(err.value)


# --- results ----------------------------------------------------------------------------------


def test_values_are_json_safe(target: ReadOnlyDb) -> None:
    sql = per_backend(
        target,
        "SELECT 1 AS i, 1.5 AS f, 'x' AS t, x'0102' AS b, NULL AS z, '2026-11-28T12:00:00+00:00' AS ts",
        "SELECT 1 AS i, 1.5::float8 AS f, 'x' AS t, '\\x0102'::bytea AS b, NULL AS z, "
        "TIMESTAMPTZ '2026-11-28 12:00+00' AS ts, 2.50::numeric AS n, 7::numeric AS whole, DATE '2026-11-28' AS d, "
        "true AS flag, '{\"a\": [1, 2]}'::jsonb AS j, 'NaN'::float8 AS nan, INTERVAL '1 day 2 hours' AS iv")
    result = run_query(target, sql)
    head = [1, 1.5, "x", "\\x0102", None, "2026-11-28T12:00:00+00:00"]
    tail = [2.5, 7, "2026-11-28", True, {"a": [1, 2]}, "nan", "1 day, 2:00:00"]
    assert result.rows == [head if target.backend == "sqlite" else head + tail]
    assert result.columns[:6] == ["i", "f", "t", "b", "z", "ts"]
    assert (result.row_count, result.truncated, result.note) == (1, False, None)


def test_row_limit_flags_truncated(target: ReadOnlyDb) -> None:
    result = run_query(target, COUNT_TO_10, None, Limits(rows=3))
    assert result.rows == [[1], [2], [3]]
    assert result.truncated is True and result.note == "row limit 3 reached; more rows exist"


def test_a_result_that_fits_exactly_is_not_truncated(target: ReadOnlyDb) -> None:
    result = run_query(target, COUNT_TO_10, None, Limits(rows=10))
    assert [r[0] for r in result.rows] == list(range(1, 11))
    assert result.truncated is False and result.note is None


def test_byte_limit_stops_early(target: ReadOnlyDb) -> None:
    text = per_backend(target, "substr(hex(zeroblob(500)), 1, 1000)", "repeat('0', 1000)")
    result = run_query(target, f"SELECT i, {text} AS pad FROM ({COUNT_TO_10}) AS n", None, Limits(bytes=5000))
    assert result.row_count == 4 and [r[0] for r in result.rows] == [1, 2, 3, 4]
    assert result.truncated is True and result.note == "byte limit 5000 reached after 4 rows"


def test_long_values_are_clipped(target: ReadOnlyDb) -> None:
    text = per_backend(target, "substr(hex(zeroblob(25000)), 1, 50000)", "repeat('0', 50000)")
    result = run_query(target, f"SELECT {text} AS big", None, Limits(value_chars=100))
    value = result.rows[0][0]
    assert value == "0" * 100 + "…[clipped: 50000 characters]"
    assert result.truncated is True and result.note == "1 values clipped to 100 characters"


def test_endless_query_stops_at_the_time_limit(target: ReadOnlyDb) -> None:
    started = time.monotonic()
    message = refused(target, "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
                              "SELECT count(*) FROM r", seconds=0.5)
    assert "time limit (0.5 s)" in message
    assert time.monotonic() - started < 3


def test_parameters_are_bound_not_formatted(target: ReadOnlyDb) -> None:
    sql = per_backend(target, "SELECT ? AS v", "SELECT %s AS v")
    result = run_query(target, sql, ("x'); DROP TABLE core_countries; --",))
    assert result.rows == [["x'); DROP TABLE core_countries; --"]]


@pytest.mark.parametrize("sql,message", [
    ("   ", "empty SQL"),
    ("SELECT 1 -- " + "x" * 100_001, "the limit is 100000"),
    ("SELECT 1\x00; DELETE FROM core.countries", "NUL character"),
    ("SELECT '\udcff'", "not valid Unicode"),
])
def test_text_hygiene(target: ReadOnlyDb, sql: str, message: str) -> None:
    assert message in refused(target, sql)


@pytest.mark.parametrize("sql", [
    "SELECT 1 AS v;", "SELECT 1 AS v; -- the answer", "SELECT 1 AS v; /* a note */",
    "SELECT 1 AS v -- no semicolon", "SELECT 1 AS v /* ; */;", "SELECT 1 AS v -- ; in a comment\n;",
])
def test_a_trailing_semicolon_or_comment_is_fine(target: ReadOnlyDb, sql: str) -> None:
    assert run_query(target, sql).rows == [[1]]


@pytest.mark.parametrize("sql,value", [
    ("SELECT ';' AS v; -- x", ";"), ("SELECT 'it''s;' AS v;", "it's;"), ('SELECT 1 AS ";";', 1),
    ("SELECT $$;$$ AS v; /* a /* nested */ note; */", ";"), ("SELECT $t$ a;$$ $t$ AS v; --", " a;$$ "),
    ("SELECT E'\\';' AS v;", "';"),
])
def test_postgres_semicolons_inside_quotes_stay(module_pg_url: str, ai_role: str, sql: str, value: Any) -> None:
    assert run_query(restricted_target(module_pg_url, ai_role), sql).rows == [[value]]


def test_statement_end_cuts_at_the_first_bare_semicolon() -> None:
    from afc.mcp.readonly_pg import statement_end

    for sql, cut in [("SELECT 1; -- x", "SELECT 1"), ("SELECT a$b$c FROM t;", "SELECT a$b$c FROM t"),
                     ("SELECT '; unterminated", "SELECT '; unterminated"), ("SELECT /* ; */ 1;", "SELECT /* ; */ 1")]:
        assert sql[:statement_end(sql)] == cut


# --- SQLite specifics -------------------------------------------------------------------------


def test_sqlite_json_and_introspection_functions_work(module_sqlite_url: str) -> None:
    target = sqlite_target(module_sqlite_url)
    assert run_query(target, "SELECT value FROM json_each('[1,2,3]')").rows == [[1], [2], [3]]
    info = run_query(target, "SELECT name, pk FROM pragma_table_info('core_countries') ORDER BY cid")
    assert info.rows[0] == ["name", 1]
    assert run_query(target, "PRAGMA table_info(core_countries)").rows[0][1] == "name"


@pytest.mark.parametrize("sql", ["PRAGMA query_only = 0", "PRAGMA journal_mode", "SELECT load_extension('x')",
                                 "SELECT fts3_tokenizer('simple')", "ATTACH ':memory:' AS m", "BEGIN",
                                 "ANALYZE", "DETACH main"])
def test_sqlite_authorizer_refuses(module_sqlite_url: str, sql: str) -> None:
    message = refused(sqlite_target(module_sqlite_url), sql)
    assert "not authorized" in message or "authorization denied" in message or "too many attached" in message


def test_sqlite_read_only_mode_alone_would_let_attach_write(tmp_path: Path, module_sqlite_url: str) -> None:
    """Why the authorizer exists: a mode=ro connection can still ATTACH a new file and write to it."""
    path = module_sqlite_url.split(":///", 1)[1]
    plain = sqlite3.connect(Path(path).as_uri() + "?mode=ro", uri=True)
    plain.execute(f"ATTACH '{tmp_path / 'elsewhere.db'}' AS other")
    plain.execute("CREATE TABLE other.t (x)")
    plain.close()
    assert (tmp_path / "elsewhere.db").stat().st_size > 0
    assert "not authorized" in refused(sqlite_target(module_sqlite_url), f"ATTACH '{tmp_path / 'again.db'}' AS o")
    assert not (tmp_path / "again.db").exists()


def test_sqlite_names_the_prefixed_table(module_sqlite_url: str) -> None:
    message = refused(sqlite_target(module_sqlite_url), "SELECT * FROM core.fixtures")
    assert message == "sqlite: no such table: core.fixtures; on SQLite the table is named core_fixtures"


# --- PostgreSQL specifics ---------------------------------------------------------------------


def test_postgres_leaves_no_session_behind(module_pg_url: str, ai_role: str) -> None:
    target = restricted_target(module_pg_url, ai_role)
    pids = {run_query(target, "SELECT pg_backend_pid()").rows[0][0] for _ in range(3)}
    assert len(pids) == 3  # a fresh connection per query
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:  # a fresh activity snapshot per poll
        for _ in range(50):
            # only this module's database: other test sessions on the shared server run MCP queries too
            left = pg_scalar(admin, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'afc-mcp' "
                             "AND datname = %s", (module_pg_url.rsplit("/", 1)[1],))
            if left == 0:
                break
            time.sleep(0.02)
    assert left == 0


def test_postgres_waits_at_most_a_second_for_a_lock(module_pg_url: str, ai_role: str) -> None:
    target = restricted_target(module_pg_url, ai_role)
    with psycopg.connect(module_pg_url) as holder:
        holder.execute("LOCK TABLE core.countries IN ACCESS EXCLUSIVE MODE")  # what a migration takes
        started = time.monotonic()
        message = refused(target, "SELECT count(*) FROM core.countries", seconds=5)
        waited = time.monotonic() - started
    assert "lock timeout" in message and 0.9 < waited < 3


@pytest.mark.parametrize("sql,expected", [
    ("SELECT current_user", "{role}"),
    ("SELECT set_config('role', 'postgres', true)", "permission denied for function set_config"),
    ("SELECT set_config('session_authorization', 'postgres', true)", "permission denied for function set_config"),
    ("RESET ROLE", "syntax error"),
    ("SET ROLE postgres", "syntax error"),
    ("SET SESSION AUTHORIZATION postgres", "syntax error"),
    ("SELECT query_to_xml('select current_user', true, true, '')", "<current_user>{role}</current_user>"),
    ("SELECT query_to_xml('select pg_read_file(''/etc/passwd'')', true, true, '')",
     "permission denied for function pg_read_file"),
    ("SELECT current_setting('data_directory')", "must be superuser"),
    ("SELECT rolname FROM pg_authid", "permission denied for table pg_authid"),
])
def test_postgres_sql_cannot_leave_the_restricted_role(module_pg_url: str, ai_role: str,
                                                       sql: str, expected: str) -> None:
    target = restricted_target(module_pg_url, ai_role)
    expected = expected.format(role=ai_role)
    try:
        outcome = str(run_query(target, sql).rows[0][0])
    except QueryError as exc:
        outcome = str(exc)
    assert expected in outcome


def test_set_config_is_the_escape_the_revoke_closes(pg_url: str, ai_role: str) -> None:
    """Why setup-role revokes set_config: with it, a query switches back to the session's superuser."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{ai_role}_weak" NOLOGIN')
        conn.execute(f'GRANT USAGE ON SCHEMA core TO "{ai_role}_weak"')
        try:
            weak = ReadOnlyDb("postgres", pg_url, f"{ai_role}_weak", "test")
            row = run_query(weak, "SELECT set_config('role', 'postgres', true), "
                                  "query_to_xml('select current_user', true, true, '')").rows[0]
            assert "<current_user>postgres</current_user>" in row[1]
            # and, even in the READ ONLY transaction, a WAL write and a lock are possible
            assert "/" in run_query(weak, "SELECT pg_logical_emit_message(false, 'afc', 'x')").rows[0][0]
            assert run_query(weak, "SELECT pg_try_advisory_lock(42)").rows == [[True]]
            assert "can execute set_config(text,text,boolean)" in problems(conn, f"{ai_role}_weak")
            with pytest.raises(ConfigError, match=f"role '{ai_role}_weak' is not safe .*set_config"):
                resolve(pg_url, f"{ai_role}_weak")
        finally:
            conn.execute(f'DROP OWNED BY "{ai_role}_weak"')
            conn.execute(f'DROP ROLE "{ai_role}_weak"')


def test_postgres_refuses_a_superuser_without_the_role(module_pg_url: str) -> None:
    with pytest.raises(ConfigError) as err:
        resolve(module_pg_url, "afc_no_such_role")
    assert str(err.value) == (
        "postgresql: refusing to run assistants' SQL as 'postgres' (is a superuser); create the "
        "restricted role with `afc mcp setup-role --apply --role afc_no_such_role` or set AFC_MCP_DATABASE_URL "
        "to a read-only login")


def test_postgres_runs_directly_as_a_harmless_login(pg_url: str, ai_role: str) -> None:
    restricted_target(pg_url, ai_role)
    resolved = resolve(login_url(pg_url, ai_role))
    assert resolved.mode == "direct" and resolved.target.role is None and resolved.warnings == ()
    assert run_query(resolved.target, "SELECT current_user, session_user").rows == [[ai_role, ai_role]]
    assert "permission denied" in refused(resolved.target, "SELECT pg_advisory_lock(1)")


def test_postgres_warns_about_a_login_that_was_not_set_up(pg_url: str, ai_role: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    login = f"{ai_role}_plain"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{login}" LOGIN')
        conn.execute(f'GRANT USAGE ON SCHEMA core TO "{login}"')
        conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA core TO "{login}"')
    try:
        from afc.config.settings import load_settings
        from afc.mcp.server import open_target

        with caplog.at_level("WARNING", logger="afc.mcp"):
            target = open_target(load_settings({}, database_url=login_url(pg_url, login)))
        assert target.role is None
        assert "the connecting role can execute set_config(text,text,boolean)" in caplog.text
        assert "can execute pg_advisory_lock(bigint)" in caplog.text
        # whatever it takes dies with the query's connection
        assert run_query(target, "SELECT pg_try_advisory_lock(42)").rows == [[True]]
        held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database" \
               " WHERE datname = current_database())"
        with psycopg.connect(pg_url, autocommit=True) as conn:
            # the server ends the closed connection's backend, and its locks, a moment after the client hangs up
            deadline = time.monotonic() + 10
            while pg_scalar(conn, held) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert pg_scalar(conn, held) == 0
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{login}"')
            conn.execute(f'DROP ROLE "{login}"')


def test_postgres_hides_other_sessions_queries(module_pg_url: str, ai_role: str) -> None:
    target = restricted_target(module_pg_url, ai_role)
    with psycopg.connect(module_pg_url) as other:
        other.execute("SELECT 'secret-looking text'")
        rows = run_query(target, "SELECT query FROM pg_stat_activity WHERE usename = 'postgres' "
                                 "AND datname = current_database()").rows
    assert rows and {r[0] for r in rows} == {"<insufficient privilege>"}


def test_postgres_refuses_a_login_that_can_write(pg_url: str, ai_role: str) -> None:
    restricted_target(pg_url, ai_role)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'GRANT INSERT ON core.countries TO "{ai_role}"')
    with pytest.raises(ConfigError, match=f"refusing to run assistants' SQL as '{ai_role}' "
                                          r"\(can write to core.countries\)"):
        resolve(login_url(pg_url, ai_role))


def test_setup_is_idempotent_and_covers_every_overload(pg_url: str, ai_role: str) -> None:
    restricted_target(pg_url, ai_role)
    restricted_target(pg_url, ai_role)
    with psycopg.connect(pg_url) as conn:
        denied = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE NOT has_function_privilege(%s, oid, 'EXECUTE')) FROM pg_proc "
            "WHERE proname LIKE '%%advisory%%' OR proname IN ('set_config', 'pg_notify', 'lo_create')", (ai_role,),
        ).fetchone()
        kept = pg_scalar(conn, "SELECT has_function_privilege('postgres', 'set_config(text,text,boolean)', 'EXECUTE')")
        assert denied == (24, 24) and kept is True
        assert problems(conn, ai_role) == []


def test_setup_keeps_the_functions_for_the_collector_and_new_tables_readable(pg_url: str,
                                                                             ai_role: str) -> None:
    collector = f"{ai_role}_collector"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{collector}" NOLOGIN')
        conn.execute(f'GRANT CREATE, USAGE ON SCHEMA core TO "{collector}"')
    try:
        assert apply_setup(pg_url, ai_role, collector) == []
        with psycopg.connect(pg_url, autocommit=True) as conn:
            def can(role: str, fn: str) -> bool:
                return pg_scalar(conn, "SELECT has_function_privilege(%s, %s, 'EXECUTE')", (role, fn))

            assert can(collector, "pg_try_advisory_lock(bigint)") and can(collector, "set_config(text,text,boolean)")
            assert not can(ai_role, "pg_try_advisory_lock(bigint)") and not can(ai_role, "pg_notify(text,text)")
            conn.execute(f'SET ROLE "{collector}"')
            conn.execute("CREATE TABLE core.later (x int)")  # a later migration, run by the collector
            conn.execute("INSERT INTO core.later VALUES (1)")
            conn.execute("RESET ROLE")
        assert run_query(ReadOnlyDb("postgres", pg_url, ai_role, "t"), "SELECT x FROM core.later").rows == [[1]]
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS core.later")
            conn.execute(f'DROP OWNED BY "{collector}"')
            conn.execute(f'DROP ROLE "{collector}"')


def test_pg_dump_needs_set_config(pg_url: str, ai_role: str, tmp_path: Path) -> None:
    """docs/mcp.md: a non-superuser backup role must be granted set_config after setup-role."""
    restricted_target(pg_url, ai_role)
    backup = f"{ai_role}_backup"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{backup}" LOGIN IN ROLE pg_read_all_data')
    try:
        dump = ["pg_dump", "--schema-only", "-f", str(tmp_path / "d.sql"), login_url(pg_url, backup)]
        first = subprocess.run(dump, capture_output=True, text=True)
        assert first.returncode != 0 and "permission denied for function set_config" in first.stderr
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'GRANT EXECUTE ON FUNCTION set_config(text, text, boolean) TO "{backup}"')
        assert subprocess.run(dump, capture_output=True, text=True).returncode == 0
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{backup}"')
            conn.execute(f'DROP ROLE "{backup}"')


# --- the command ------------------------------------------------------------------------------


def test_setup_role_prints_sql_by_default() -> None:
    result = CliRunner().invoke(app, ["mcp", "setup-role", "--role", "reader", "--collector", "afc"])
    assert result.exit_code == 0
    assert result.stdout == setup_sql("reader", "afc")
    assert 'CREATE ROLE "reader" NOLOGIN' in result.stdout and 'GRANT "reader" TO "afc";' in result.stdout


def test_setup_role_applies(pg_url: str, ai_role: str) -> None:
    result = CliRunner().invoke(app, ["mcp", "setup-role", "--apply", "--db", pg_url, "--role", ai_role])
    assert result.exit_code == 0, result.output
    assert f"role {ai_role} can read raw, core, mart and ops, and nothing else" in result.stderr
    assert resolve(pg_url, ai_role).mode == "switch"


def test_setup_role_apply_is_for_postgres(sqlite_url: str) -> None:
    result = CliRunner().invoke(app, ["mcp", "setup-role", "--apply", "--db", sqlite_url])
    assert result.exit_code == 2
    assert "setup-role is for PostgreSQL" in result.stderr


def test_stdio_refuses_an_unsafe_postgres_role(module_pg_url: str) -> None:
    result = CliRunner().invoke(app, ["mcp", "stdio", "--db", module_pg_url, "--role", "afc_no_such_role"])
    assert result.exit_code == 2
    assert result.stderr.startswith("afc: postgresql: refusing to run assistants' SQL as 'postgres'")
    assert result.stdout == ""
