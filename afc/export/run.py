"""`afc export`: core and mart tables (and raw bodies) to Parquet, CSV or JSON Lines files.

Which tables exist comes from the live catalog, so a table a later migration adds is exported
without code changes. Each run writes, per table, one file of the rows changed since its watermark
(`DIR/core_fixtures/20261128T120000Z.parquet`) under a temporary name first and renames it into
place, so a reader never sees half a file; only then does the watermark move. A watermark is held
back by SETTLE from the run's start: a response whose transaction was still open while the run read
(its rows carry the response's fetch time) is exported next time rather than never.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from afc.clock import Clock
from afc.db import Database, catalog
from afc.db.catalog import Column
from afc.errors import AfcError, ConfigError
from afc.export import formats, watermarks
from afc.export.files import BATCH, LOCK_NAME, writable_directory, write_file
from afc.export.watermarks import Destination
from afc.ops.lock import file_lock

SETTLE = timedelta(minutes=2)
EXPORTED_LAYERS = ("core", "mart")
RAW_TABLES = ("raw.responses",)  # raw bodies: JSON Lines only
WATERMARK_COLUMNS = ("updated_at", "fetched_at")  # raw.responses changes never; it is new when fetched
Since = datetime | Literal["last"] | None


@dataclass(frozen=True)
class ExportRequest:
    """What to export (table names or `all`), in which format, where, and which rows."""

    tables: tuple[str, ...]
    format: str
    out: Path
    since: Since = None
    league: int | None = None
    season: int | None = None

    def __post_init__(self) -> None:
        formats.check_format(self.format)
        if self.format == "parquet":
            formats.require_pyarrow()

    @property
    def scope(self) -> str:
        """The league/season narrowing as text (part of the watermark's key)."""
        parts = [f"league={self.league}" if self.league is not None else "",
                 f"season={self.season}" if self.season is not None else ""]
        return ",".join(p for p in parts if p)


@dataclass(frozen=True)
class TableExport:
    """One table's part of a run: rows written, the file (None when nothing changed), the watermarks."""

    table: str
    rows: int
    file: str | None
    since: datetime | None
    watermark: datetime | None
    note: str = ""


@dataclass(frozen=True)
class ExportReport:
    """What a run wrote."""

    format: str
    directory: str
    tables: list[TableExport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, times in ISO 8601."""
        rate = round(self.rows / self.seconds) if self.seconds else 0
        tables = [{k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(t).items()}
                  for t in self.tables]
        return asdict(self) | {"tables": tables, "rows": self.rows, "rows_per_second": rate}


def parse_since(text: str | None, now: datetime) -> Since:
    """`last`, a UTC time (`2026-11-28`, `2026-11-28T12:00:00Z`; no offset means UTC), or None; never the future."""
    if text is None:
        return None
    if text == "last":
        return "last"
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ConfigError(f"export: --since {text!r}: use last, or a UTC time such as 2026-11-28T12:00:00Z") \
            from None
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment > now:
        raise ConfigError(f"export: --since {text}: in the future (now {now:%Y-%m-%dT%H:%M:%SZ})")
    return moment


def export(db: Database, request: ExportRequest, clock: Clock) -> ExportReport:
    """Write each requested table's changed rows to one new file under `request.out`."""
    fmt = request.format
    started = clock.now()
    tables = resolve(db, request)
    directory = writable_directory(request.out)
    destination = Destination(str(directory), fmt, request.scope)
    timer = time.perf_counter()
    with file_lock(directory / LOCK_NAME, "export"):  # one run per directory: file names and watermarks
        # Every table's starting point first: a bad stored watermark stops the run before any file is written.
        plans = [(table, columns, _since(db, table, columns, request.since, destination, started))
                 for table, columns in tables]
        done = [_export_table(db, table, columns, since, request, destination, started)
                for table, columns, since in plans]
    return ExportReport(fmt, str(directory), done, time.perf_counter() - timer)


def exportable(db: Database) -> list[str]:
    """Every core and mart table and view the database holds, then the raw tables."""
    found = [name for name, _ in catalog.tables(db, EXPORTED_LAYERS)]
    return found + [name for name, _ in catalog.tables(db, ("raw",)) if name in RAW_TABLES]


def resolve(db: Database, request: ExportRequest) -> list[tuple[str, list[Column]]]:
    """The tables to export with their columns; unknown names and impossible requests in one line."""
    known = exportable(db)
    scoped = request.league is not None or request.season is not None
    if "all" in request.tables:
        chosen = [t for t in known if t not in RAW_TABLES]
        found = [(t, catalog.columns(db, t)) for t in chosen]
        return [(t, cols) for t, cols in found if not scoped or _scope_conditions(t, cols, request) is not None]
    resolved = []
    for name in request.tables:
        table = _match(name, known)
        columns = catalog.columns(db, table)
        if table in RAW_TABLES and request.format != "jsonl":
            raise ConfigError(f"export: {table}: raw bodies are exported as JSON Lines only (--format jsonl)")
        if scoped and (table in RAW_TABLES or _scope_conditions(table, columns, request) is None):
            raise ConfigError(f"export: {table}: has no league_id/season or fixture_id column to narrow by; "
                              "export it without --league/--season")
        resolved.append((table, columns))
    return resolved


def _match(name: str, known: Sequence[str]) -> str:
    """`core.fixtures`, `core_fixtures` or an unambiguous `fixtures` → `core.fixtures`."""
    candidates = [t for t in known if name in (t, t.replace(".", "_", 1), t.partition(".")[2])]
    if len(candidates) == 1:
        return candidates[0]
    raise ConfigError(f"export: no table {name!r} to export; use all or one of: {', '.join(known)}")


def _scope_conditions(table: str, columns: Sequence[Column], request: ExportRequest) -> list[str] | None:
    """SQL conditions narrowing `table` to the league/season asked for; None when it cannot be narrowed."""
    names = {c.name for c in columns}
    wanted = {"league_id": "%(league)s" if request.league is not None else None,
              "season": "%(season)s" if request.season is not None else None}
    conditions = [f"{column} = {value}" for column, value in wanted.items() if value]
    if all(column in names for column, value in wanted.items() if value):
        return conditions
    if "fixture_id" in names:
        return [f"fixture_id IN (SELECT id FROM core.fixtures WHERE {' AND '.join(conditions)})"]
    return None


def _select(db: Database, table: str, columns: Sequence[Column], mark: str | None, since: datetime | None,
            request: ExportRequest) -> tuple[str, dict[str, Any]]:
    """The query for one table's rows (JSON as text on PostgreSQL: no parse and dump on the way out)."""
    def expression(c: Column) -> str:
        if db.backend != "postgres" or formats.kind(c) != "json":
            return f'"{c.name}"'
        value = f'to_json("{c.name}")' if c.type.endswith("[]") else f'"{c.name}"'
        return f'{value}::text AS "{c.name}"'

    where = list(_scope_conditions(table, columns, request) or [])
    if since is not None and mark:
        where.append(f'"{mark}" > %(since)s')
    keys = [f'"{c.name}"' for c in columns if c.primary_key] or ([f'"{mark}"'] if mark else [])
    sql = (f"SELECT {', '.join(map(expression, columns))} FROM {table}"
           + (f" WHERE {' AND '.join(where)}" if where else "") + (f" ORDER BY {', '.join(keys)}" if keys else ""))
    return sql, {"since": since, "league": request.league, "season": request.season}


def watermark_column(columns: Sequence[Column]) -> str | None:
    """The column a table's watermark follows (updated_at, or fetched_at for raw); None: exported whole."""
    return next((m for m in WATERMARK_COLUMNS if any(c.name == m for c in columns)), None)


def _export_table(db: Database, table: str, columns: list[Column], since: datetime | None, request: ExportRequest,
                  destination: Destination, started: datetime) -> TableExport:
    mark = watermark_column(columns)
    sql, params = _select(db, table, columns, mark, since, request)
    folder = Path(destination.directory) / table.replace(".", "_", 1)
    stream = db.stream(sql, params, size=BATCH)
    try:
        rows, newest, path = write_file(stream, columns, mark, request.format, folder, started)
    finally:
        getattr(stream, "close", lambda: None)()  # PostgreSQL: end the cursor's transaction now, not at GC
    note = "" if mark else "whole table: it has no updated_at"
    if not rows or mark is None or newest is None:
        return TableExport(table, rows, str(path) if path else None, since, None, note)
    watermark = min(newest, started - SETTLE)
    watermarks.store(db, table, destination, watermark, exported_at=started, rows=rows, file=str(path))
    return TableExport(table, rows, str(path), since, watermark, note)


def _since(db: Database, table: str, columns: Sequence[Column], since: Since, destination: Destination,
           started: datetime) -> datetime | None:
    """The time after which rows are exported: the stored watermark for `last`, the given time, or None."""
    if watermark_column(columns) is None or since is None:
        return None
    if since != "last":
        return since
    stored = watermarks.read(db, table, destination)
    if stored is not None and stored > started:
        raise AfcError(f"export: {table}: the watermark for {destination.directory} ({destination.format}) is "
                       f"{stored:%Y-%m-%dT%H:%M:%SZ}, in the future (has the clock gone back?); "
                       "export without --since to start again")
    return stored
