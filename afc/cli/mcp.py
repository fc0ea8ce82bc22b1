"""`afc mcp stdio` (alias `afc serve-mcp`), `afc mcp http` and `afc mcp setup-role`: the MCP server for assistants."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from afc.cli.app import DbOption, app, settings, within

T = TypeVar("T")

mcp_app = typer.Typer(no_args_is_help=True, help="The read-only MCP server for AI assistants.")
app.add_typer(mcp_app, name="mcp")

QueryDbOption = Annotated[str | None, typer.Option(
    "--query-db", envvar="AFC_MCP_DATABASE_URL",
    help="PostgreSQL URL of a read-only login to run assistants' SQL as (default: --db).")]
RoleOption = Annotated[str, typer.Option(
    "--role", envvar="AFC_MCP_ROLE", help="PostgreSQL role assistants' SQL switches to (see setup-role).")]
TimeoutOption = Annotated[float, typer.Option(
    "--timeout", callback=within(0.1, 300.0), help="Seconds one query may run.")]


@mcp_app.command("stdio")
def stdio(db: DbOption = None, query_db: QueryDbOption = None, role: RoleOption = "afc_ai",
          timeout: TimeoutOption = 5.0) -> None:
    """Serve the MCP tools on stdin/stdout; register this command in your AI client."""
    from afc.mcp.server import build_server, serve_stdio

    conf = settings(db)
    existing(query_db or conf.db_url)
    serve_stdio(build_server(conf, query_url=query_db, role=role, timeout=timeout))


@app.command("serve-mcp")
def serve_mcp(db: DbOption = None, query_db: QueryDbOption = None, role: RoleOption = "afc_ai",
              timeout: TimeoutOption = 5.0) -> None:
    """Serve the MCP tools on stdin/stdout (the same as `afc mcp stdio`)."""
    stdio(db, query_db, role, timeout)


@mcp_app.command("http")
def http(
    db: DbOption = None, query_db: QueryDbOption = None, role: RoleOption = "afc_ai", timeout: TimeoutOption = 5.0,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port (0: a free one, logged).")] = 8765,
    token_file: Annotated[Path | None, typer.Option(
        "--token-file", help="File holding the bearer token (default: AFC_MCP_TOKEN, "
        "else $CREDENTIALS_DIRECTORY/mcp_token).")] = None,
    no_auth: Annotated[bool, typer.Option("--no-auth", help="No token; refused unless --host is loopback.")] = False,
) -> None:
    """Serve the MCP tools over streamable HTTP at http://HOST:PORT/mcp, behind a bearer token."""
    from afc.mcp.http import listen_on, resolve_token, serve_http
    from afc.mcp.server import build_server

    conf = settings(db)
    token = None if no_auth else resolve_token(
        env_token=conf.mcp_token.get_secret_value() if conf.mcp_token else None,
        token_file=token_file, credentials_dir=conf.credentials_dir)
    listen = listen_on(host, port, no_auth=no_auth, token=token)
    def build() -> Any:
        existing(query_db or conf.db_url)
        return build_server(conf, query_url=query_db, role=role, timeout=timeout)

    serve_http(built_when_reachable(build), listen)


def existing(url: str) -> None:
    """DatabaseMissing (exit 2) unless the database assistants read exists: a PostgreSQL database that does not exist
    is no server "not up yet", and `mcp http` waited for it forever."""
    from afc.db import connect

    connect(url, read_only=True, create=False).close()


def built_when_reachable(build: Callable[[], T]) -> T:
    """`build()`, waiting out a database that cannot be reached yet (`afc.ops.lock.when_reachable`; SIGTERM ends
    the wait)."""
    from afc.ops.lock import when_reachable

    built = when_reachable("mcp", build)
    assert built is not None  # without a stop event it returns only when built
    return built


@mcp_app.command("setup-role")
def setup_role(
    db: DbOption = None,
    role: RoleOption = "afc_ai",
    collector: Annotated[str | None, typer.Option(
        "--collector", help="The role the collector logs in as (keeps the revoked functions); default: you.")] = None,
    apply: Annotated[bool, typer.Option("--apply", help="Run the SQL instead of printing it.")] = False,
) -> None:
    """Print (or --apply) the SQL creating the SELECT-only PostgreSQL role for assistants' SQL."""
    from afc.db import redact_url
    from afc.errors import ConfigError
    from afc.mcp.role import apply_setup, setup_sql

    if not apply:
        sys.stdout.write(setup_sql(role, collector))
        return
    url = settings(db).db_url
    if not url.startswith(("postgresql:", "postgres:")):
        raise ConfigError(f"{redact_url(url)}: setup-role is for PostgreSQL; "
                          "on SQLite the server opens the file read-only")
    problems = apply_setup(url, role, collector)
    if problems:
        raise ConfigError(f"role {role!r} is still not safe: {problems[0]}; revoke that by hand (docs/mcp.md)")
    sys.stderr.write(f"{redact_url(url)}: role {role} can read raw, core, mart and ops, and nothing else\n")
