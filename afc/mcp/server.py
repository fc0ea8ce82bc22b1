"""The MCP server: read-only tools over the afc database and the collector's state (DESIGN §9)."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar, cast

import anyio
from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, ToolAnnotations
from pydantic import Field, ValidationError

from afc import __version__
from afc.clock import Clock, parse_clock
from afc.config.jobs import load
from afc.config.settings import Settings
from afc.db import redact_url
from afc.errors import AfcError, ConfigError, DatabaseUnavailable
from afc.mcp import schema, templates
from afc.mcp import state as status
from afc.mcp.readonly import Limits, QueryResult, ReadOnlyDb, run_query
from afc.mcp.role import DEFAULT_ROLE, resolve
from afc.mcp.rows import DEFAULT_SECONDS, MAX_ROWS
from afc.mcp.templates import ID_MAX
from afc.mcp.wire import CappedLines

LeagueId = Annotated[int, Field(ge=1, le=ID_MAX, description="API league id, e.g. 39")]
Season = Annotated[int, Field(ge=1900, le=2199, description="season year, e.g. 2024")]

log = logging.getLogger("afc.mcp")
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                            open_world_hint=False)
INSTRUCTIONS = (
    "Read-only access to an afc database of API-Football data: raw (every API response), core "
    "(leagues, teams, fixtures, standings, players, ...), mart (dashboards) and ops (quota ledger, "
    "job runs). Start with list_templates or list_tables; db_query runs one read-only SQL statement. "
    "Nothing you send can change the database."
)
F = TypeVar("F", bound=Callable[..., Any])


def _errors_as_tool_errors(fn: F) -> F:
    """afc's one-line errors reach the assistant as the tool's error text."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AfcError as exc:
            raise ToolError(str(exc)) from None

    return wrapper  # type: ignore[return-value]


class _Server(MCPServer):
    """MCPServer whose argument errors are one line, like every other afc error."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        """Call a tool; arguments that fail validation get one line naming each field and its rule."""
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if not isinstance(exc.__cause__, ValidationError):
                raise
            raise ToolError(f"{name}: {argument_errors(exc.__cause__)}") from exc.__cause__

    async def run_stdio_async(self) -> None:
        """The SDK's stdio transport reading stdin through CappedLines: no message past 4 MiB is held whole."""
        lines = CappedLines(sys.stdin.buffer)
        # an explicit stdin is only iterated by the transport; stdout is still claimed by the SDK
        async with stdio_server(stdin=cast("anyio.AsyncFile[str]", lines)) as (read_stream, write_stream):
            lines.answer = write_stream.send
            await self._lowlevel_server.run(read_stream, write_stream,
                                            self._lowlevel_server.create_initialization_options())

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None, context: Any = None) -> Any:
        """Render a prompt; an unknown prompt or a missing argument is one line (invalid params), not an internal
        error with a traceback in the log."""
        try:
            return await super().get_prompt(name, arguments, context)
        except ValueError as exc:  # how the SDK reports both, and a render that failed (an unknown argument)
            root: BaseException = exc
            while root.__cause__ is not None:
                root = root.__cause__
            why = str(exc) if str(root) == str(exc) else f"{exc}: {root}"
            raise MCPError(INVALID_PARAMS, f"{name}: {' '.join(why.split())[:300]}") from None


def prompt_number(argument: str, value: str, low: int, high: int) -> int:
    """A prompt's numeric argument (prompt arguments are strings), or one line naming it and its bounds."""
    text = value.strip()
    if not (text.isascii() and text.isdigit() and low <= int(text) <= high):
        raise MCPError(INVALID_PARAMS, f"argument {argument}: must be a whole number from {low} to {high}, "
                                       f"got {value[:40]!r}")
    return int(text)


def argument_errors(error: ValidationError) -> str:
    """A validation error as one line: `argument limit: Input should be less than or equal to 5000`."""
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "arguments"
        parts.append(f"argument {where}: {' '.join(str(item['msg']).split())}")
    return "; ".join(parts[:5]) + (f"; and {len(parts) - 5} more" if len(parts) > 5 else "")


def open_target(settings: Settings, *, query_url: str | None = None, role: str = DEFAULT_ROLE) -> ReadOnlyDb:
    """Where assistants' SQL runs, checked before the server starts (refuses unsafe PostgreSQL roles)."""
    url = query_url or settings.db_url
    if url.startswith("sqlite:"):
        target = _sqlite_target(url)
    elif url.startswith(("postgresql:", "postgres:")):
        resolved = resolve(url, role)
        for warning in resolved.warnings:
            log.warning("postgresql: the connecting role %s; run `afc mcp setup-role` to revoke it", warning)
        log.info("assistants' SQL runs %s", f"as role {role}" if resolved.mode == "switch" else "as the login")
        target = resolved.target
    else:
        raise ConfigError(f"database URL {redact_url(url)!r}: use sqlite:///path/afc.db or postgresql://...")
    if not status.table_exists(target, "ops.schema_migrations"):
        raise ConfigError(f"{target.label}: not an afc database (no migrations applied); run `afc db migrate`")
    return target


def _sqlite_target(url: str) -> ReadOnlyDb:
    from afc.db.sqlite import SqliteDatabase

    try:
        db = SqliteDatabase.open(url, read_only=True)
    except DatabaseUnavailable as exc:
        raise ConfigError(f"{exc}; create it with `afc db migrate --db {url}`") from None
    db.close()
    if db.path == ":memory:":
        raise ConfigError("an in-memory SQLite database cannot be shared with the MCP server; use a file")
    return ReadOnlyDb("sqlite", db.path, None, db.path)


class Tools:
    """The tools, bound to one database, clock and time budget; each is one library call."""

    def __init__(self, settings: Settings, target: ReadOnlyDb, clock: Clock, timeout: float, db_url: str):
        self.settings, self.target, self.clock, self.timeout, self.db_url = settings, target, clock, timeout, db_url

    def _limits(self, rows: int) -> Limits:
        return Limits(rows=rows, seconds=self.timeout)

    def db_query(self, sql: Annotated[str, Field(description="one read-only SQL statement")],
                 limit: Annotated[int, Field(ge=1, le=MAX_ROWS, description="maximum rows to return")] = 200,
                 ) -> QueryResult:
        return run_query(self.target, sql, None, self._limits(limit))

    def list_tables(self, layer: Annotated[Literal["raw", "core", "mart", "ops"] | None,
                                           Field(description="only this layer")] = None) -> dict[str, Any]:
        return {"backend": self.target.backend, "naming": _naming(self.target),
                "tables": schema.list_tables(self.target, layer)}

    def describe_table(self, table: Annotated[str, Field(max_length=200, description="e.g. core.fixtures")],
                       ) -> dict[str, Any]:
        return schema.describe_table(self.target, table)

    def coverage_status(self, league_id: LeagueId, season: Season,
                        endpoint: Annotated[str | None, Field(max_length=100, description="e.g. fixtures")] = None,
                        ) -> dict[str, Any]:
        return status.coverage_status(self.target, league_id, season, endpoint)

    def rate_limit_status(self) -> dict[str, Any]:
        return status.rate_limit_status(self.settings, self.db_url, self.clock)

    def job_registry(self) -> dict[str, Any]:
        return status.job_registry(self.target, load(self.settings.jobs_dir), self.clock.now())

    def recent_runs(self, limit: Annotated[int, Field(ge=1, le=500)] = 20,
                    failed_only: bool = False) -> dict[str, Any]:
        return {"runs": status.recent_runs(self.target, limit, failed_only)}

    def schema_drift(self, include_acknowledged: bool = False) -> dict[str, Any]:
        return status.schema_drift(self.target, include_acknowledged)

    def circuit_breakers(self) -> dict[str, Any]:
        return status.circuit_breakers(self.target)

    def list_templates(self) -> dict[str, Any]:
        return {"templates": templates.describe()}

    def run_template(self, name: Annotated[str, Field(max_length=100, description="template name from list_templates")],
                     params: Annotated[dict[str, Any] | None,
                                       Field(max_length=20, description="template parameters")] = None,
                     limit: Annotated[int, Field(ge=1, le=MAX_ROWS)] = 200) -> QueryResult:
        return templates.run_template(self.target, name, params, self.clock.now(), self._limits(limit),
                                      self.settings.display_tz)


def descriptions(target: ReadOnlyDb, timeout: float) -> dict[str, str]:
    """What each tool does, as the assistant reads it."""
    return {
        "db_query": "Run ONE read-only SQL statement (SELECT, WITH … SELECT, TABLE or VALUES) and get columns "
                    f"and rows. Tables: {_naming(target)}. At most `limit` rows and 256 KiB are returned, long "
                    f"values are clipped, and `truncated` says when; queries stop after {timeout:g} s, and at "
                    "most 2 run at once (a third waits briefly, then is answered busy). Writes, "
                    "DDL, several statements, ATTACH/PRAGMA/SET and side-effect functions are refused by the "
                    "database.",
        "list_tables": "List afc's tables and views per layer (raw, core, mart, ops) with the name to use in SQL "
                       "and a one-line description.",
        "describe_table": "Describe one table: its columns (name, type, nullable, primary key) and what it holds.",
        "coverage_status": "Coverage of one league season per endpoint (held vs expected, freshness, score), as "
                           "`afc coverage report` computed it.",
        "rate_limit_status": "The API quota ledger: calls used and left today (UTC day) and this minute, what "
                             "each priority may still spend, the floors, and when the day resets.",
        "job_registry": "The collector's jobs from config (type, endpoint, schedule, priority) with their last "
                        "run, its outcome and error, and the calls they spent today.",
        "recent_runs": "The latest job runs, newest first (status, calls, rows written, error); failed_only "
                       "keeps the runs that did not end ok.",
        "schema_drift": "Fields the API added, dropped or retyped compared with what afc understands, once per "
                        "endpoint and field (first/last seen, an example raw response); acknowledged ones only "
                        "with include_acknowledged.",
        "circuit_breakers": "The collector's circuit breaker per API endpoint: closed, open (calls paused after "
                            "repeated failures) or half-open (one probe allowed), with failures and times.",
        "list_templates": "List the named query templates (common questions: league table, team form, today's "
                          "fixtures, coverage, quota, failures, ...) with their parameters.",
        "run_template": "Run a named query template with its parameters (see list_templates); same limits as "
                        "db_query.",
    }


def build_server(settings: Settings, *, query_url: str | None = None, role: str = DEFAULT_ROLE,
                 timeout: float = DEFAULT_SECONDS, clock: Clock | None = None,
                 target: ReadOnlyDb | None = None) -> MCPServer:
    """The MCP server for the database in `settings`; settings are read once, here."""
    target = target or open_target(settings, query_url=query_url, role=role)
    tools = Tools(settings, target, clock or parse_clock(settings.clock), timeout, query_url or settings.db_url)
    server = _Server("afc", instructions=INSTRUCTIONS, version=__version__)
    for name, description in descriptions(target, timeout).items():
        server.add_tool(_errors_as_tool_errors(getattr(tools, name)), description=description,
                        annotations=READ_ONLY)
    _resources_and_prompts(server, target)
    return server


def _resources_and_prompts(server: MCPServer, target: ReadOnlyDb) -> None:
    @server.resource("afc://schema", mime_type="text/markdown", description="afc's tables with descriptions")
    def schema_resource() -> str:
        return schema.overview(target)

    @server.resource("afc://templates", mime_type="application/json", description="the query templates")
    def templates_resource() -> list[dict[str, Any]]:
        return templates.describe()

    @server.prompt(description="Investigate a league season: table, coverage, fixtures, gaps.")
    def explore_league(league_id: str, season: str) -> str:
        league, year = prompt_number("league_id", league_id, 1, ID_MAX), prompt_number("season", season, 1900, 2199)
        return (f"Investigate league {league}, season {year} in the afc database. Use run_template "
                f"league_table and coverage_by_league, coverage_status, and raw_vs_core_fixtures to say "
                "what is held, what is missing, and how fresh it is. Use db_query only for follow-ups.")

    @server.prompt(description="Check whether the collector is healthy: quota, failures, stale data.")
    def collector_health() -> str:
        return ("Check the afc collector's health: call rate_limit_status, job_registry and "
                "recent_runs(failed_only=true), and run_template live_fixtures_status. Report problems first.")


def _naming(target: ReadOnlyDb) -> str:
    if target.backend == "sqlite":
        return "SQLite; a table's layer is its prefix (core_fixtures, mart_daily_fixtures, ops_job_runs)"
    return "PostgreSQL; schema-qualified (core.fixtures, mart.daily_fixtures, ops.job_runs)"


def serve_stdio(server: MCPServer) -> None:
    """Serve on stdin/stdout until the client closes the stream (no message past 4 MiB: afc.mcp.wire)."""
    server.run("stdio")
