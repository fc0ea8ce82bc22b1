"""The export watermarks (ops.export_watermarks): how far each table went to each destination."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from afc.db import Database, as_datetime

READ = """
SELECT watermark FROM ops.export_watermarks
WHERE table_name = %(table)s AND destination = %(destination)s AND format = %(format)s AND scope = %(scope)s"""
STORE = """
INSERT INTO ops.export_watermarks (table_name, destination, format, scope, watermark, exported_at, rows, file)
VALUES (%(table)s, %(destination)s, %(format)s, %(scope)s, %(watermark)s, %(exported_at)s, %(rows)s, %(file)s)
ON CONFLICT (table_name, destination, format, scope) DO UPDATE SET
    watermark = excluded.watermark, exported_at = excluded.exported_at, rows = excluded.rows, file = excluded.file"""


@dataclass(frozen=True)
class Destination:
    """Where a table's rows go: a directory and a format, narrowed by league and season (`scope`)."""

    directory: str
    format: str
    scope: str

    def key(self, table: str) -> dict[str, str]:
        """The watermark's key columns for `table`."""
        return {"table": table, "destination": self.directory, "format": self.format, "scope": self.scope}


def read(db: Database, table: str, destination: Destination) -> datetime | None:
    """The stored watermark of `table` at `destination`; None before its first export there."""
    row = db.fetchone(READ, destination.key(table))
    return as_datetime(row[0]) if row else None


def store(db: Database, table: str, destination: Destination, watermark: datetime, *, exported_at: datetime,
          rows: int, file: str) -> None:
    """Record how far `table` went to `destination` (after its file is in place)."""
    with db.transaction():
        db.execute(STORE, destination.key(table) | {"watermark": watermark, "exported_at": exported_at,
                                                     "rows": rows, "file": file})
