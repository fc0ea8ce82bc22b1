"""PostgreSQL: the SELECT-only role assistants' SQL runs as, how to create it, and the startup check.

A superuser can call `pg_read_file`, take advisory locks or `set_config('role', …)` from a plain
SELECT, so the MCP server never runs assistants' SQL with such a role. It either connects as a
role that is already harmless (not a superuser, no write privileges), or switches to a restricted
role (`afc_ai`) with `SET LOCAL ROLE` inside each read-only transaction. `set_config` is revoked
from that role, because with it a query could switch back to the connecting role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from afc.db import redact_url
from afc.errors import ConfigError, DatabaseUnavailable
from afc.mcp.readonly import ReadOnlyDb
from afc.redact import sanitize

DEFAULT_ROLE = "afc_ai"
AFC_SCHEMAS = ("raw", "core", "mart", "ops")
# Callable from a SELECT, even in a READ ONLY transaction, and able to lock, signal, change the
# role or settings, or write outside the transaction (checked on PostgreSQL 15).
RISKY_FUNCTIONS = (
    "set_config", "pg_advisory_lock", "pg_advisory_lock_shared", "pg_advisory_unlock",
    "pg_advisory_unlock_shared", "pg_advisory_unlock_all", "pg_advisory_xact_lock",
    "pg_advisory_xact_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_lock_shared",
    "pg_try_advisory_xact_lock", "pg_try_advisory_xact_lock_shared", "pg_notify",
    "pg_cancel_backend", "pg_terminate_backend", "pg_logical_emit_message", "lo_creat", "lo_create",
    "lo_from_bytea", "lo_import", "lo_export", "lo_open", "lo_put", "lo_unlink", "lowrite",
    "lo_truncate", "lo_truncate64", "pg_import_system_collations", "txid_current",
    "pg_current_xact_id", "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file",
    "dblink", "dblink_exec", "dblink_connect", "dblink_connect_u", "dblink_send_query",
    "dblink_open", "dblink_fetch",
)
# Memberships that grant reading only.
READ_ONLY_ROLES = ("pg_read_all_data", "pg_read_all_stats", "pg_read_all_settings", "pg_monitor",
                   "pg_stat_scan_tables")

PRIVILEGE_PROBLEMS = """
SELECT 'is a superuser' FROM pg_roles WHERE rolname = %(r)s AND rolsuper
UNION ALL SELECT 'can create roles' FROM pg_roles WHERE rolname = %(r)s AND rolcreaterole
UNION ALL SELECT 'can create databases' FROM pg_roles WHERE rolname = %(r)s AND rolcreatedb
UNION ALL SELECT 'has REPLICATION' FROM pg_roles WHERE rolname = %(r)s AND rolreplication
UNION ALL SELECT 'bypasses row security' FROM pg_roles WHERE rolname = %(r)s AND rolbypassrls
UNION ALL SELECT format('can write to %%s', c.oid::regclass)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname <> 'information_schema'
      AND n.nspname NOT LIKE 'pg\\_%%'
      AND has_table_privilege(%(r)s, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, TRIGGER')
UNION ALL SELECT format('can change sequence %%s', c.oid::regclass)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT LIKE 'pg\\_%%'  -- CASE: the planner may test the privilege before relkind
      AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(%(r)s, c.oid, 'UPDATE') ELSE false END
UNION ALL SELECT format('can create objects in schema %%s', nspname) FROM pg_namespace
    WHERE nspname NOT LIKE 'pg\\_%%' AND has_schema_privilege(%(r)s, oid, 'CREATE')
UNION ALL SELECT 'can create schemas in this database'
    WHERE has_database_privilege(%(r)s, current_database(), 'CREATE')
UNION ALL SELECT format('is a member of %%s', b.rolname) FROM pg_roles b
    WHERE b.rolname <> %(r)s AND b.rolname <> ALL(%(read_only)s) AND pg_has_role(%(r)s, b.oid, 'MEMBER')
"""
FUNCTION_PROBLEMS = """
SELECT format('can execute %%s', p.oid::regprocedure) FROM pg_proc p
    WHERE p.proname = ANY(%(names)s) AND has_function_privilege(%(r)s, p.oid, 'EXECUTE')
UNION ALL SELECT format('can execute SECURITY DEFINER function %%s', p.oid::regprocedure) FROM pg_proc p
    WHERE p.prosecdef AND has_function_privilege(%(r)s, p.oid, 'EXECUTE')
"""
CAN_SWITCH = """
SELECT current_user, EXISTS (SELECT FROM pg_roles WHERE rolname = %(r)s)
    AND pg_has_role(current_user, %(r)s, 'MEMBER')"""


@dataclass(frozen=True)
class Resolved:
    """How the server will run assistants' SQL, and what it should warn about."""

    target: ReadOnlyDb
    mode: str  # "direct": as the connecting role; "switch": SET LOCAL ROLE to the restricted role
    warnings: tuple[str, ...] = ()


def setup_sql(role: str = DEFAULT_ROLE, collector: str | None = None) -> str:
    """SQL that creates (or repairs) the restricted role in the afc database; idempotent."""
    from psycopg import sql

    r = sql.Identifier(role).as_string(None)
    owner = sql.Identifier(collector).as_string(None) if collector else "CURRENT_USER"
    owner_name = sql.Literal(collector).as_string(None) if collector else "current_user"
    schemas = ", ".join(AFC_SCHEMAS)
    names = ", ".join(sql.Literal(n).as_string(None) for n in RISKY_FUNCTIONS)
    return f"""-- afc: a SELECT-only role for assistants' SQL (afc mcp setup-role). Run it in the afc
-- database as a superuser or as the owner of afc's tables (with CREATEROLE). Idempotent.
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {sql.Literal(role).as_string(None)}) THEN
        CREATE ROLE {r} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT;
    END IF;
END $$;
-- The collector's login may switch to it (SET LOCAL ROLE); superusers need no membership.
GRANT {r} TO {owner};
GRANT USAGE ON SCHEMA {schemas} TO {r};
GRANT SELECT ON ALL TABLES IN SCHEMA {schemas} TO {r};
ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schemas} GRANT SELECT ON TABLES TO {r};
-- Functions a SELECT can call, even in a READ ONLY transaction, that lock, signal, switch the
-- role (set_config) or write outside the transaction. Every role may call them by default and
-- PostgreSQL has no per-role deny, so they are revoked from PUBLIC and granted back to the
-- collector only.
DO $$ DECLARE f regprocedure; BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
             WHERE p.proname IN ({names})
               AND has_function_privilege('public', p.oid, 'EXECUTE') LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, {owner_name});
    END LOOP;
END $$;
"""


def apply_setup(url: str, role: str = DEFAULT_ROLE, collector: str | None = None) -> list[str]:
    """Create or repair the restricted role; returns what still makes it unsafe (empty: safe)."""
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(setup_sql(role, collector).encode())  # bytes: several statements, no placeholders
            return problems(conn, role)
    except psycopg.Error as exc:
        raise ConfigError(f"postgresql: cannot set up role {role!r} in {redact_url(url)}: "
                          f"{sanitize(str(exc).strip().splitlines()[0])}") from None


def problems(conn: Any, role: str, *, functions: bool = True) -> list[str]:
    """Why `role` is not safe to run assistants' SQL as (empty: safe)."""
    found = [row[0] for row in conn.execute(PRIVILEGE_PROBLEMS, {"r": role, "read_only": list(READ_ONLY_ROLES)})]
    if "is a superuser" in found:
        return ["is a superuser"]  # everything else follows from it
    if functions:
        risky = [row[0] for row in conn.execute(FUNCTION_PROBLEMS, {"r": role, "names": list(RISKY_FUNCTIONS)})]
        found += sorted(risky, key=lambda text: "set_config" not in text)  # the role escape first
    return found


def resolve(url: str, role: str = DEFAULT_ROLE) -> Resolved:
    """Decide whom assistants' SQL runs as on PostgreSQL, or refuse with what to do."""
    import psycopg

    label = redact_url(url)
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            row = conn.execute(CAN_SWITCH, {"r": role}).fetchone()
            assert row is not None  # a SELECT without FROM always returns its one row
            user, can_switch = row
            own = problems(conn, user, functions=False)
            if not own:
                risky = tuple(problems(conn, user))
                return Resolved(ReadOnlyDb("postgres", url, None, label), "direct", risky)
            if not can_switch:
                raise ConfigError(
                    f"postgresql: refusing to run assistants' SQL as {user!r} ({_summary(own)}); create the "
                    f"restricted role with `afc mcp setup-role --apply --role {role}` or set "
                    "AFC_MCP_DATABASE_URL to a read-only login")
            theirs = problems(conn, role)
    except psycopg.Error as exc:
        raise DatabaseUnavailable(f"postgresql: cannot connect to {label}: "
                                  f"{sanitize(str(exc).strip().splitlines()[-1])}") from None
    if theirs:
        raise ConfigError(f"postgresql: role {role!r} is not safe for assistants' SQL ({_summary(theirs)}); "
                          f"repair it with `afc mcp setup-role --apply --role {role}`")
    return Resolved(ReadOnlyDb("postgres", url, role, label), "switch")


def _summary(found: list[str]) -> str:
    more = f" and {len(found) - 1} more" if len(found) > 1 else ""
    return found[0] + more
