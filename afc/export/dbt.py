"""The dbt `sources.yml` for afc's core and mart tables, generated from the schema so it cannot drift.

    python -m afc.export.dbt > contrib/dbt/sources.yml

It reads a freshly migrated database through the same catalog functions `afc export` uses (tables and
columns from the catalog, types from the PostgreSQL migrations); tests/test_export_dbt.py regenerates
it on both backends and compares it with the checked-in file. One source per layer: on PostgreSQL it
names the schema; with dbt-duckdb, `meta.external_location` points at the files `afc export` writes
(`AFC_EXPORT_DIR`, default `export`).
"""

from __future__ import annotations

import sys
from typing import Any

import yaml

from afc.db import Database, catalog
from afc.export.run import EXPORTED_LAYERS, watermark_column
from afc.mcp.schema import DESCRIPTIONS

HEADER = ("# Generated from afc's migrations by `python -m afc.export.dbt`; do not edit by hand\n"
          "# (tests/test_export_dbt.py fails when the schema and this file differ).\n")
LAYER_DESCRIPTIONS = {
    "core": "afc's business model: API-Football items normalised, one row per entity, timestamps in UTC.",
    "mart": "afc's dashboard tables, kept current with core in the same transaction.",
}
LOCATION = "{{{{ env_var('AFC_EXPORT_DIR', 'export') }}}}/{layer}_{{name}}/*.parquet"


def sources(db: Database) -> dict[str, Any]:
    """The sources document for every core and mart table of a migrated database."""
    return {"version": 2, "sources": [_source(db, layer) for layer in EXPORTED_LAYERS]}


def _source(db: Database, layer: str) -> dict[str, Any]:
    tables = [name for name, _ in catalog.tables(db, (layer,))]
    return {"name": f"afc_{layer}", "description": LAYER_DESCRIPTIONS[layer], "schema": layer,
            "meta": {"external_location": LOCATION.format(layer=layer)},
            "tables": [_table(db, table) for table in tables]}


def _table(db: Database, table: str) -> dict[str, Any]:
    columns = catalog.columns(db, table)
    entry: dict[str, Any] = {"name": table.partition(".")[2], "description": DESCRIPTIONS.get(table, "")}
    mark = watermark_column(columns)
    if mark:
        entry["loaded_at_field"] = mark
    entry["columns"] = [_column(c, single_key=sum(x.primary_key for x in columns) == 1) for c in columns]
    return entry


def _column(column: catalog.Column, *, single_key: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": column.name, "data_type": column.type}
    if column.primary_key:
        entry["data_tests"] = ["not_null", "unique"] if single_key else ["not_null"]
    return entry


def render(db: Database) -> str:
    """sources.yml as text."""
    return HEADER + yaml.safe_dump(sources(db), sort_keys=False, width=1000, allow_unicode=True)


def main() -> None:
    """Print sources.yml for the schema this afc ships (an in-memory SQLite database, migrated)."""
    from afc.db import connect
    from afc.db.migrate import migrate

    db = connect("sqlite:///:memory:")
    migrate(db)
    sys.stdout.write(render(db))


if __name__ == "__main__":
    main()
